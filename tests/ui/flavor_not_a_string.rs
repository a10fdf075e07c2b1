#[coro::test(flavor = current_thread)]
async fn flavor_is_a_path() {}

fn main() {}
