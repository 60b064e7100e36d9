mod otel;

#[tokio::main]
async fn main() {
    let _otel = otel::init();
    println!("api");
}
