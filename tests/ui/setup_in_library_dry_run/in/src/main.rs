use newsletter::telemetry::{get_subscriber, init_subscriber};

fn main() {
    let subscriber = get_subscriber("newsletter".into(), "info".into());
    init_subscriber(subscriber);
    tracing::info!("ready");
}
