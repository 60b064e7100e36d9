mod otel;

fn main() {
    env_logger::Builder::from_default_env()
        .format_timestamp(None)
        .init();
    let _otel = otel::init_without_console();
    log::info!("ready");
}
