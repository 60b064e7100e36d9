mod routes;

#[tokio::main]
async fn main() {
    let app = routes::app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
