mod otel;

#[tokio::main]
async fn main() {
    let _otel = otel::init();
    let _run = otel::run_span();
    println!("Hello, world!");
}
