#[path = "../otel.rs"]
mod otel;

fn main() {
    let _otel = otel::init();
    suite::run();
}
