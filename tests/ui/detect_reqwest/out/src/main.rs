mod otel;

#[tokio::main]
async fn main() -> Result<(), reqwest::Error> {
    let _otel = otel::init();
    let _run = otel::run_span();
    otel::main_result(main_body().await)
}

async fn main_body() -> Result<(), reqwest::Error> {
    let body = reqwest::Client::new()
        .get("https://www.rust-lang.org")
        .send()
        .await?
        .text()
        .await?;
    println!("{body}");
    Ok(())
}
