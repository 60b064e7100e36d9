use log::Log;

pub(crate) struct Logger(());

const LOGGER: &Logger = &Logger(());

impl Logger {
    pub(crate) fn init() -> Result<(), log::SetLoggerError> {
        log::set_logger(LOGGER)
    }
}

impl Log for Logger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        eprintln!("{}|{}", record.level(), record.args());
    }

    fn flush(&self) {}
}
