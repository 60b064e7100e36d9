mod otel;

fn main() {
    let _otel = otel::init().expect("failed to initialize OpenTelemetry");
    let _run = otel::run_span();
    println!("Hello, world!");
}
