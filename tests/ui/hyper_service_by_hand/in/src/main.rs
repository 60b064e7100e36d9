//! A server written directly on hyper 1, as a static web server is: its
//! service a type of its own implementing hyper's `Service`, which `init`
//! does not wrap (it names the place and the line to add).

use std::{convert::Infallible, future::Ready};

use http_body_util::Full;
use hyper::{
    Request, Response,
    body::{Bytes, Incoming},
    server::conn::http1,
    service::Service,
};
use hyper_util::rt::TokioIo;

struct Files;

impl Service<Request<Incoming>> for Files {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Self::Error>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        tracing::info!(path = request.uri().path(), "files answered");
        std::future::ready(Ok(Response::new(Full::new(Bytes::from("hello")))))
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt::init();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 8080))
        .await
        .expect("bind a port");
    loop {
        let (stream, _) = listener.accept().await.expect("accept");
        let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), Files);
        tokio::spawn(connection);
    }
}
