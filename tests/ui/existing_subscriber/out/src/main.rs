use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

mod otel;

fn main() {
    let _otel = otel::init_providers();
    let _run = otel::run_span();
    tracing_subscriber::registry()
        .with(EnvFilter::from_default_env())
        .with(tracing_subscriber::fmt::layer())
        .with(otel::unfiltered_layers())
        .init();
    tracing::info!("ready");
}
