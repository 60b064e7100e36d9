pub(crate) fn parse() {
    if let Err(err) = crate::logger::Logger::init() {
        eprintln!("failed to initialize logger: {err}");
    }
    log::set_max_level(log::LevelFilter::Debug);
}
