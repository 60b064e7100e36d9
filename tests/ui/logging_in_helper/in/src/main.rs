fn main() {
    setup_logging();
    tracing::info!("ready");
}

fn setup_logging() {
    tracing_subscriber::fmt().with_target(false).init();
}
