//! The generator and sync lessons as example binaries: `producer_consumer`,
//! `producer_consumer_tasks`, `round_robin`, `greenlet_switch` and `pool`,
//! run and checked line by line. Their output is deterministic by design
//! (hand-offs, not timing, order the lines), so every line is compared.

mod common;
use common::run_example;

/// What the Python producer/consumer prints for products `1..=count`.
fn producer_consumer_lines(count: u32) -> String {
    (1..=count)
        .map(|n| {
            format!(
                "[PRODUCER] Producing {n}...\n\
                 [CONSUMER] Consuming {n}...\n\
                 [PRODUCER] Consumer return: 200 OK\n"
            )
        })
        .collect()
}

#[test]
fn producer_consumer_prints_the_generator_conversation() {
    assert_eq!(
        run_example("producer_consumer", &[]),
        producer_consumer_lines(5)
    );
    assert_eq!(
        run_example("producer_consumer", &["--count", "2"]),
        producer_consumer_lines(2)
    );
}

#[test]
fn producer_consumer_tasks_prints_the_same_conversation() {
    assert_eq!(
        run_example("producer_consumer_tasks", &[]),
        producer_consumer_lines(5)
    );
    assert_eq!(
        run_example("producer_consumer_tasks", &["--count", "7"]),
        producer_consumer_lines(7)
    );
    assert_eq!(
        run_example("producer_consumer_tasks", &["--count", "0"]),
        ""
    );
}

#[test]
fn round_robin_interleaves_the_generators() {
    assert_eq!(
        run_example("round_robin", &[]),
        "A 0\nB 0\nA 1\nB 1\nA 2\nB 2\n"
    );
    // A shorter generator drops out; the others carry on in turn.
    assert_eq!(
        run_example("round_robin", &["--steps", "3,1,4"]),
        "A 0\nB 0\nC 0\nA 1\nC 1\nA 2\nC 2\nC 3\n"
    );
}

#[test]
fn greenlet_switch_prints_12_56_34_78() {
    assert_eq!(run_example("greenlet_switch", &[]), "12\n56\n34\n78\n");
    assert_eq!(
        run_example("greenlet_switch", &["--mode", "tasks"]),
        "12\n56\n34\n78\n"
    );
    // What greenlet itself does: gr1 finishes, its parent carries on, gr2 is never resumed.
    let like_greenlet = "12\n56\n34\n\
                         gr2 never resumed (dropped while suspended): 78 is not printed\n";
    for mode in ["gen", "tasks"] {
        assert_eq!(
            run_example("greenlet_switch", &["--mode", mode, "--like-greenlet", "1"]),
            like_greenlet,
            "--mode {mode}"
        );
    }
}

#[test]
fn pool_bounds_concurrency_keeps_order_and_pairs_queue_lines() {
    let out = run_example("pool", &[]);
    let mut expected = String::from("Pool(5).map(square, range(10)):\n");
    for n in 0..10 {
        expected += &format!("job {n}: {n} * {n} = {}\n", n * n);
    }
    expected += "max running at once: 5\n";
    expected += "ThreadPoolExecutor().map(count_primes, [10000, 20000, 40000, 80000]):\n";
    for (limit, count) in [(10000, 1229), (20000, 2262), (40000, 4203), (80000, 7837)] {
        expected += &format!("primes below {limit}: {count}\n");
    }
    expected += "Manager().Queue(): write \"helloword\", read it back:\n";
    for c in "helloword".chars() {
        expected += &format!("Put {c} to queue...\nGet {c} from queue.\n");
    }
    assert_eq!(out, expected);

    // Fewer workers than jobs: the bound is the worker count; more: every job at once.
    let out = run_example(
        "pool",
        &["--jobs", "7", "--workers", "3", "--sleep-ms", "0"],
    );
    assert!(
        out.contains("\njob 6: 6 * 6 = 36\nmax running at once: 3\n"),
        "{out}"
    );
    let out = run_example("pool", &["--jobs", "4", "--workers", "8", "--text", "ab"]);
    assert!(out.contains("\nmax running at once: 4\n"), "{out}");
    assert!(
        out.ends_with(
            "Put a to queue...\nGet a from queue.\nPut b to queue...\nGet b from queue.\n"
        ),
        "{out}"
    );
}
