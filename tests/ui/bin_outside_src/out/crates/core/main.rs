mod flags;
mod otel;

fn main() {
    let _otel = otel::init();
    let pattern = flags::pattern();
    println!("searching for {pattern}");
}
