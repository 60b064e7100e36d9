use actix_web::{web, App, HttpServer};

mod app;
mod otel;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let _otel = otel::init();
    HttpServer::new(app::factory)
        .bind(("127.0.0.1", 8080))?
        .run()
        .await
}
