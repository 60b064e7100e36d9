mod flags;
mod otel;

fn main() {
    let _otel = otel::init();
    let _run = otel::run_span();
    let pattern = flags::pattern();
    println!("searching for {pattern}");
}
