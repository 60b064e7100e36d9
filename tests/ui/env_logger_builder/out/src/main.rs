mod otel;

fn main() {
    let _otel = otel::init_providers();
    let _run = otel::run_span();
    otel::set_env_logger(
        env_logger::Builder::from_default_env()
            .format_timestamp(None)
            .build(),
        |logger| logger.filter(),
    )
    .expect("failed to set the logger");
    log::info!("ready");
}
