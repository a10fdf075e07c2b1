#[coro::test]
async fn with_arguments(value: u32) {
    assert_eq!(value, 1);
}

fn main() {}
