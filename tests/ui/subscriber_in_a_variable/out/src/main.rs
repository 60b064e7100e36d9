use tracing_subscriber::prelude::*;

mod otel;

fn main() {
    let _otel = otel::init_providers();
    let _run = otel::run_span();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer())
        .with(otel::layers());
    tracing::subscriber::set_global_default(subscriber).expect("set the subscriber");
    tracing::info!("ready");
}
