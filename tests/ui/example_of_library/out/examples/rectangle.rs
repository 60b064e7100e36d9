mod otel;

fn main() {
    let _otel = otel::init_fmt("info").expect("failed to initialize OpenTelemetry");
    println!("{}", geometry::area(2.0, 3.0));
}
