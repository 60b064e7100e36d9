mod otel;

use tracing_subscriber::{layer::SubscriberExt as _, util::SubscriberInitExt as _};

fn main() {
    let _otel = otel::init_providers();
    let _run = otel::run_span();
    setup_logging();
    tracing::info!("ready");
}

fn setup_logging() {
    tracing_subscriber::fmt()
        .with_target(false)
        .finish()
        .with(otel::fmt_layers())
        .init();
}
