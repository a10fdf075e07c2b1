// Every mistake is reported at once, not one per compile.
#[coro::main(flavor = "single_thread", workers = 2)]
fn main() {}
