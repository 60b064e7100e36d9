#[cfg(feature = "json-logs")]
mod json;
mod otel;

fn main() {
    let _otel = otel::init();
    let _run = otel::run_span();
    tracing::info!("showing a page");
    println!("page 1");
}
