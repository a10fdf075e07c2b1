// A body that does not match the declared return type is reported on the body.
#[coro::main]
async fn main() -> Result<(), std::io::Error> {
    let answer: u32 = 42;
    Ok(answer)
}
