mod otel;
mod telemetry;

fn main() {
    let _otel = otel::init();
    println!("Hello, world!");
}
