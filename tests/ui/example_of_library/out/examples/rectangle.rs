mod otel;

fn main() {
    let _otel = otel::init_providers();
    let _run = otel::run_span();
    otel::install_fmt("info");
    println!("{}", geometry::area(2.0, 3.0));
}
