mod otel;

fn main() {
    otel::report("Hello, world!");
}
