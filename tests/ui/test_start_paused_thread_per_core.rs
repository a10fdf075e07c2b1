#[coro::test(flavor = "thread_per_core", start_paused = true)]
async fn virtual_time_per_shard() {}

fn main() {}
