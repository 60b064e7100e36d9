mod otel;

fn main() {
    let _ = otel::init().expect("failed to initialize OpenTelemetry");
    println!("Hello, world!");
}
