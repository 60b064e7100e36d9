use tracing_subscriber::{layer::SubscriberExt, Registry};

mod otel;

fn main() {
    let _otel = otel::init_providers();
    let _run = otel::run_span();
    tracing::subscriber::set_global_default(
        Registry::default()
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .with(otel::layers()),
    )
    .expect("set the subscriber");
    tracing::info!("ready");
}
