mod otel;

#[tokio::main]
async fn main() {
    let _otel = otel::init().expect("failed to initialize OpenTelemetry");
    println!("kv-server ready");
}
