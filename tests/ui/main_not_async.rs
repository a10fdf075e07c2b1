#[coro::main]
fn main() {}
