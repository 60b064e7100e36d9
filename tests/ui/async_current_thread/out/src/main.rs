mod clock;
mod config;
mod otel;

use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _otel = otel::init();
    let _run = otel::run_span();
    // Tick once.
    tokio::time::sleep(Duration::from_millis(1)).await;
    clock::tick(config::load());
}
