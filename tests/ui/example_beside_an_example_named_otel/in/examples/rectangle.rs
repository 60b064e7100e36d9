fn main() {
    tracing_subscriber::fmt::init();
    println!("{}", geometry::area(2.0, 3.0));
}
