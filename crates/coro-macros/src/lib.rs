//! The `#[coro::main]` and `#[coro::test]` attribute macros of the coro runtime.
//!
//! Use them through the `coro` crate (`#[coro::main]`, `#[coro::test]`), not from this crate
//! directly: the code they generate names items of `coro` by absolute path
//! (`::coro::Runtime::builder()`), so `coro` must be a dependency of the crate that uses them.
//!
//! Both macros turn an `async fn` into an ordinary function that builds a coro runtime and runs
//! the body of the `async fn` on it with `block_on`, the way Python's `asyncio.run(main())` runs
//! a coroutine:
//!
//! ```
//! #[coro::main]
//! async fn main() {
//!     println!("hello from a coro task");
//! }
//! ```
//!
//! expands to (roughly)
//!
//! ```
//! fn main() {
//!     async fn body() {
//!         println!("hello from a coro task");
//!     }
//!     let rt = ::coro::Runtime::builder()
//!         .build()
//!         .expect("coro: failed to build the runtime");
//!     rt.block_on(body())
//! }
//! ```
//!
//! The body stays in an `async fn` with the declared return type, so it is type-checked, and
//! its errors are reported, exactly as in any `async fn`.
#![warn(missing_docs, rust_2018_idioms)]
// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo feature
// are then labelled with the feature that enables them.
#![cfg_attr(docsrs, feature(doc_cfg))]
// The expansion shown above must spell out `fn main` to be what the macro writes.
#![allow(clippy::needless_doctest_main)]

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, Error, Expr, ExprLit, FnArg, Ident, ItemFn, Lit, Meta, Pat, PatIdent, Token};

/// Runs an `async fn main` on a coro runtime.
///
/// The function becomes a plain `fn` that builds a `coro::Runtime` and drives the body of the
/// `async fn` to completion with `block_on`. The body may `.await`, `coro::spawn` tasks, use
/// `return` and `?`, and the function keeps its attributes, visibility and return type, so
/// `async fn main() -> Result<(), Box<dyn std::error::Error>>` works as it does for a plain
/// `main`.
///
/// By default the runtime is the multi-thread one with one worker thread per CPU core.
///
/// # Arguments
///
/// - `flavor = "multi_thread"` (the default) or `flavor = "current_thread"`: the current-thread
///   runtime runs every task on the thread that called `main`, like a Python event loop.
/// - `flavor = "thread_per_core"`: one event loop per core (`Builder::thread_per_core`), each
///   shard with its own scheduler and reactor and no work stealing. `main`'s body runs on the
///   calling thread, which is not a shard: tasks it spawns go to the shards in turn; use
///   `coro::runtime::Handle::current().spawn_on_each_shard(..)` to start work on every shard.
/// - `worker_threads = N` (`N >= 1`): the number of worker threads of the multi-thread runtime,
///   or of shards of the thread-per-core one. It cannot be combined with
///   `flavor = "current_thread"`.
///
/// The macro may also be put on an `async fn` that is not called `main`; it then becomes a
/// blocking function that runs its body on a fresh runtime each time it is called. `main`
/// itself cannot take arguments.
///
/// # Examples
///
/// ```
/// #[coro::main]
/// async fn main() {
///     let answer = coro::spawn(async { 6 * 7 }).await.unwrap();
///     println!("{answer}");
/// }
/// ```
///
/// A single-threaded event loop, and `?` in the body:
///
/// ```
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let n: u32 = "42".parse()?;
///     println!("{n}");
///     Ok(())
/// }
/// ```
///
/// Four worker threads, whatever the number of cores:
///
/// ```
/// #[coro::main(worker_threads = 4)]
/// async fn main() {
///     // ...
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(args.into(), item.into(), Kind::Main).into()
}

/// Runs an `async fn` test on a coro runtime.
///
/// The function becomes a `#[test]` function that builds a fresh `coro::Runtime` and drives
/// the body with `block_on`. Other attributes such as `#[should_panic]` or `#[ignore]` are
/// kept, and a test may return `Result<(), E>` like any Rust test.
///
/// By default the runtime is the current-thread one: every task of the test runs on the test's
/// own thread, so tests are deterministic and do not compete for cores with each other.
///
/// # Arguments
///
/// - `flavor = "current_thread"` (the default), `flavor = "multi_thread"` or
///   `flavor = "thread_per_core"` (see `#[coro::main]`).
/// - `worker_threads = N` (`N >= 1`): the number of worker threads (or shards); it needs
///   `flavor = "multi_thread"` or `"thread_per_core"`. Without it there is one per core.
///
/// Test functions cannot take arguments, and must not carry a `#[test]` attribute of their own
/// (`#[coro::test]` adds it).
///
/// - `start_paused = true`: virtual time. The runtime's clock starts paused, and whenever the
///   runtime is idle it jumps to the next timer, so sleeps complete at once and in deadline
///   order while `coro::time::Instant::now()` moves by exactly the time slept (see
///   `coro::time::pause`). Works with the current-thread and multi-thread flavors; the
///   thread-per-core one, whose shards each have their own clock, refuses it.
///
/// # Examples
///
/// In an integration test or a `#[cfg(test)]` module:
///
/// ```no_run
/// #[coro::test]
/// async fn spawned_task_returns_its_value() {
///     let value = coro::spawn(async { 5 }).await.unwrap();
///     assert_eq!(value, 5);
/// }
///
/// #[coro::test(start_paused = true)]
/// async fn an_hour_passes_at_once() {
///     let start = coro::time::Instant::now();
///     coro::time::sleep(std::time::Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), std::time::Duration::from_secs(3600));
/// }
///
/// #[coro::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn on_two_workers() -> Result<(), Box<dyn std::error::Error>> {
///     let n: u32 = coro::spawn(async { "7".parse::<u32>() }).await??;
///     assert_eq!(n, 7);
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(args.into(), item.into(), Kind::Test).into()
}

/// Which macro is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The attribute as the user writes it, for error messages.
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[coro::main]",
            Kind::Test => "#[coro::test]",
        }
    }

    fn default_flavor(self) -> Flavor {
        match self {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
    ThreadPerCore,
}

struct Config {
    flavor: Flavor,
    worker_threads: Option<usize>,
    start_paused: bool,
}

impl Config {
    fn default_for(kind: Kind) -> Self {
        Config {
            flavor: kind.default_flavor(),
            worker_threads: None,
            start_paused: false,
        }
    }
}

fn valid_args(kind: Kind) -> &'static str {
    match kind {
        Kind::Main => "`flavor` and `worker_threads`",
        Kind::Test => "`flavor`, `worker_threads` and `start_paused`",
    }
}
const VALID_FLAVORS: &str = "`\"current_thread\"`, `\"multi_thread\"` and `\"thread_per_core\"`";

fn entry(args: TokenStream2, item: TokenStream2, kind: Kind) -> TokenStream2 {
    // If something is wrong we still emit a function that is as close as possible to what the
    // user wrote, next to the error: rust-analyzer keeps working on the body and the compiler
    // does not add follow-up errors such as "`main` function not found".
    let input: ItemFn = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(_) => {
            let msg = format!("`{}` can only be applied to an `async fn`", kind.attr());
            return with_error(item, Error::new(Span::call_site(), msg));
        }
    };

    let mut errors: Option<Error> = None;
    let mut push = |e: Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };

    let not_async = input.sig.asyncness.is_none();
    if not_async {
        push(Error::new_spanned(
            input.sig.fn_token,
            format!(
                "the `async` keyword is missing from the function declaration; `{}` runs an \
                 `async fn`: write `async fn {}`",
                kind.attr(),
                input.sig.ident
            ),
        ));
    }

    let is_method = matches!(input.sig.inputs.first(), Some(FnArg::Receiver(_)));
    if let Some(FnArg::Receiver(receiver)) = input.sig.inputs.first() {
        push(Error::new_spanned(
            receiver,
            format!(
                "`{}` cannot be used on a method; put it on a free function",
                kind.attr()
            ),
        ));
    }

    let has_args = !input.sig.inputs.is_empty() && !is_method;
    match kind {
        Kind::Main if has_args && input.sig.ident == "main" => push(Error::new_spanned(
            &input.sig.inputs,
            "the `main` function cannot accept arguments; use `std::env::args()` to read the \
             command line",
        )),
        Kind::Test if has_args => push(Error::new_spanned(
            &input.sig.inputs,
            "test functions cannot accept arguments",
        )),
        _ => {}
    }

    let duplicate_test = match kind {
        Kind::Test => input.attrs.iter().find(|a| is_test_attr(a)),
        Kind::Main => None,
    };
    if let Some(attr) = duplicate_test {
        push(Error::new_spanned(
            attr,
            "duplicate test attribute: `#[coro::test]` already marks the function as a test; \
             remove this `#[test]`",
        ));
    }

    let config = match parse_config(args, kind) {
        Ok(config) => config,
        Err(e) => {
            push(e);
            Config::default_for(kind)
        }
    };

    let Some(errors) = errors else {
        return expand(input, kind, &config);
    };
    let mut input = input;
    if kind == Kind::Main && has_args && input.sig.ident == "main" {
        // A `main` with parameters would add "`main` function has wrong type".
        move_parameters_into_body(&mut input);
    }
    // A broken test is emitted without its `#[test]` marker: the test harness would only add
    // more errors about it (arguments, a second `#[test]`).
    let item = if not_async || is_method {
        // The function is valid as written: keep it as it is.
        input.into_token_stream()
    } else {
        expand(input, Kind::Main, &config)
    };
    with_error(quote!(#[allow(dead_code)] #item), errors)
}

/// Turns `fn main(a: A)` into `fn main() { let a: A = unreachable!(); .. }`, so that the body
/// still type-checks against its parameters while the signature is the one `main` must have.
fn move_parameters_into_body(input: &mut ItemFn) {
    let inputs = std::mem::take(&mut input.sig.inputs);
    let mut stmts: Vec<syn::Stmt> = inputs
        .into_iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(syn::PatType { pat, ty, .. }) => {
                Some(syn::parse_quote!(let #pat: #ty = ::core::unreachable!();))
            }
            FnArg::Receiver(_) => None,
        })
        .collect();
    stmts.append(&mut input.block.stmts);
    input.block.stmts = stmts;
    input
        .attrs
        .push(syn::parse_quote!(#[allow(unreachable_code, unused_variables)]));
}

fn with_error(item: TokenStream2, error: Error) -> TokenStream2 {
    let error = error.to_compile_error();
    quote!(#error #item)
}

/// `#[test]`, `#[core::prelude::v1::test]`, `#[::std::prelude::rust_2021::test]`, ...
fn is_test_attr(attr: &Attribute) -> bool {
    let idents: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let idents: Vec<&str> = idents.iter().map(String::as_str).collect();
    matches!(
        idents.as_slice(),
        ["test"] | ["core" | "std", "prelude", _, "test"]
    )
}

fn parse_config(args: TokenStream2, kind: Kind) -> syn::Result<Config> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;

    let mut errors: Option<Error> = None;
    let mut push = |e: Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let mut flavor: Option<Flavor> = None;
    let mut worker_threads: Option<(usize, &Meta)> = None;
    let mut start_paused: Option<(bool, &Meta)> = None;

    for meta in &metas {
        let name = match meta.path().get_ident() {
            Some(ident) => ident.to_string(),
            None => meta.path().to_token_stream().to_string().replace(' ', ""),
        };
        match name.as_str() {
            "flavor" => {
                if flavor.is_some() {
                    push(Error::new_spanned(
                        meta.path(),
                        "duplicate `flavor` argument",
                    ));
                    continue;
                }
                match parse_flavor(meta) {
                    Ok(f) => flavor = Some(f),
                    Err(e) => push(e),
                }
            }
            "worker_threads" => {
                if worker_threads.is_some() {
                    push(Error::new_spanned(
                        meta.path(),
                        "duplicate `worker_threads` argument",
                    ));
                    continue;
                }
                match parse_worker_threads(meta) {
                    Ok(n) => worker_threads = Some((n, meta)),
                    Err(e) => push(e),
                }
            }
            "start_paused" if kind == Kind::Main => push(Error::new_spanned(
                meta,
                "`start_paused` is for tests: a program's `main` runs on real time; use it \
                 with `#[coro::test(start_paused = true)]`, or pause the clock with \
                 `coro::time::pause()`",
            )),
            "start_paused" => {
                if start_paused.is_some() {
                    push(Error::new_spanned(
                        meta.path(),
                        "duplicate `start_paused` argument",
                    ));
                    continue;
                }
                match parse_bool(meta, "start_paused = true") {
                    Ok(b) => start_paused = Some((b, meta)),
                    Err(e) => push(e),
                }
            }
            _ => push(Error::new_spanned(
                meta.path(),
                format!(
                    "unknown argument `{name}` for `{}`; the valid arguments are {}",
                    kind.attr(),
                    valid_args(kind)
                ),
            )),
        }
    }

    if let Some((_, meta)) = worker_threads {
        match flavor {
            Some(Flavor::CurrentThread) => push(Error::new_spanned(
                meta,
                "`worker_threads` cannot be used with `flavor = \"current_thread\"`: the \
                 current-thread runtime runs every task on the thread that calls `block_on`; \
                 remove `worker_threads` or use `flavor = \"multi_thread\"`",
            )),
            None if kind.default_flavor() == Flavor::CurrentThread => push(Error::new_spanned(
                meta,
                format!(
                    "`worker_threads` needs the multi-thread runtime, and `{}` uses the \
                     current-thread runtime by default; add `flavor = \"multi_thread\"`",
                    kind.attr()
                ),
            )),
            _ => {}
        }
    }

    if let (Some(Flavor::ThreadPerCore), Some((true, meta))) = (flavor, start_paused) {
        push(Error::new_spanned(
            meta,
            "`start_paused` cannot be used with `flavor = \"thread_per_core\"`: each shard has \
             its own clock; test virtual time with `flavor = \"current_thread\"` or \
             `\"multi_thread\"`",
        ));
    }

    match errors {
        Some(e) => Err(e),
        None => Ok(Config {
            flavor: flavor.unwrap_or(kind.default_flavor()),
            worker_threads: worker_threads.map(|(n, _)| n),
            start_paused: start_paused.is_some_and(|(b, _)| b),
        }),
    }
}

/// The value of `name = value`, or an error that shows the expected form.
fn value<'a>(meta: &'a Meta, example: &str) -> syn::Result<&'a Expr> {
    match meta {
        Meta::NameValue(nv) => Ok(&nv.value),
        _ => Err(Error::new_spanned(meta, format!("expected `{example}`"))),
    }
}

fn parse_bool(meta: &Meta, example: &str) -> syn::Result<bool> {
    match value(meta, example)? {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        other => Err(Error::new_spanned(
            other,
            format!("expected `true` or `false`, as in `{example}`"),
        )),
    }
}

fn parse_flavor(meta: &Meta) -> syn::Result<Flavor> {
    match value(meta, "flavor = \"multi_thread\"")? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match s.value().as_str() {
            "current_thread" => Ok(Flavor::CurrentThread),
            "multi_thread" => Ok(Flavor::MultiThread),
            "thread_per_core" => Ok(Flavor::ThreadPerCore),
            other => Err(Error::new_spanned(
                s,
                format!("unknown runtime flavor `{other}`; the valid flavors are {VALID_FLAVORS}"),
            )),
        },
        other => Err(Error::new_spanned(
            other,
            format!("`flavor` must be a string literal; the valid flavors are {VALID_FLAVORS}"),
        )),
    }
}

fn parse_worker_threads(meta: &Meta) -> syn::Result<usize> {
    const EXPECTED: &str = "`worker_threads` must be a positive integer literal, such as \
                            `worker_threads = 4`";
    match value(meta, "worker_threads = 4")? {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<usize>() {
            Ok(0) => Err(Error::new_spanned(
                int,
                "`worker_threads` must be at least 1: a runtime needs a thread to run its tasks",
            )),
            Ok(n) => Ok(n),
            Err(_) => Err(Error::new_spanned(int, EXPECTED)),
        },
        other => Err(Error::new_spanned(other, EXPECTED)),
    }
}

/// The function that builds the runtime and `block_on`s the original body.
///
/// The original function is kept, renamed, as an `async fn` nested in the generated one:
///
/// ```text
/// #[attrs] pub fn name(__coro_arg0: A) -> R {
///     async fn __coro_body(a: A) -> R { BODY }
///     let __coro_rt = ::coro::Runtime::builder()/* flavor */.build().expect(..);
///     __coro_rt.block_on(__coro_body(__coro_arg0))
/// }
/// ```
///
/// Keeping the body in an `async fn` with the declared return type (rather than in an
/// `async move` block, whose output type is only inferred) means the compiler checks the body
/// exactly as it checks any `async fn`: `return` and `?` work, `?` and `.into()` take their
/// target type from the declared one, and a wrong type is reported on the offending
/// expression, not on the macro.
fn expand(input: ItemFn, kind: Kind, config: &Config) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = input;

    // Hygienic names: the user's body cannot see or shadow them.
    let rt = Ident::new("__coro_rt", Span::mixed_site());
    let body = Ident::new("__coro_body", Span::mixed_site());

    // The outer function: not async, and its parameters bound to plain names to pass on (the
    // patterns of the original parameters stay on the inner function).
    let mut outer = sig.clone();
    outer.asyncness = None;
    let mut args = Vec::new();
    for (i, arg) in outer.inputs.iter_mut().enumerate() {
        if let FnArg::Typed(param) = arg {
            let name = Ident::new(&format!("__coro_arg{i}"), Span::mixed_site());
            param.attrs.clear();
            *param.pat = Pat::Ident(PatIdent {
                attrs: Vec::new(),
                by_ref: None,
                mutability: None,
                ident: name.clone(),
                subpat: None,
            });
            args.push(name);
        }
    }

    let mut inner = sig;
    inner.ident = body.clone();
    inner.abi = None;
    let mut call = quote!(#body(#(#args),*));
    if inner.unsafety.is_some() {
        call = quote!(unsafe { #call });
    }

    let mut builder = quote!(::coro::Runtime::builder());
    match config.flavor {
        Flavor::CurrentThread => builder = quote!(#builder.current_thread()),
        Flavor::ThreadPerCore => builder = quote!(#builder.thread_per_core()),
        Flavor::MultiThread => {}
    }
    if let Some(n) = config.worker_threads {
        builder = quote!(#builder.worker_threads(#n));
    }
    if config.start_paused {
        builder = quote!(#builder.start_paused(true));
    }

    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };

    quote! {
        #test_attr
        #(#attrs)*
        #vis #outer {
            #[allow(clippy::unused_async)]
            #inner #block
            #[allow(clippy::expect_used)]
            let #rt = #builder.build().expect("coro: failed to build the runtime");
            #rt.block_on(#call)
        }
    }
}
