mod otel;

fn main() {
    otel::setup();
}
