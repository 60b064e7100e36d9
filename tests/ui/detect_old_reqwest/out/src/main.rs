mod otel;

fn main() {
    let _otel = otel::init();
    let _run = otel::run_span();
    let body = reqwest::blocking::get("https://www.rust-lang.org").unwrap().text().unwrap();
    println!("{body}");
}
