#[tokio::main]
async fn main() {
    println!("kv-server ready");
}
