use axum::{routing::get, Router};

mod otel;

#[tokio::main]
async fn main() {
    let _otel = otel::init();
    let app = Router::new().route("/items/{id}", get(|| async { "item" })).layer(otel::http_layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
