#[coro::main]
struct App;

fn main() {}
