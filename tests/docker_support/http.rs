//! A raw HTTP/1.1 client for what a dashboard container publishes on the
//! host: `/health`, OTLP/HTTP JSON exports, and the web API behind the
//! browser-token login.

use std::{
    io::{self, Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    time::{Duration, Instant},
};

use cargo_otel::backend::model::{LogEntry, Summary, TraceSummary};
use serde::de::DeserializeOwned;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP/1.1 response, read to the end of the connection.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl HttpResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on a fresh connection (`Connection: close`).
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> io::Result<HttpResponse> {
    let bad = || {
        let shown = String::from_utf8_lossy(&raw[..raw.len().min(300)]).into_owned();
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not an HTTP response: {shown:?}"),
        )
    };
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(bad)?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(bad)?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut response = HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    };
    if response
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        response.body = dechunk(&response.body).ok_or_else(bad)?;
    }
    Ok(response)
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// Polls `GET /health` on `ui` until it answers `200 Healthy`; returns how
/// long that took. A published port accepts connections before the process
/// in the container listens (docker-proxy), so only an HTTP answer counts.
pub(crate) fn wait_healthy(ui: SocketAddr, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let last = match http(ui, "GET", "/health", &[], &[]) {
            Ok(r) if r.status == 200 && r.text().trim() == "Healthy" => return started.elapsed(),
            Ok(r) => format!("{} {}", r.status, r.text()),
            Err(e) => e.to_string(),
        };
        assert!(
            started.elapsed() < within,
            "GET http://{ui}/health did not answer `Healthy` within {within:?}; last: {last}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `POST /v1/{signal}` as `application/json`, with `x-otlp-api-key` if given.
pub(crate) fn post_otlp_json(
    otlp_http: SocketAddr,
    signal: &str,
    api_key: Option<&str>,
    body: &str,
) -> HttpResponse {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(key) = api_key {
        headers.push(("x-otlp-api-key", key));
    }
    let target = format!("/v1/{signal}");
    http(otlp_http, "POST", &target, &headers, body.as_bytes())
        .unwrap_or_else(|e| panic!("POST http://{otlp_http}{target}: {e}"))
}

/// An OTLP/JSON `ExportTraceServiceRequest`: one trace of one root span
/// `span_name` from `service`, trace id `trace_id` (32 hex digits).
pub(crate) fn otlp_json_trace(service: &str, span_name: &str, trace_id: &str) -> String {
    let now = now_nanos();
    serde_json::json!({
        "resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": service}}
            ]},
            "scopeSpans": [{
                "scope": {"name": "docker-support"},
                "spans": [{
                    "traceId": trace_id,
                    "spanId": "00f067aa0ba902b7",
                    "name": span_name,
                    "kind": 2,
                    "startTimeUnixNano": (now - 5_000_000).to_string(),
                    "endTimeUnixNano": now.to_string(),
                }]
            }]
        }]
    })
    .to_string()
}

/// An OTLP/JSON `ExportLogsServiceRequest`: one INFO record `body` from `service`.
pub(crate) fn otlp_json_log(service: &str, body: &str) -> String {
    serde_json::json!({
        "resourceLogs": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": service}}
            ]},
            "scopeLogs": [{
                "scope": {"name": "docker-support"},
                "logRecords": [{
                    "timeUnixNano": now_nanos().to_string(),
                    "severityNumber": 9,
                    "severityText": "INFO",
                    "body": {"stringValue": body},
                }]
            }]
        }]
    })
    .to_string()
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// A signed-in session with the dashboard's web API (`GET /login?t=TOKEN`
/// traded for the session cookie).
#[derive(Debug, Clone)]
pub(crate) struct WebSession {
    pub(crate) ui: SocketAddr,
    cookie: Option<String>,
}

impl WebSession {
    /// Signs in with `token`; `None` for a dashboard without login.
    pub(crate) fn login(ui: SocketAddr, token: Option<&str>) -> Self {
        let target = format!("/login?t={}", token.unwrap_or_default());
        let response = http(ui, "GET", &target, &[], &[])
            .unwrap_or_else(|e| panic!("GET http://{ui}/login: {e}"));
        assert_eq!(response.status, 303, "login: {}", response.text());
        let cookie = response
            .header("set-cookie")
            .and_then(|c| c.split(';').next())
            .map(str::to_owned);
        assert!(
            token.is_none() || cookie.is_some(),
            "login with a token set no cookie: {response:?}"
        );
        Self { ui, cookie }
    }

    pub(crate) fn get(&self, target: &str) -> HttpResponse {
        let cookie: Vec<(&str, &str)> =
            self.cookie.iter().map(|c| ("Cookie", c.as_str())).collect();
        http(self.ui, "GET", target, &cookie, &[])
            .unwrap_or_else(|e| panic!("GET http://{}{target}: {e}", self.ui))
    }

    /// `GET target` as JSON, which must answer 200.
    pub(crate) fn json<T: DeserializeOwned>(&self, target: &str) -> T {
        let response = self.get(target);
        assert_eq!(response.status, 200, "GET {target}: {}", response.text());
        serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("GET {target}: {e}: {}", response.text()))
    }

    pub(crate) fn summary(&self) -> Summary {
        self.json("/api/summary")
    }

    pub(crate) fn traces(&self) -> Vec<TraceSummary> {
        self.json("/api/traces")
    }

    pub(crate) fn logs(&self) -> Vec<LogEntry> {
        self.json("/api/logs")
    }

    /// Polls the summary until `done` holds; panics after `within`.
    pub(crate) fn wait_for(&self, within: Duration, done: impl Fn(&Summary) -> bool) -> Summary {
        let started = Instant::now();
        loop {
            let summary = self.summary();
            if done(&summary) {
                return summary;
            }
            assert!(
                started.elapsed() < within,
                "the dashboard did not get there within {within:?}: {summary:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
