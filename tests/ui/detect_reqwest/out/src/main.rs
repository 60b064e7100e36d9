mod otel;

#[tokio::main]
async fn main() -> Result<(), reqwest::Error> {
    let _otel = otel::init();
    let _run = otel::run_span();
    let body = reqwest::Client::new()
        .get("https://www.rust-lang.org")
        .send()
        .await?
        .text()
        .await?;
    println!("{body}");
    Ok(())
}
