pub fn init() {
    tracing_subscriber::fmt().json().init();
}
