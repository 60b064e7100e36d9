fn main() {
    println!("{}", geometry::area(2.0, 2.0));
}
