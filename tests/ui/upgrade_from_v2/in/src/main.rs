mod otel;
mod telemetry;

fn main() {
    let _otel = otel::init().expect("failed to initialize OpenTelemetry");
    println!("Hello, world!");
}
