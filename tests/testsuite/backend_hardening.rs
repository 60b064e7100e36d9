//! The built-in backend against hostile input (issue 15), over real sockets:
//! telemetry text that tries to drive the terminal, an empty API key, other
//! host names (DNS rebinding), floods of huge names and spans, stalled and
//! oversized connections, Ctrl-C with a full stderr pipe, gzip (and a
//! decompression bomb), and `export` lines a shell evaluates.
//!
//! Most run the real `cargo otel serve`; the host-name and gzip tests run a
//! [`Backend`] in this process, which serves the same ports the same way.

#![expect(
    clippy::print_stdout,
    reason = "the floods report the memory they took"
)]

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use cargo_otel::backend::{Backend, BackendConfig, model::Summary};
use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest,
        trace::v1::{ExportTraceServiceRequest, trace_service_client::TraceServiceClient},
    },
    common::v1::{AnyValue, any_value},
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status::StatusCode},
};
use prost::Message as _;
use tokio::runtime::Runtime;
use tonic::{Code, codec::CompressionEncoding};

use crate::support;
use crate::support::backend::{
    GRPC_TRACES, KillOnDrop, Serve, Unread, channel, eventually, otlp_post, resource,
    serve_command, sigint, string, trace_id, traces, with_key,
};
use crate::support::http::{HttpResponse, WebSession, http, raw};

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";
/// What `serve` waits for a stalled request's head (also the keep-alive idle
/// time), and for any connection that moves no byte.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(20);
/// Slack on top of a timeout for a loaded machine.
const SLACK: Duration = Duration::from_secs(10);

fn one_span(service: &str, span: Span) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(service),
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `cargo otel serve --anonymous`'s setup in this process: no token, no key.
fn anonymous(runtime: &Runtime) -> Backend {
    let mut config = BackendConfig::loopback("hardening tests");
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    (config.grpc, config.http, config.ui) = (any_port, any_port, any_port);
    runtime.block_on(Backend::start(config)).expect("starts")
}

fn http_addr(backend: &Backend) -> SocketAddr {
    backend
        .http_endpoint()
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .expect("an address")
}

// --- 1. terminal injection ------------------------------------------------------------------

const HOSTILE: &str = "\u{1b}]0;PWNED\u{7}\u{1b}[2J\nFAKE line\r\u{9b}1m\u{202e}";

#[test]
fn telemetry_text_reaches_the_terminal_feed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // Colours on, as at a terminal: nothing strips escape sequences for us.
    let serve = Serve::start(dir.path(), &["--color", "always"]);
    let key = serve.api_key();
    let failing = Span {
        trace_id: trace_id(1, 0),
        span_id: vec![1; 8],
        name: format!("span {HOSTILE}"),
        status: Some(Status {
            code: StatusCode::Error as i32,
            message: format!("status {HOSTILE}"),
        }),
        ..Span::default()
    };
    let request = one_span(&format!("svc {HOSTILE}"), failing);
    let response = otlp_post(
        serve.http,
        "traces",
        PROTOBUF,
        Some(&key),
        &request.encode_to_vec(),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    let error_log = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("logger"),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    severity_number: 17,
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(HOSTILE.to_owned())),
                    }),
                    ..LogRecord::default()
                }],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    };
    let response = otlp_post(
        serve.http,
        "logs",
        PROTOBUF,
        Some(&key),
        &error_log.encode_to_vec(),
    );
    assert_eq!(response.status, 200, "{}", response.text());

    let stderr = eventually("both feed lines", || {
        let text = serve.stderr();
        (text.matches("PWNED").count() >= 4).then_some(text)
    });
    // The sequences are shown, not sent: no OSC (title), no clear screen, no
    // bell, no C1 CSI, no bidi override, and no line the telemetry started.
    for forbidden in ["\u{1b}]", "\u{1b}[2J", "\u{7}", "\u{9b}", "\u{202e}", "\r"] {
        assert!(!stderr.contains(forbidden), "{forbidden:?} in {stderr:?}");
    }
    assert!(
        !stderr.lines().any(|line| line.starts_with("FAKE")),
        "{stderr:?}"
    );
    assert!(
        stderr.contains(r"\u{1b}]0;PWNED\u{7}\u{1b}[2J\nFAKE line\r\u{9b}1m\u{202e}"),
        "{stderr:?}"
    );
}

// --- 2. empty API key -----------------------------------------------------------------------

/// Runs `serve` with `args` and `env`, which must exit (refusing to start)
/// within [`PATIENCE`]; returns its exit code and stderr.
fn refused(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = serve_command(dir.path());
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = KillOnDrop(command.spawn().unwrap());
    let status = eventually("serve to refuse the key and exit", || {
        child.0.try_wait().unwrap()
    });
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let mut stdout = String::new();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(stdout.is_empty(), "no `export` lines: {stdout}");
    (status.code(), stderr)
}

#[test]
fn an_empty_or_unsendable_api_key_is_refused() {
    for (args, env, why) in [
        (&["--api-key", ""][..], &[][..], "must not be empty"),
        (&[], &[("CARGO_OTEL_API_KEY", "")], "must not be empty"),
        (&["--api-key", "line\nbreak"], &[], "printable ASCII"),
        (&["--api-key", " padded "], &[], "start or end with a space"),
    ] {
        let (code, stderr) = refused(args, env);
        assert_eq!(code, Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?} {env:?}: {stderr}");
    }
    // The backend itself refuses one too, whoever configures it.
    let runtime = runtime();
    let mut config = BackendConfig::loopback("hardening tests");
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    (config.grpc, config.http, config.ui) = (any_port, any_port, any_port);
    config.api_key = Some(String::new());
    let error = runtime
        .block_on(Backend::start(config))
        .err()
        .expect("refused");
    assert!(error.to_string().contains("must not be empty"), "{error}");
}

// --- 3. DNS rebinding -----------------------------------------------------------------------

fn request_with_host(addr: SocketAddr, method: &str, target: &str, host: &str) -> HttpResponse {
    let body = if method == "POST" { "{}" } else { "" };
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {JSON}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    raw(addr, request.as_bytes()).unwrap_or_else(|e| panic!("{method} {target} ({host}): {e}"))
}

#[test]
fn only_loopback_host_names_are_served_on_the_web_and_otlp_http_ports() {
    let runtime = runtime();
    let backend = anonymous(&runtime);
    let ui = backend.ui_addr();
    let otlp = http_addr(&backend);
    for (addr, method, target) in [
        (ui, "GET", "/api/summary"),
        (ui, "GET", "/"),
        (ui, "GET", "/health"),
        (otlp, "POST", "/v1/logs"),
    ] {
        let port = addr.port();
        for host in [
            "attacker.example".to_owned(),
            format!("attacker.example:{port}"),
            format!("localhost.attacker.example:{port}"),
            format!("127.0.0.1.nip.io:{port}"),
            format!("192.168.1.10:{port}"),
        ] {
            let response = request_with_host(addr, method, target, &host);
            assert_eq!(
                response.status, 403,
                "{method} {target} for {host}: {response:?}"
            );
            assert!(!response.text().contains("services"), "{}", response.text());
        }
        for host in [
            format!("localhost:{port}"),
            format!("LOCALHOST:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
            "localhost".to_owned(),
        ] {
            let response = request_with_host(addr, method, target, &host);
            assert_eq!(
                response.status, 200,
                "{method} {target} for {host}: {response:?}"
            );
        }
    }
    // An absolute URI naming another host is refused even with a good Host,
    // and so is a request naming no host at all.
    let absolute = format!(
        "GET http://attacker.example/api/summary HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
         Connection: close\r\n\r\n",
        ui.port()
    );
    assert_eq!(raw(ui, absolute.as_bytes()).unwrap().status, 403);
    let nameless = "GET /api/summary HTTP/1.0\r\n\r\n";
    assert_eq!(raw(ui, nameless.as_bytes()).unwrap().status, 403);
    runtime.block_on(backend.stop()).unwrap();
}

// --- 4. unbounded names and spans -----------------------------------------------------------

/// `VmRSS` of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The campaign's flood: 300 exports, each from a new 400 kB service name,
/// with every cap at 10. Without spans nothing is held at all; with one
/// span each, ten services are held and their names are cut to 1 KiB.
#[test]
fn unique_huge_service_names_are_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let caps = [
        "--max-traces",
        "10",
        "--max-spans",
        "10",
        "--max-logs",
        "10",
        "--max-metric-points",
        "10",
    ];
    let serve = Serve::start(dir.path(), &caps);
    let key = serve.api_key();
    let before = rss_kib(serve.pid());
    for round in 0..2_u64 {
        for i in 0..300_u64 {
            let name = format!("{round}-{i}-{}", "n".repeat(400_000));
            let mut request = traces(&name, round * 1_000 + i, 1, 1, 0);
            if round == 0 {
                request.resource_spans[0].scope_spans.clear();
            }
            let body = request.encode_to_vec();
            let response = otlp_post(serve.http, "traces", PROTOBUF, Some(&key), &body);
            assert_eq!(response.status, 200, "{}", response.text());
        }
        let summary: Summary = serve.web().summary();
        let expected = if round == 0 { 0 } else { 10 };
        assert_eq!(summary.services.len(), expected, "round {round}");
        assert!(
            summary.services.iter().all(|s| s.len() <= 1027),
            "round {round}"
        );
        let json = serve.web().get("/api/summary").body.len();
        assert!(json < 16 * 1024, "/api/summary is {json} bytes");
    }
    let after = rss_kib(serve.pid());
    println!("RSS before {before} KiB, after 600 huge names {after} KiB");
    assert!(
        after < before + 48 * 1024,
        "RSS grew from {before} to {after} KiB"
    );
}

/// 1,000 spans of 1 MiB each, with a 16 MiB byte cap: the store stays
/// within it, and the process's memory with it. The first half carry 16
/// values of 64 KiB (the longest kept), the second one value of 1 MiB, cut
/// to 64 KiB (and the rest of its memory given back: about 250 of them are
/// held at the end).
#[test]
fn huge_spans_stay_within_the_byte_cap() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &["--max-memory", "16MiB"]);
    let key = serve.api_key();
    let value = "v".repeat(64 * 1024);
    let huge_value = "h".repeat(1024 * 1024);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut client = TraceServiceClient::new(channel(&serve.grpc_endpoint()).await);
        for i in 0..1_000 {
            let span = Span {
                trace_id: trace_id(7, i),
                span_id: vec![1; 8],
                name: format!("huge {i}"),
                attributes: match i {
                    0..500 => (0..16).map(|a| string(&format!("a{a}"), &value)).collect(),
                    _ => vec![string("huge", &huge_value)],
                },
                ..Span::default()
            };
            let request = with_key(one_span("huge", span), Some(&key));
            client.export(request).await.expect("accepted");
        }
    });
    let summary: Summary = serve.web().summary();
    assert!(
        summary.memory.held_bytes <= 16 * 1024 * 1024,
        "{:?}",
        summary.memory
    );
    assert!((200..=260).contains(&summary.held.traces), "{summary:?}");
    assert_eq!(summary.evicted.traces + summary.held.traces, 1_000);
    let peak = serve.peak_rss_kib();
    println!("peak RSS after 1,000 spans of 1 MiB: {peak} KiB");
    assert!(peak < 128 * 1024, "peak RSS {peak} KiB");
}

// --- 5. stalled and oversized connections ---------------------------------------------------

/// Connects and sends `prefix`; returns how long until the server closed
/// the connection (reads return end of file or an error), at most `within`.
fn stall(addr: SocketAddr, prefix: &[u8], within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(prefix).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buffer = [0_u8; 4096];
    while started.elapsed() < within {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(started.elapsed()),
            // A response (408) may come before the close.
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

/// Sockets the process `pid` has open.
fn open_sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
        })
        .count()
}

#[test]
fn stalled_connections_are_capped_and_closed_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &[]);
    let grpc: SocketAddr = serve
        .grpc_endpoint()
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .unwrap();
    let head = |port: u16| {
        format!(
            "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {PROTOBUF}\r\n"
        )
    };
    let within = IDLE_TIMEOUT + SLACK;
    std::thread::scope(|scope| {
        // Slowloris on every port: nothing at all, half a head, a whole head
        // and a tenth of its body, half of the HTTP/2 preface.
        let ui_head = head(serve.ui.port());
        let http_head = head(serve.http.port());
        let partial_body = format!(
            "{http_head}x-otlp-api-key: {}\r\nContent-Length: 1000\r\n\r\n{}",
            serve.api_key(),
            "x".repeat(100)
        );
        let stalls = [
            (serve.ui, Vec::new(), HEADER_TIMEOUT),
            (serve.ui, ui_head.into_bytes(), HEADER_TIMEOUT),
            (serve.http, Vec::new(), HEADER_TIMEOUT),
            (serve.http, partial_body.into_bytes(), HEADER_TIMEOUT),
            (grpc, Vec::new(), IDLE_TIMEOUT),
            (grpc, b"PRI * HTTP/2.0\r\n".to_vec(), IDLE_TIMEOUT),
        ];
        let probes: Vec<_> = stalls
            .into_iter()
            .map(|(addr, prefix, timeout)| {
                scope.spawn(move || (addr, timeout, stall(addr, &prefix, within)))
            })
            .collect();

        // 300 silent connections to one port: no more than its cap (256)
        // are taken, the rest wait until the stalled ones are closed.
        let silent: Vec<TcpStream> = (0..300)
            .map(|_| TcpStream::connect(serve.http).unwrap())
            .collect();
        std::thread::sleep(Duration::from_secs(2));
        let sockets = open_sockets(serve.pid());
        assert!(sockets <= 256 + 20, "{sockets} sockets open in the server");
        let closed = silent.into_iter().map(|mut stream| {
            scope.spawn(move || {
                stream
                    .set_read_timeout(Some(2 * HEADER_TIMEOUT + SLACK))
                    .unwrap();
                matches!(stream.read(&mut [0_u8; 64]), Ok(0) | Err(_))
            })
        });
        let closed: Vec<_> = closed.collect();
        for probe in probes {
            let (addr, timeout, closed_after) = probe.join().unwrap();
            let after =
                closed_after.unwrap_or_else(|| panic!("{addr}: still open after {within:?}"));
            assert!(
                after >= timeout - Duration::from_secs(1),
                "{addr}: closed after {after:?}"
            );
        }
        assert!(
            closed.into_iter().all(|c| c.join().unwrap()),
            "every silent connection closed"
        );
    });
    // And the server serves again.
    let request = traces("after", 1, 1, 1, 0).encode_to_vec();
    let response = otlp_post(
        serve.http,
        "traces",
        PROTOBUF,
        Some(&serve.api_key()),
        &request,
    );
    assert_eq!(response.status, 200, "{}", response.text());
}

#[test]
fn an_oversized_content_length_gets_413_before_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &[]);
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: {PROTOBUF}\r\n\
         x-otlp-api-key: {}\r\nContent-Length: {}\r\n\r\n",
        serve.http.port(),
        serve.api_key(),
        5 * 1024 * 1024
    );
    let started = Instant::now();
    let mut stream = TcpStream::connect(serve.http).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut status_line = String::new();
    BufReader::new(stream)
        .read_line(&mut status_line)
        .expect("an answer without sending the body");
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

// --- 6. Ctrl-C with a full stderr pipe ------------------------------------------------------

#[test]
fn ctrl_c_exits_while_nobody_reads_a_full_stderr_pipe() {
    let dir = tempfile::tempdir().unwrap();
    // Its stderr is held open and never read: it fills up and stays full.
    let mut unread = Unread::start(dir.path());
    unread.fill_stderr();
    // Let the feed fill the pipe and block on it.
    std::thread::sleep(Duration::from_secs(1));
    sigint(unread.child.0.id());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = unread.child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still running 15 s after SIGINT with stderr full"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

// --- 7. gzip --------------------------------------------------------------------------------

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn post_gzip(addr: SocketAddr, signal: &str, content_type: &str, body: &[u8]) -> HttpResponse {
    let headers = [("Content-Type", content_type), ("Content-Encoding", "gzip")];
    http(addr, "POST", &format!("/v1/{signal}"), &headers, body).unwrap()
}

#[test]
fn gzip_is_accepted_over_http_and_grpc_and_a_bomb_is_refused() {
    let runtime = runtime();
    let backend = anonymous(&runtime);
    let otlp = http_addr(&backend);
    let web = WebSession::login(backend.ui_addr(), None);

    let proto = traces("gzip-http", 1, 1, 2, 0).encode_to_vec();
    let response = post_gzip(otlp, "traces", PROTOBUF, &gzip(&proto));
    assert_eq!(response.status, 200, "{}", response.text());
    let json = serde_json::to_vec(&traces("gzip-json", 2, 1, 1, 0)).unwrap();
    let response = post_gzip(otlp, "traces", JSON, &gzip(&json));
    assert_eq!(response.status, 200, "{}", response.text());
    runtime.block_on(async {
        let client = TraceServiceClient::new(channel(&backend.grpc_endpoint()).await);
        let mut client = client.send_compressed(CompressionEncoding::Gzip);
        let request = traces("gzip-grpc", 3, 1, 3, 4096);
        client.export(request).await.expect("gzip over gRPC");
    });
    let summary = web.summary();
    assert_eq!(summary.services, ["gzip-grpc", "gzip-http", "gzip-json"]);
    assert_eq!(summary.held.spans, 6);

    // 16 MiB of zeros in about 16 KiB: refused once past 4 MiB, over both.
    let zeros = vec![0_u8; 16 * 1024 * 1024];
    let bomb = gzip(&zeros);
    assert!(bomb.len() < 128 * 1024, "{}", bomb.len());
    let response = post_gzip(otlp, "traces", PROTOBUF, &bomb);
    assert_eq!(response.status, 413, "{}", response.text());
    let status = runtime.block_on(async {
        let channel = channel(&backend.grpc_endpoint()).await;
        let mut grpc = tonic::client::Grpc::new(channel).send_compressed(CompressionEncoding::Gzip);
        grpc.ready().await.unwrap();
        let path = tonic::codegen::http::uri::PathAndQuery::from_static(GRPC_TRACES);
        let request = tonic::Request::new(zeros);
        grpc.unary(request, path, support::backend::RawCodec)
            .await
            .expect_err("refused")
    });
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // Any other encoding is named as the problem.
    let headers = [("Content-Type", PROTOBUF), ("Content-Encoding", "br")];
    let response = http(otlp, "POST", "/v1/traces", &headers, &proto).unwrap();
    assert_eq!(response.status, 415, "{}", response.text());
    assert_eq!(web.summary().held.spans, 6, "nothing refused was stored");
    runtime.block_on(backend.stop()).unwrap();
}

// --- 8. export lines ------------------------------------------------------------------------

#[test]
fn export_lines_are_safe_to_eval() {
    let dir = tempfile::tempdir().unwrap();
    let key = r#"$(touch pwned) `touch pwned` it's "quoted"; a,b%c"#;
    let mut child = KillOnDrop(
        serve_command(dir.path())
            .args(["--quiet", "--api-key", key])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let lines: Vec<String> = BufReader::new(child.0.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take(4)
        .collect();
    let script = format!(
        "{}\nprintf '%s' \"$OTEL_EXPORTER_OTLP_HEADERS\"",
        lines.join("\n")
    );
    let output = Command::new("sh")
        .args(["-c", &script])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{lines:?}: {output:?}");
    assert!(
        !dir.path().join("pwned").exists(),
        "{lines:?} ran a command"
    );
    // Commas and percent signs are percent-encoded for the SDKs' parser.
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        r#"x-otlp-api-key=$(touch pwned) `touch pwned` it's "quoted"; a%2Cb%25c"#,
        "{lines:?}"
    );
    // The key as given is the one the server wants.
    let endpoint = lines[1]
        .strip_prefix("export OTEL_EXPORTER_OTLP_ENDPOINT=")
        .unwrap();
    let runtime = runtime();
    runtime.block_on(async {
        let mut client = TraceServiceClient::new(channel(endpoint).await);
        let request = with_key(traces("quoted", 1, 1, 1, 0), Some(key));
        client.export(request).await.expect("accepted with the key");
    });
}
