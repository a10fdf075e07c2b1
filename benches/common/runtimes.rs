//! The runtimes every comparison runs on, written once: coro, tokio and smol
//! (async-executor + async-io), each multi-thread on 2 workers and
//! single-thread. Shared by `benches/net.rs` and `bin/bench_report`
//! through `#[path]` (benches and binaries cannot share a module otherwise).
//!
//! * [`Spawner`]: what a scenario does on a runtime (spawn, yield, sleep),
//!   implemented by the handle types [`Coro`], [`Tokio`], [`Smol`]. A file
//!   that needs more (sockets, channels) adds a trait on top of it.
//! * [`Runner`]: builds one runtime and drives a future to completion on it,
//!   as a root task on a worker for the multi-thread ones, so that every
//!   `*_mt` variant does its work on exactly 2 worker threads.
#![allow(dead_code)] // each includer uses a different part

use std::future::Future;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use async_executor::{Executor, LocalExecutor};

/// Worker threads of every multi-thread runtime.
pub const WORKERS: usize = 2;

/// A future that can be spawned: `Send + 'static`, with a `Send` output.
pub trait Task: Future<Output: Send> + Send + 'static {}
impl<F: Future<Output: Send> + Send + 'static> Task for F {}

/// `Future<Output = T> + Send + 'static`, to keep signatures short.
pub trait SendFut<T>: Future<Output = T> + Send + 'static {}
impl<T, F: Future<Output = T> + Send + 'static> SendFut<T> for F {}

/// The task and timer operations a scenario uses, implemented once per
/// runtime. Spawned tasks go to the runtime that runs the scenario.
pub trait Spawner: Clone + Send + Sync + 'static {
    /// Spawns `future`; the returned future resolves to its output.
    fn spawn<F: Task>(&self, future: F) -> impl SendFut<F::Output>;
    /// Spawns `future` and detaches it.
    fn spawn_detached<F: SendFut<()>>(&self, future: F);
    /// The runtime's own `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;
    /// The runtime's own timer; its deadline is fixed by this call.
    fn sleep(duration: Duration) -> impl SendFut<()>;
}

/// coro and tokio: spawn on the ambient runtime; their own yield and sleep.
macro_rules! ambient_spawner {
    ($name:ident, $spawn:path, $yield_now:path, $sleep:path) => {
        #[derive(Clone, Copy)]
        pub struct $name;

        impl Spawner for $name {
            fn spawn<F: Task>(&self, future: F) -> impl SendFut<F::Output> {
                let handle = $spawn(future);
                async move { handle.await.expect("task failed") }
            }
            fn spawn_detached<F: SendFut<()>>(&self, future: F) {
                drop($spawn(future));
            }
            fn yield_now() -> impl Future<Output = ()> + Send {
                $yield_now()
            }
            fn sleep(duration: Duration) -> impl SendFut<()> {
                $sleep(duration)
            }
        }
    };
}

ambient_spawner!(Coro, coro::spawn, coro::yield_now, coro::time::sleep);
ambient_spawner!(
    Tokio,
    tokio::spawn,
    tokio::task::yield_now,
    tokio::time::sleep
);

thread_local! {
    /// The `LocalExecutor` of `smol_local` (the calling thread's).
    static LOCAL_EX: LocalExecutor<'static> = const { LocalExecutor::new() };
}

/// smol: the shared `Executor` of `smol_mt`, or with `None` this thread's
/// `LocalExecutor` (`smol_local`).
#[derive(Clone)]
pub struct Smol(Option<Arc<Executor<'static>>>);

impl Smol {
    fn task<F: Task>(&self, future: F) -> async_executor::Task<F::Output> {
        match &self.0 {
            Some(ex) => ex.spawn(future),
            None => LOCAL_EX.with(|ex| ex.spawn(future)),
        }
    }
}

impl Spawner for Smol {
    fn spawn<F: Task>(&self, future: F) -> impl SendFut<F::Output> {
        self.task(future)
    }
    fn spawn_detached<F: SendFut<()>>(&self, future: F) {
        self.task(future).detach();
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
    fn sleep(duration: Duration) -> impl SendFut<()> {
        let timer = async_io::Timer::after(duration);
        async move {
            timer.await;
        }
    }
}

/// One runtime: built by `new`, drives a future to completion with `run`.
pub trait Runner {
    /// `coro_mt`, `tokio_ct`, `smol_local`, ...
    const NAME: &'static str;
    /// Multi-thread (2 workers) or single-thread.
    const MULTI_THREAD: bool;
    type Spawner: Spawner;
    fn new() -> Self;
    fn spawner(&self) -> Self::Spawner;
    fn run<F: Task>(&self, future: F) -> F::Output;
}

/// coro, multi-thread (`MT`, 2 workers) or current-thread.
pub struct CoroRt<const MT: bool>(coro::Runtime);

impl<const MT: bool> Runner for CoroRt<MT> {
    const NAME: &'static str = if MT { "coro_mt" } else { "coro_ct" };
    const MULTI_THREAD: bool = MT;
    type Spawner = Coro;
    fn new() -> Self {
        let mut builder = coro::Runtime::builder();
        if MT {
            builder.worker_threads(WORKERS);
        } else {
            builder.current_thread();
        }
        CoroRt(builder.build().expect("build coro runtime"))
    }
    fn spawner(&self) -> Coro {
        Coro
    }
    fn run<F: Task>(&self, future: F) -> F::Output {
        if MT {
            let root = self.0.spawn(future);
            self.0.block_on(root).expect("coro root task failed")
        } else {
            self.0.block_on(future)
        }
    }
}

/// tokio, multi-thread (`MT`, 2 workers) or current-thread; I/O and time on.
pub struct TokioRt<const MT: bool>(tokio::runtime::Runtime);

impl<const MT: bool> Runner for TokioRt<MT> {
    const NAME: &'static str = if MT { "tokio_mt" } else { "tokio_ct" };
    const MULTI_THREAD: bool = MT;
    type Spawner = Tokio;
    fn new() -> Self {
        let mut builder = if MT {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(WORKERS);
            b
        } else {
            tokio::runtime::Builder::new_current_thread()
        };
        TokioRt(builder.enable_all().build().expect("build tokio runtime"))
    }
    fn spawner(&self) -> Tokio {
        Tokio
    }
    fn run<F: Task>(&self, future: F) -> F::Output {
        if MT {
            let root = self.0.spawn(future);
            self.0.block_on(root).expect("tokio root task failed")
        } else {
            self.0.block_on(future)
        }
    }
}

/// smol, multi-thread: an `Executor` run by 2 dedicated threads. Each runs
/// it under `async_io::block_on`, so an idle worker drives the reactor (as
/// smol's own global executor does).
pub struct SmolMt {
    ex: Arc<Executor<'static>>,
    /// Dropping this sender stops the worker threads.
    stop: Option<async_channel::Sender<()>>,
    workers: Vec<thread::JoinHandle<Result<(), async_channel::RecvError>>>,
}

impl Runner for SmolMt {
    const NAME: &'static str = "smol_mt";
    const MULTI_THREAD: bool = true;
    type Spawner = Smol;
    fn new() -> Self {
        let ex = Arc::new(Executor::new());
        let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
        let workers = (0..WORKERS)
            .map(|i| {
                let (ex, stop_rx) = (ex.clone(), stop_rx.clone());
                thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(move || async_io::block_on(ex.run(stop_rx.recv())))
                    .expect("spawn smol worker")
            })
            .collect();
        SmolMt {
            ex,
            stop: Some(stop_tx),
            workers,
        }
    }
    fn spawner(&self) -> Smol {
        Smol(Some(self.ex.clone()))
    }
    fn run<F: Task>(&self, future: F) -> F::Output {
        // The calling thread only waits for the root task; it never runs
        // executor tasks itself.
        futures_lite::future::block_on(self.ex.spawn(future))
    }
}

impl Drop for SmolMt {
    fn drop(&mut self) {
        drop(self.stop.take());
        for worker in self.workers.drain(..) {
            worker.join().expect("smol worker panicked").unwrap_err();
        }
    }
}

/// smol, single-thread: this thread's `LocalExecutor`.
pub struct SmolLocal;

impl Runner for SmolLocal {
    const NAME: &'static str = "smol_local";
    const MULTI_THREAD: bool = false;
    type Spawner = Smol;
    fn new() -> Self {
        SmolLocal
    }
    fn spawner(&self) -> Smol {
        Smol(None)
    }
    fn run<F: Task>(&self, future: F) -> F::Output {
        LOCAL_EX.with(|ex| async_io::block_on(ex.run(future)))
    }
}
