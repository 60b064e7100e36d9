//! Serving a router on the OTLP/HTTP and dashboard ports: HTTP/1.1 (which
//! is what the Aspire dashboard speaks without TLS too) within
//! [`Connections`], and only for requests addressed to this machine by a
//! loopback name.
//!
//! The host check is what stops DNS rebinding: a page on `attacker.example`
//! whose name is made to resolve to 127.0.0.1 reaches these ports from the
//! browser, but its requests still say `Host: attacker.example`.

use std::pin::pin;

use axum::{
    Router,
    extract::Request,
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse as _, Response},
};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{sync::watch, task::JoinSet};

use super::{
    limits::Connections,
    listen::{Guarded, Listener},
};

/// The names a request may give in `Host` (with any port).
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Serves `router` until `stop` turns true, then lets open connections
/// finish their current request. The caller bounds that wait (by aborting
/// this task, which drops and so aborts every connection's task).
pub(super) async fn serve(
    listener: Listener,
    router: Router,
    limits: Connections,
    stop: watch::Receiver<bool>,
) {
    let service = TowerToHyperService::new(router.layer(middleware::from_fn(loopback_only)));
    let mut connections = JoinSet::new();
    let mut stopping = stop.clone();
    loop {
        tokio::select! {
            _ = stopping.wait_for(|&stop| stop) => break,
            io = listener.accept() => {
                let connection = serve_connection(io, service.clone(), limits, stop.clone());
                connections.spawn(connection);
            }
            // Reaps finished connections as they go, so the set stays small.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(
    io: Guarded,
    service: TowerToHyperService<Router>,
    limits: Connections,
    mut stop: watch::Receiver<bool>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut connection = pin!(builder.serve_connection(TokioIo::new(io), service));
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stop.wait_for(|&stop| stop) => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}

/// Middleware: 403 for a request whose `Host` (or absolute URI) names
/// anything but a loopback name, or nothing.
async fn loopback_only(request: Request, next: Next) -> Response {
    if addressed_to_loopback(&request) {
        return next.run(request).await;
    }
    let message = format!(
        "this server answers only requests addressed to {}\n",
        LOOPBACK_NAMES.join(", ")
    );
    (StatusCode::FORBIDDEN, message).into_response()
}

fn addressed_to_loopback(request: &Request) -> bool {
    let hosts = request.headers().get_all(header::HOST);
    let mut names = hosts
        .iter()
        .map(|value| value.to_str().ok())
        .chain(request.uri().authority().map(|a| Some(a.as_str())))
        .peekable();
    names.peek().is_some() && names.all(|name| name.is_some_and(is_loopback_host))
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let (name, port) = match host.rfind(':') {
        // The colons of `[::1]` are not a port's.
        Some(colon) if !host[colon..].contains(']') => (&host[..colon], Some(&host[colon + 1..])),
        _ => (host, None),
    };
    port.is_none_or(|port| port.parse::<u16>().is_ok())
        && LOOPBACK_NAMES
            .iter()
            .any(|loopback| name.eq_ignore_ascii_case(loopback))
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_loopback_names_with_any_port() {
        for host in [
            "localhost",
            "LocalHost:4318",
            "127.0.0.1",
            "127.0.0.1:18888",
            "[::1]",
            "[::1]:4318",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "attacker.example",
            "attacker.example:4318",
            "localhost.attacker.example",
            "127.0.0.1.nip.io",
            "user@localhost",
            "127.0.0.2",
            "[::2]",
            "localhost:port",
            "",
            "0.0.0.0",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
