//! A raw HTTP/1.1 client for the tests: one request per connection
//! (`Connection: close`), the body sent with `Content-Length` or chunked, the
//! response read to the end and de-chunked; and [`WebSession`], a signed-in
//! session with the web API (`/api/*` behind the browser-token login).

use std::{
    io::{self, Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    time::{Duration, Instant},
};

use cargo_otel::backend::model::{LogEntry, Summary, TraceSummary};
use serde::de::DeserializeOwned;

/// How long connecting, sending or each read of one request may take.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// An HTTP/1.1 response, read to the end of the connection.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    /// The body, de-chunked if it came `Transfer-Encoding: chunked`.
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

/// How a request body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    ContentLength,
    Chunked,
}

/// One request with a `Content-Length` body on a fresh connection.
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    http_framed(addr, method, target, headers, body, Framing::ContentLength)
}

/// One request on a fresh connection (`Connection: close`), its body framed
/// as `framing` says. The body is written from a second thread while the
/// response is read, so a server that answers (413) before reading a large
/// body does not deadlock the client.
pub(crate) fn http_framed(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    framing: Framing,
) -> io::Result<HttpResponse> {
    let stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
    let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    // The caller's own `Host`, if it gives one, stands alone.
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match framing {
        Framing::ContentLength => head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len())),
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n\r\n"),
    }
    let mut writer = stream.try_clone()?;
    std::thread::scope(|scope| {
        scope.spawn(move || -> io::Result<()> {
            writer.write_all(head.as_bytes())?;
            match framing {
                Framing::ContentLength => writer.write_all(body)?,
                Framing::Chunked => {
                    for chunk in body.chunks(64 * 1024) {
                        write!(writer, "{:x}\r\n", chunk.len())?;
                        writer.write_all(chunk)?;
                        writer.write_all(b"\r\n")?;
                    }
                    writer.write_all(b"0\r\n\r\n")?;
                }
            }
            writer.flush()
        });
        read_response(stream)
    })
}

/// Sends `request` exactly as given (head and body, nothing added) on a
/// fresh connection and reads the response.
pub(crate) fn raw(addr: SocketAddr, request: &[u8]) -> io::Result<HttpResponse> {
    let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
    stream.write_all(request)?;
    read_response(stream)
}

fn read_response(mut stream: TcpStream) -> io::Result<HttpResponse> {
    let mut raw = Vec::new();
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
            // A server that refuses a body closes while it is still coming;
            // the answer it sent first is what counts.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !raw.is_empty() => break,
            Err(e) => return Err(e),
        }
    }
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

/// A signed-in session with the web API (`GET /login?t=TOKEN` traded for the
/// session cookie).
#[derive(Debug, Clone)]
pub(crate) struct WebSession {
    pub(crate) ui: SocketAddr,
    cookie: Option<String>,
}

impl WebSession {
    /// Signs in with `token`; `None` for a web view without login.
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
