use actix_web::{web, App, HttpServer};

mod app;
mod otel;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let _otel = otel::init();
    otel::main_result(main_body().await)
}

async fn main_body() -> std::io::Result<()> {
    HttpServer::new(app::factory)
        .bind(("127.0.0.1", 8080))?
        .run()
        .await
}
