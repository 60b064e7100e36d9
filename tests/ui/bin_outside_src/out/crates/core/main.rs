mod flags;
mod otel;

fn main() {
    let _otel = otel::init().expect("failed to initialize OpenTelemetry");
    let pattern = flags::pattern();
    println!("searching for {pattern}");
}
