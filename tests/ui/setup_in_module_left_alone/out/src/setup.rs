pub fn logging() {
    flexi_logger::Logger::try_with_str("info")
        .unwrap()
        .start()
        .unwrap();
}
