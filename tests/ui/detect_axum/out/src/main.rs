use axum::{Router, routing::get};

mod otel;

#[tokio::main]
async fn main() {
    let _otel = otel::init();
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/users/{id}", get(|| async { "a user" }))
        .layer(otel::http_layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
