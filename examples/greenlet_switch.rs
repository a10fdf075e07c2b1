//! greenlet's `switch`: two coroutines handing control to each other
//! explicitly, printing 12, 56, 34, 78.
//!
//! The Python lesson:
//!
//! ```python
//! from greenlet import greenlet
//!
//! def test1():
//!     print(12)
//!     gr2.switch()
//!     print(34)
//!
//! def test2():
//!     print(56)
//!     gr1.switch()
//!     print(78)
//!
//! gr1 = greenlet(test1)
//! gr2 = greenlet(test2)
//! gr1.switch()
//! ```
//!
//! **What greenlet prints is 12, 56, 34: never 78.** When `test1` returns,
//! gr1 is finished and control goes to its *parent* (the main greenlet),
//! which runs off the end of the script. Nobody switches to gr2 again, so it
//! stays suspended inside `gr1.switch()` until it is garbage collected
//! (greenlet then raises `GreenletExit` in it, which ends it quietly).
//!
//! A greenlet is *stackful*: it has its own C stack, and `switch()` jumps
//! from any depth of calls straight into the other greenlet. coro's
//! coroutines are *stackless*: each is an `async` state machine that can
//! only suspend at an `.await` in its own body, and it cannot jump into
//! another coroutine; it returns to whoever polled it and says where to go
//! next. So the switch needs a driver, and this example shows two:
//!
//! * `--mode gen` (default): each greenlet is a `coro::gen::Gen` that yields
//!   the id of the greenlet to switch to; a five-line loop (the "hub")
//!   resumes that one. No runtime, one thread.
//! * `--mode tasks`: each greenlet is a task, and `switch` passes a baton
//!   over a rendezvous channel (`mpsc::channel(0)`) and waits for it to come
//!   back. The tasks may run on different cores; the baton keeps them in
//!   step.
//!
//! In both, the driver plays the parent. When gr1 finishes, control comes
//! back to it, and here the parent **drives every coroutine to completion**
//! (the hub resumes the one still suspended; the task version switches to
//! gr2 and joins it), so gr2 resumes after its `switch` and prints 78.
//! `--like-greenlet 1` makes the parent stop when gr1 finishes, as greenlet
//! does: gr2 is dropped where it is suspended (coro's cancellation by drop,
//! greenlet's `GreenletExit`) and 78 is never printed.
//!
//! ```text
//! cargo run --example greenlet_switch
//! cargo run --example greenlet_switch -- --mode tasks
//! cargo run --example greenlet_switch -- --like-greenlet 1
//! ```

#[path = "common/args.rs"]
mod args;

use coro::gen::{Co, Gen, GenState};
use coro::sync::mpsc;

const USAGE: &str = "usage: greenlet_switch [--mode gen|tasks (gen)] [--like-greenlet 0|1 (0)]";

const NOT_RESUMED: &str = "gr2 never resumed (dropped while suspended): 78 is not printed";

fn main() {
    let args = args::Args::parse(USAGE);
    let mode: String = args.get("mode", "gen".to_owned());
    let like_greenlet = args.get("like-greenlet", 0u8) != 0;
    match mode.as_str() {
        "gen" => with_generators(like_greenlet),
        "tasks" => coro::Runtime::new()
            .expect("cannot start the runtime")
            .block_on(with_tasks(like_greenlet)),
        _ => {
            eprintln!("--mode: expected gen or tasks, got {mode:?}\n{USAGE}");
            std::process::exit(2);
        }
    }
}

/// A greenlet as a generator: it yields the index of the greenlet to switch to.
type Greenlet = Gen<usize>;

const GR1: usize = 0;
const GR2: usize = 1;

fn test1() -> Greenlet {
    Gen::new(|co: Co<usize>| async move {
        println!("12");
        co.yield_(GR2).await; // gr2.switch()
        println!("34");
    })
}

fn test2() -> Greenlet {
    Gen::new(|co: Co<usize>| async move {
        println!("56");
        co.yield_(GR1).await; // gr1.switch()
        println!("78");
    })
}

/// The hub: resume the current greenlet until it switches or finishes.
fn with_generators(like_greenlet: bool) {
    let mut greenlets: [Option<Greenlet>; 2] = [Some(test1()), Some(test2())];
    let mut current = GR1; // gr1.switch()
    loop {
        let greenlet = greenlets[current]
            .as_mut()
            .expect("switched to a finished greenlet");
        match greenlet.resume(()) {
            // `switch()`: the body returned to us saying where to go.
            GenState::Yielded(target) => current = target,
            // Finished: back to the parent, i.e. this loop.
            GenState::Complete(()) => {
                greenlets[current] = None;
                if like_greenlet {
                    break; // greenlet's parent just carries on (and exits)
                }
                // coro's parent resumes whoever is still suspended.
                match greenlets.iter().position(Option::is_some) {
                    Some(next) => current = next,
                    None => break,
                }
            }
        }
    }
    if greenlets[GR2].is_some() {
        println!("{NOT_RESUMED}");
    }
    // Any greenlet still suspended is dropped here, at its `yield_`.
}

/// The same with two tasks passing a baton over rendezvous channels.
async fn with_tasks(like_greenlet: bool) {
    let (gr1_baton, gr1_wait) = mpsc::channel::<()>(0);
    let (gr2_baton, gr2_wait) = mpsc::channel::<()>(0);

    let gr1 = coro::spawn({
        let gr2_baton = gr2_baton.clone();
        async move {
            gr1_wait.recv().await; // not started until switched to
            println!("12");
            gr2_baton.send(()).await.unwrap(); // gr2.switch(): hand over...
            gr1_wait.recv().await; // ...and wait until switched back to
            println!("34");
        }
    });
    let gr2 = coro::spawn({
        let gr1_baton = gr1_baton.clone();
        async move {
            gr2_wait.recv().await;
            println!("56");
            gr1_baton.send(()).await.unwrap(); // gr1.switch()
            gr2_wait.recv().await;
            println!("78");
        }
    });

    gr1_baton.send(()).await.unwrap(); // gr1.switch()
    gr1.await.expect("gr1 panicked"); // gr1 finished: the parent has control
    if like_greenlet {
        gr2.abort(); // dropped at its `recv().await`
        assert!(gr2.await.unwrap_err().is_cancelled());
        println!("{NOT_RESUMED}");
    } else {
        gr2_baton.send(()).await.unwrap(); // switch to gr2 once more...
        gr2.await.expect("gr2 panicked"); // ...and join it
    }
}
