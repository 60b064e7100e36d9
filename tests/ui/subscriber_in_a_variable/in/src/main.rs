use tracing_subscriber::prelude::*;

fn main() {
    let subscriber = tracing_subscriber::registry().with(tracing_subscriber::fmt::layer());
    tracing::subscriber::set_global_default(subscriber).expect("set the subscriber");
    tracing::info!("ready");
}
