struct App;

impl App {
    #[coro::main]
    async fn run(&self) {}
}

fn main() {
    let _ = App;
}
