//! Helpers for the backend tests: a real `cargo otel serve` process, OTLP/HTTP
//! posts on the shared raw HTTP/1.1 client ([`super::http`]), a gRPC
//! client that sends arbitrary bytes, and builders for OTLP requests.

use std::{
    io::{self, BufRead as _, BufReader},
    net::SocketAddr,
    path::Path,
    process::{Child, ChildStderr, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest,
        metrics::v1::ExportMetricsServiceRequest,
        trace::v1::{ExportTraceServiceRequest, trace_service_client::TraceServiceClient},
    },
    common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value},
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    metrics::v1::{
        AggregationTemporality, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
        metric::Data, number_data_point,
    },
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans, Span, span::SpanKind},
};
use prost::bytes::{Buf as _, BufMut as _};
use tonic::{
    Request, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::http::uri::PathAndQuery,
    transport::Channel,
};

use super::http::{HttpResponse, WebSession, http};

/// How long any single wait in these tests may take before it fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// gRPC method paths of the three collector services.
pub(crate) const GRPC_TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
pub(crate) const GRPC_METRICS: &str =
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
pub(crate) const GRPC_LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// Polls `probe` until it yields a value; panics with `what` after [`PATIENCE`].
pub(crate) fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `cargo otel serve` (the real binary, hermetic environment,
/// every port 0), killed on drop if the test did not stop it.
pub(crate) struct Serve {
    child: Child,
    /// The `export KEY=VALUE` lines from its stdout.
    pub(crate) exports: Vec<(String, String)>,
    pub(crate) http: SocketAddr,
    pub(crate) ui: SocketAddr,
    pub(crate) token: String,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Serve {
    /// Starts the server with `args` after `serve --grpc-port 0 --http-port 0
    /// --ui-port 0` and waits until it has announced its endpoints.
    pub(crate) fn start(dir: &Path, args: &[&str]) -> Self {
        let mut child = serve_command(dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("failed to start cargo-otel serve");
        // Both pipes are drained for the server's whole life: a full pipe
        // would block its terminal feed, and with it the ingest path.
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            drain(child.stderr.take().expect("piped"), stderr.clone()),
            drain(child.stdout.take().expect("piped"), stdout.clone()),
        ];
        let mut serve = Self {
            child,
            exports: Vec::new(),
            http: SocketAddr::from(([0, 0, 0, 0], 0)),
            ui: SocketAddr::from(([0, 0, 0, 0], 0)),
            token: String::new(),
            stderr,
            readers,
        };
        // `export` lines are written in one go after the status lines, and the
        // API key's line is the last of them. Wait for whole lines.
        let complete = |text: &str, marker: &str| {
            text.split(marker)
                .nth(1)
                .is_some_and(|rest| rest.contains('\n'))
        };
        let exports = eventually("the `export` lines on stdout", || {
            if let Ok(Some(status)) = serve.child.try_wait() {
                panic!(
                    "cargo otel serve exited early ({status}):\n{}",
                    serve.stderr()
                );
            }
            let text = stdout.lock().unwrap().clone();
            complete(&text, "OTEL_EXPORTER_OTLP_HEADERS=").then_some(text)
        });
        serve.exports = exports
            .lines()
            .filter_map(|line| line.strip_prefix("export ")?.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        let stderr = eventually("the dashboard line on stderr", || {
            let text = without_colours(&serve.stderr());
            complete(&text, "Dashboard ").then_some(text)
        });
        let http = stderr
            .split("OTLP/HTTP on http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next());
        serve.http = http
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no OTLP/HTTP address in:\n{stderr}"));
        let login = stderr
            .split("Dashboard ")
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .unwrap_or_default();
        let (port, token) = login
            .strip_prefix("http://localhost:")
            .and_then(|rest| rest.split_once("/login?t="))
            .unwrap_or_else(|| panic!("no login link in:\n{stderr}"));
        serve.ui = SocketAddr::from(([127, 0, 0, 1], port.parse().expect("a port")));
        serve.token = token.trim().to_owned();
        serve
    }

    pub(crate) fn export(&self, key: &str) -> &str {
        let found = self.exports.iter().find(|(k, _)| k == key);
        found
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no `export {key}=` in {:?}", self.exports))
    }

    pub(crate) fn grpc_endpoint(&self) -> String {
        self.export("OTEL_EXPORTER_OTLP_ENDPOINT").to_owned()
    }

    pub(crate) fn api_key(&self) -> String {
        let header = self.export("OTEL_EXPORTER_OTLP_HEADERS");
        header
            .strip_prefix("x-otlp-api-key=")
            .expect("the API key header")
            .to_owned()
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything it wrote on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Peak resident set size in KiB (`VmHWM`).
    pub(crate) fn peak_rss_kib(&self) -> u64 {
        peak_rss_kib(self.pid())
    }

    /// A web API session (logged in with the printed token).
    pub(crate) fn web(&self) -> WebSession {
        WebSession::login(self.ui, Some(&self.token))
    }

    /// Ctrl-C, as a user would; returns the exit status and all of stderr.
    pub(crate) fn interrupt(mut self) -> (ExitStatus, String) {
        sigint(self.pid());
        let status = eventually("cargo otel serve to exit after SIGINT", || {
            self.child.try_wait().unwrap()
        });
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        (status, self.stderr())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Every port of the built-in dashboard (`serve`, `dash`) on one the system
/// picks: tests run in parallel.
pub(crate) const FREE_PORTS: [&str; 6] = ["--grpc-port", "0", "--http-port", "0", "--ui-port", "0"];

/// `cargo otel serve` on [`FREE_PORTS`], hermetic, in `dir`.
pub(crate) fn serve_command(dir: &Path) -> Command {
    let mut command = super::cargo_otel(dir);
    command.arg("serve").args(FREE_PORTS);
    command
}

/// Ctrl-C for process `pid`, as a user would send it.
pub(crate) fn sigint(pid: u32) {
    let pid = pid.to_string();
    let sent = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("failed to run kill");
    assert!(sent.success(), "kill -INT {pid} failed");
}

/// A `cargo otel serve` whose stderr the test holds without reading it (a
/// terminal paused with Ctrl-S, a supervisor that does not drain the pipe),
/// with the endpoint and API key from its `export` lines.
pub(crate) struct Unread {
    pub(crate) child: KillOnDrop,
    pub(crate) stderr: ChildStderr,
    endpoint: String,
    key: String,
}

impl Unread {
    pub(crate) fn start(dir: &Path) -> Self {
        let spawned = serve_command(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = KillOnDrop(spawned.expect("failed to start cargo-otel serve"));
        let stderr = child.0.stderr.take().expect("piped");
        let mut exports = BufReader::new(child.0.stdout.take().expect("piped"))
            .lines()
            .map_while(Result::ok);
        let mut value = |key: &str| {
            let prefix = format!("export {key}=");
            exports
                .find_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
                .expect(key)
        };
        let endpoint = value("OTEL_EXPORTER_OTLP_ENDPOINT");
        let key = value("OTEL_EXPORTER_OTLP_HEADERS").replace("x-otlp-api-key=", "");
        Self {
            child,
            stderr,
            endpoint,
            key,
        }
    }

    /// Exports 4096 root spans over gRPC: a feed line each, far more than a
    /// pipe holds. Each export must be answered within 5 s.
    pub(crate) fn fill_stderr(&self) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut client = TraceServiceClient::new(channel(&self.endpoint).await);
            for seed in 0..8 {
                let mut request = with_key(traces("unread", seed, 512, 1, 0), Some(&self.key));
                request.set_timeout(Duration::from_secs(5));
                let answer = client.export(request).await;
                answer.unwrap_or_else(|status| panic!("export {seed}: {status:?}"));
            }
        });
    }
}

/// A child process killed (and reaped) when the test ends, even by a panic.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `text` without the SGR sequences (`ESC [ ... m`) of `--color always`.
fn without_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\u{1b}[") {
        plain.push_str(&rest[..at]);
        let sequence = &rest[at + 2..];
        match sequence.find(|c: char| !(c.is_ascii_digit() || c == ';')) {
            Some(end) if sequence[end..].starts_with('m') => rest = &sequence[end + 1..],
            _ => {
                plain.push_str("\u{1b}[");
                rest = sequence;
            }
        }
    }
    plain.push_str(rest);
    plain
}

fn drain(mut from: impl io::Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 8192];
        while let Ok(n @ 1..) = from.read(&mut buffer) {
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    })
}

/// `VmHWM` of process `pid`, in KiB.
pub(crate) fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .expect("a VmHWM line");
    line.split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .expect("VmHWM in kB")
}

/// `POST /v1/{signal}` to an OTLP/HTTP endpoint.
pub(crate) fn otlp_post(
    addr: SocketAddr,
    signal: &str,
    content_type: &str,
    api_key: Option<&str>,
    body: &[u8],
) -> HttpResponse {
    let mut headers = vec![("Content-Type", content_type)];
    if let Some(key) = api_key {
        headers.push(("x-otlp-api-key", key));
    }
    http(addr, "POST", &format!("/v1/{signal}"), &headers, body)
        .unwrap_or_else(|e| panic!("POST /v1/{signal} failed: {e}"))
}

/// A gRPC codec that sends and receives raw bytes, for messages a typed
/// client could never encode (malformed protobuf).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        Self
    }

    fn decoder(&mut self) -> Self {
        Self
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut item = vec![0; src.remaining()];
        src.copy_to_slice(&mut item);
        Ok(Some(item))
    }
}

/// One unary gRPC call to `method` with `body` as the message, as is.
pub(crate) async fn grpc_raw(
    channel: Channel,
    method: &'static str,
    body: Vec<u8>,
    api_key: Option<&str>,
) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    grpc.unary(
        with_key(body, api_key),
        PathAndQuery::from_static(method),
        RawCodec,
    )
    .await
    .map(tonic::Response::into_inner)
}

/// A gRPC request carrying `x-otlp-api-key` when `api_key` is given.
pub(crate) fn with_key<T>(message: T, api_key: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(key) = api_key {
        request
            .metadata_mut()
            .insert("x-otlp-api-key", key.parse().expect("an ASCII key"));
    }
    request
}

pub(crate) async fn channel(endpoint: &str) -> Channel {
    Channel::from_shared(endpoint.to_owned())
        .expect("a URI")
        .connect()
        .await
        .expect("connect to OTLP/gRPC")
}

pub(crate) fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

pub(crate) fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![string("service.name", service)],
        ..Resource::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "backend-tests".to_owned(),
        ..InstrumentationScope::default()
    })
}

/// A trace id unique to (`seed`, `index`).
pub(crate) fn trace_id(seed: u64, index: u64) -> Vec<u8> {
    [seed.to_be_bytes(), (index + 1).to_be_bytes()].concat()
}

pub(crate) const NOW_NS: u64 = 1_750_000_000_000_000_000;

/// `traces` traces of `spans_per_trace` spans each (a root and its children),
/// with trace ids `trace_id(seed, 0..traces)`; `padding` bytes of attribute
/// per span make the request as large as wanted.
pub(crate) fn traces(
    service: &str,
    seed: u64,
    traces: u64,
    spans_per_trace: u64,
    padding: usize,
) -> ExportTraceServiceRequest {
    let filler = "x".repeat(padding);
    let mut spans = Vec::new();
    for t in 0..traces {
        for s in 0..spans_per_trace {
            let span_id = |s: u64| ((t << 16) | (s + 1)).to_be_bytes().to_vec();
            let start = NOW_NS + t * 1_000_000 + s * 1_000;
            spans.push(Span {
                trace_id: trace_id(seed, t),
                span_id: span_id(s),
                parent_span_id: if s == 0 { Vec::new() } else { span_id(0) },
                name: if s == 0 {
                    format!("GET /items/{t}")
                } else {
                    format!("step {s}")
                },
                kind: if s == 0 {
                    SpanKind::Server as i32
                } else {
                    SpanKind::Internal as i32
                },
                start_time_unix_nano: start,
                end_time_unix_nano: start + 500_000,
                attributes: if padding > 0 {
                    vec![string("padding", &filler)]
                } else {
                    Vec::new()
                },
                ..Span::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(service),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

/// `count` INFO log records with the bodies `{prefix} 0`, `{prefix} 1`, ...
pub(crate) fn logs(service: &str, prefix: &str, count: u64) -> ExportLogsServiceRequest {
    let log_records = (0..count)
        .map(|i| LogRecord {
            time_unix_nano: NOW_NS + i,
            observed_time_unix_nano: NOW_NS + i,
            severity_number: 9,
            severity_text: "INFO".to_owned(),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!("{prefix} {i}"))),
            }),
            ..LogRecord::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(service),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

/// One cumulative sum named `name` with `points` points (values 1..=points).
pub(crate) fn counter(service: &str, name: &str, points: u64) -> ExportMetricsServiceRequest {
    let data_points = (0..points)
        .map(|i| NumberDataPoint {
            start_time_unix_nano: NOW_NS,
            time_unix_nano: NOW_NS + (i + 1) * 1_000_000,
            value: Some(number_data_point::Value::AsInt(i as i64 + 1)),
            ..NumberDataPoint::default()
        })
        .collect();
    let metric = Metric {
        name: name.to_owned(),
        unit: "1".to_owned(),
        data: Some(Data::Sum(Sum {
            data_points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        })),
        ..Metric::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(service),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics: vec![metric],
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    }
}
