mod otel;

fn main() {
    let _otel = otel::init();
    let _run = otel::run_span();
    println!("demo");
}
