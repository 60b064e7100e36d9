use tracing_subscriber::{layer::SubscriberExt, Registry};

fn main() {
    tracing::subscriber::set_global_default(
        Registry::default().with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)),
    )
    .expect("set the subscriber");
    tracing::info!("ready");
}
