use actix_web::{App, HttpServer, web};

mod otel;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let _otel = otel::init();
    otel::main_result(main_body().await)
}

async fn main_body() -> std::io::Result<()> {
    HttpServer::new(|| App::new().route("/", web::get().to(|| async { "hello" })).wrap(otel::actix_tracing()))
        .bind(("127.0.0.1", 8080))?
        .run()
        .await
}
