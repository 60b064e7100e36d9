#[path = "telemetry/setup.rs"]
mod otel;

fn main() {
    otel::report("Hello, world!");
}
