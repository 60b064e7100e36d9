use tracing_subscriber::EnvFilter;

use tracing_subscriber::{layer::SubscriberExt as _, util::SubscriberInitExt as _};

mod otel;

fn main() -> anyhow::Result<()> {
    let _otel = otel::init_providers();
    let _run = otel::run_span();
    otel::main_result(main_body())
}

fn main_body() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_target(false)
        .finish()
        .with(otel::fmt_layers())
        .try_init()
        .map_err(anyhow::Error::msg)?;
    tracing::info!("ready");
    Ok(())
}
