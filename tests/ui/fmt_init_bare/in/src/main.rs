fn main() {
    // RUST_LOG, else info: tracing-subscriber without `env-filter`.
    tracing_subscriber::fmt::init();
    tracing::info!("ready");
}
