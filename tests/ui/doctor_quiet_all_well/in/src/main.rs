mod otel;

fn main() {
    let _otel = otel::init();
    println!("Hello, world!");
}
