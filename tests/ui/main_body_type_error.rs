// A body that does not match the declared return type is reported on the body.
#[coro::main]
async fn main() -> Result<(), std::io::Error> {
    let _n: u32 = "7".parse()?;
    Ok(())
}
