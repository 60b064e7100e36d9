#[tokio::main]
async fn main() {
    println!("api");
}
