fn main() {
    env_logger::Builder::from_default_env()
        .format_timestamp(None)
        .init();
    log::info!("ready");
}
