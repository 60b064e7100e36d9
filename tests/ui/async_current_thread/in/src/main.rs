mod clock;
mod config;

use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // Tick once.
    tokio::time::sleep(Duration::from_millis(1)).await;
    clock::tick(config::load());
}
