mod otel;

fn main() {
    // RUST_LOG, else info: tracing-subscriber without `env-filter`.
    let _otel = otel::init_providers();
    let _run = otel::run_span();
    otel::install_fmt("info");
    tracing::info!("ready");
}
