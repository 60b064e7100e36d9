use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

mod otel;

fn main() {
    let otel = otel::init_providers();
    tracing_subscriber::registry()
        .with(EnvFilter::from_default_env())
        .with(tracing_subscriber::fmt::layer())
        .with(otel.layers())
        .init();
    tracing::info!("ready");
}
