//! Reaping children nobody waits for any more.
//!
//! A `Child` dropped before its process exited must still be `waitpid`ed,
//! or the process stays a zombie until the parent exits. tokio keeps such
//! orphans in a queue that its signal driver drains on `SIGCHLD`; coro
//! hands them to one reaper thread instead, started by the first orphan.
//! The thread runs a current-thread coro runtime with its own reactor and
//! one small task per orphan that awaits the exit through an
//! [`ExitWatcher`] (a pidfd or `SIGCHLD`), so it costs nothing while no
//! child is orphaned and never blocks in `waitpid` (it must not steal
//! the status of a child someone else is still waiting for, so it never
//! calls `waitpid(-1)`).
//!
//! The reaper owns the orphan from then on, so it works the same whether
//! the `Child` was dropped in a coro runtime that is shutting down, on a
//! plain thread, or under another executor.

use std::future::poll_fn;
use std::process::Child;
use std::sync::OnceLock;
use std::time::Duration;

use coro_reactor::Reactor;
use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;

use super::exit::ExitWatcher;

static REAPER: OnceLock<UnboundedSender<Child>> = OnceLock::new();

/// Takes ownership of a child that may still be running, to reap it when
/// it exits.
pub(crate) fn adopt(child: Child) {
    let reaper = REAPER.get_or_init(start);
    // A send fails only if the reaper thread could not start; it said so
    // on stderr, and the child will be reaped when this process exits.
    let _ = reaper.unbounded_send(child);
}

fn start() -> UnboundedSender<Child> {
    let (orphans, receiver) = unbounded();
    let started = std::thread::Builder::new()
        .name("coro-reaper".into())
        .spawn(move || reap(receiver));
    if let Err(error) = started {
        eprintln!(
            "coro::process: cannot start the reaper thread; dropped children stay zombies: {error}"
        );
    }
    orphans
}

fn reap(mut orphans: UnboundedReceiver<Child>) {
    let runtime = Reactor::new().and_then(|reactor| {
        coro_core::runtime::Builder::new()
            .current_thread()
            .thread_name("coro-reaper")
            .park(reactor)
            .build()
    });
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("coro::process: cannot start the reaper's runtime; dropped children stay zombies: {error}");
            return;
        }
    };
    runtime.block_on(async move {
        while let Some(child) = orphans.next().await {
            drop(coro_core::spawn(reap_one(child)));
        }
    });
}

async fn reap_one(mut child: Child) {
    loop {
        match ExitWatcher::new(child.id()) {
            Ok(mut watcher) => {
                // An error here means the child was reaped already (by
                // someone's `waitpid(-1)`): nothing left to do either way.
                let _ = poll_fn(|cx| watcher.poll_wait(cx, || child.try_wait())).await;
                return;
            }
            // Out of descriptors, most likely: look again in a while.
            Err(_) => {
                if !matches!(child.try_wait(), Ok(None)) {
                    return;
                }
                crate::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
