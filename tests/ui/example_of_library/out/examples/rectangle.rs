mod otel;

fn main() {
    let _otel = otel::init_fmt("info");
    println!("{}", geometry::area(2.0, 3.0));
}
