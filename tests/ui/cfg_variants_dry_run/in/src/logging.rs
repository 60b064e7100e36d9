#[cfg(feature = "json")]
pub fn init_log() {
    tracing_subscriber::fmt().json().init();
}

#[cfg(not(feature = "json"))]
pub fn init_log() {
    tracing_subscriber::FmtSubscriber::builder()
        .with_target(false)
        .init();
}
