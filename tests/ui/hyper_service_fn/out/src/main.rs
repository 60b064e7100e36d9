//! A server written directly on hyper 1, as a file server is: a
//! `service_fn` bound to a variable, served by `http1::Builder`. It answers
//! two requests sent to itself (the first continuing a caller's trace, the
//! second failing with a 500), then stops.

use std::{convert::Infallible, net::SocketAddr};

use http_body_util::Full;
use hyper::{
    Request, Response, StatusCode,
    body::{Bytes, Incoming},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

mod otel;

/// The caller's trace context, as an instrumented client sends it.
const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    tracing::info!(path, "hyper-service answered");
    let status = match path.as_str() {
        "/fail" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    };
    let mut response = Response::new(Full::new(Bytes::from(format!("{status} {path}"))));
    *response.status_mut() = status;
    Ok(response)
}

async fn serve(stream: tokio::net::TcpStream) {
    let service = service_fn(answer);
    let service = otel::hyper_service(service);
    if let Err(err) = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        eprintln!("error serving connection: {err:?}");
    }
}

/// `GET path` with `Connection: close`; the answer's last line.
async fn get(addr: SocketAddr, path: &str, traceparent: Option<&str>) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let parent = traceparent.map_or(String::new(), |t| format!("traceparent: {t}\r\n"));
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{parent}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    answer.lines().last().unwrap_or_default().to_owned()
}

#[tokio::main]
async fn main() {
    let _otel = otel::init_providers();
    otel::install_fmt("error");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind a port");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            tokio::spawn(serve(stream));
        }
    });
    for (path, traceparent) in [("/items/7", Some(TRACEPARENT)), ("/fail", None)] {
        println!("hyper-service got: {}", get(addr, path, traceparent).await);
    }
}
