mod otel;

fn main() {
    let _otel = otel::init();
    println!("no frameworks here");
}
