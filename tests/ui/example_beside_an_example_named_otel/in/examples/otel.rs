//! An example of the library's own that happens to be called `otel`.
fn main() {
    println!("{}", geometry::area(1.0, 1.0));
}
