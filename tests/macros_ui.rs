//! Compile-fail tests of `#[coro::main]` and `#[coro::test]`: every misuse must be a compile
//! error with a clear message. The expected messages are the `tests/ui/*.stderr` snapshots;
//! after a deliberate change to a message, regenerate them with
//! `TRYBUILD=overwrite cargo test -p coro --test macros_ui` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
