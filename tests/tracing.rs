//! The `tracing` feature: a span per task and events for spawn,
//! completion, panic, cancellation and watchdog reports, checked on
//! tracing-subscriber's fmt output.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Collects everything the fmt subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

fn lines_with<'a>(output: &'a str, needle: &str) -> Vec<&'a str> {
    output
        .lines()
        .filter(|line| line.contains(needle))
        .collect()
}

#[test]
fn task_lifecycle_and_watchdog_events_carry_the_task_span() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    // Global: watchdog reports come from the monitor thread too. (This
    // binary has this one test, so nothing else sees the subscriber.)
    tracing::subscriber::set_global_default(subscriber).unwrap();
    {
        let rt = coro::Runtime::builder()
            .current_thread()
            .blocking_threshold(Duration::from_millis(30))
            .on_blocking(|_| {})
            .build()
            .unwrap();
        rt.block_on(async {
            let conn = coro::task::Builder::new().name("conn").spawn(async {
                tracing::info!("inside conn");
                coro::yield_now().await;
            });
            conn.await.unwrap();
            let boom = coro::task::Builder::new()
                .name("boom")
                .spawn(async { panic!("expected in this test") });
            assert!(boom.await.unwrap_err().is_panic());
            let stuck = coro::task::Builder::new()
                .name("stuck")
                .spawn(std::future::pending::<()>());
            coro::yield_now().await;
            stuck.abort();
            assert!(stuck.await.unwrap_err().is_cancelled());
            coro::task::Builder::new()
                .name("sleepy")
                .spawn(async { std::thread::sleep(Duration::from_millis(200)) })
                .await
                .unwrap();
        });
    }
    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The user's own event inside the task carries the task's span.
    let inside = lines_with(&output, "inside conn");
    assert_eq!(inside.len(), 1, "{output}");
    assert!(
        inside[0].contains("task{") && inside[0].contains("task.name=\"conn\""),
        "{output}"
    );
    assert!(inside[0].contains("tests/tracing.rs"), "{output}");
    for (name, event) in [
        ("conn", "spawn"),
        ("conn", "complete"),
        ("boom", "panic"),
        ("stuck", "cancel"),
    ] {
        let found = output
            .lines()
            .any(|line| line.contains(&format!("task.name=\"{name}\"")) && line.ends_with(event));
        assert!(found, "no `{event}` event for {name}:\n{output}");
    }
    // The sleepy task's two reports, in order, as WARN events.
    let watchdog: Vec<_> = lines_with(&output, "coro::watchdog")
        .into_iter()
        .filter(|line| line.contains("\"sleepy\""))
        .collect();
    assert_eq!(watchdog.len(), 2, "{output}");
    assert!(
        watchdog.iter().all(|line| line.contains("WARN")),
        "{output}"
    );
    assert!(
        watchdog[0].contains("finished=false") && watchdog[0].contains("is blocking"),
        "{output}"
    );
    assert!(watchdog[1].contains("finished=true"), "{output}");
}
