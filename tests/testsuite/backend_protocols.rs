//! The local backend's OTLP edges, with real clients: OTLP/HTTP in protobuf
//! and JSON, the API key on both transports, malformed, oversized and random
//! input, a flood beyond the caps, and a busy port.
//!
//! Most tests run a [`Backend`] in this process (its store and web API are at
//! hand); the flood and the busy port run the real `cargo otel serve`.

use std::net::SocketAddr;

use cargo_otel::backend::{
    Backend, BackendConfig,
    model::{Counts, LogEntry, MetricSeries, Summary, TraceDetail, TraceSummary},
};
use opentelemetry_proto::tonic::collector::{
    logs::v1::{ExportLogsServiceResponse, logs_service_client::LogsServiceClient},
    metrics::v1::{ExportMetricsServiceResponse, metrics_service_client::MetricsServiceClient},
    trace::v1::{ExportTraceServiceResponse, trace_service_client::TraceServiceClient},
};
use proptest::{
    collection::vec,
    prelude::{Just, Strategy, any},
    prop_oneof,
    test_runner::{Config, TestCaseError, TestRunner},
};
use prost::Message as _;
use tokio::runtime::Runtime;
use tonic::Code;

use crate::support;
use crate::support::backend::{
    GRPC_LOGS, GRPC_METRICS, GRPC_TRACES, Serve, Unread, channel, counter, eventually, grpc_raw,
    logs, otlp_post, sigint, trace_id, traces, with_key,
};
use crate::support::http::{Framing, HttpResponse, WebSession, http, http_framed};

const API_KEY: &str = "test-api-key-0123456789";
const BROWSER_TOKEN: &str = "test-browser-token";
const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";
/// One byte over what both transports accept (gRPC's default message limit).
const OVERSIZED: usize = 4 * 1024 * 1024 + 1;

/// A backend in this process with default caps, on loopback ports picked by the OS.
struct Local {
    runtime: Runtime,
    backend: Option<Backend>,
    http: SocketAddr,
    web: WebSession,
}

impl Local {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut config = BackendConfig::loopback("backend tests");
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        (config.grpc, config.http, config.ui) = (any_port, any_port, any_port);
        config.api_key = Some(API_KEY.to_owned());
        config.browser_token = Some(BROWSER_TOKEN.to_owned());
        let backend = runtime
            .block_on(Backend::start(config))
            .expect("the backend starts");
        let http = backend
            .http_endpoint()
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .expect("an address");
        let web = WebSession::login(backend.ui_addr(), Some(BROWSER_TOKEN));
        Self {
            runtime,
            backend: Some(backend),
            http,
            web,
        }
    }

    fn backend(&self) -> &Backend {
        self.backend.as_ref().expect("running")
    }

    fn grpc(&self) -> tonic::transport::Channel {
        self.runtime
            .block_on(channel(&self.backend().grpc_endpoint()))
    }

    fn post(&self, signal: &str, content_type: &str, body: &[u8]) -> HttpResponse {
        otlp_post(self.http, signal, content_type, Some(API_KEY), body)
    }

    /// A valid export over each transport still goes through, and the web view answers.
    fn assert_still_serving(&self) {
        let request = traces("still-alive", 99, 1, 1, 0);
        let response = self.post("traces", PROTOBUF, &request.encode_to_vec());
        assert_eq!(response.status, 200, "{}", response.text());
        let mut client = TraceServiceClient::new(self.grpc());
        let export = self
            .runtime
            .block_on(client.export(with_key(request, Some(API_KEY))));
        export.expect("a valid gRPC export after bad ones");
        let health = http(self.backend().ui_addr(), "GET", "/health", &[], &[]).unwrap();
        assert_eq!((health.status, health.text().as_str()), (200, "Healthy"));
    }

    fn stop(mut self) {
        let backend = self.backend.take().expect("running");
        self.runtime
            .block_on(backend.stop())
            .expect("the backend stops cleanly");
    }
}

#[test]
fn otlp_http_protobuf_and_json_reach_the_store_and_the_web_api() {
    let local = Local::start();

    // Protobuf, built with the generated types: all three signals.
    let proto_traces = traces("proto-svc", 1, 1, 3, 0);
    let response = local.post("traces", PROTOBUF, &proto_traces.encode_to_vec());
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("content-type"), Some(PROTOBUF));
    ExportTraceServiceResponse::decode(response.body.as_slice()).expect("a protobuf response");
    let response = local.post(
        "metrics",
        PROTOBUF,
        &counter("proto-svc", "proto.requests", 2).encode_to_vec(),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    ExportMetricsServiceResponse::decode(response.body.as_slice()).expect("a protobuf response");
    let response = local.post(
        "logs",
        PROTOBUF,
        &logs("proto-svc", "proto log", 2).encode_to_vec(),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    ExportLogsServiceResponse::decode(response.body.as_slice()).expect("a protobuf response");

    // JSON, written by hand the way the OTLP specification's examples are
    // (hex ids, 64-bit integers as strings, enums as numbers).
    for (signal, body) in [
        ("traces", JSON_TRACES),
        ("metrics", JSON_METRICS),
        ("logs", JSON_LOGS),
    ] {
        let response = local.post(signal, JSON, body.as_bytes());
        assert_eq!(
            response.status,
            200,
            "POST /v1/{signal} (JSON): {}",
            response.text()
        );
        assert_eq!(response.header("content-type"), Some(JSON));
        let _: serde_json::Value = serde_json::from_slice(&response.body).expect("a JSON response");
    }

    let summary = local.web.summary();
    assert_eq!(summary.services, ["json-svc", "proto-svc"]);
    assert_eq!(
        summary.held,
        Counts {
            traces: 2,
            spans: 4,
            logs: 3,
            metric_points: 3
        }
    );
    assert_eq!(
        summary,
        local.backend().store().summary(),
        "the web API shows the store"
    );

    let json_traces: Vec<TraceSummary> = local.web.json("/api/traces?service=json-svc");
    assert_eq!(json_traces.len(), 1, "{json_traces:?}");
    assert_eq!(
        (
            json_traces[0].trace_id.as_str(),
            json_traces[0].root_name.as_str()
        ),
        (JSON_TRACE_ID, "GET /json")
    );
    let detail: TraceDetail = local.web.json(&format!("/api/traces/{JSON_TRACE_ID}"));
    let span = &detail.spans[0];
    assert_eq!(
        (span.span_id.as_str(), span.kind.as_str(), span.duration_ns),
        ("eee19b7ec3c1b174", "server", 1_000_000)
    );
    assert!(
        span.attributes
            .iter()
            .any(|a| a.key == "http.route" && a.value == "/json"),
        "{span:?}"
    );

    let proto_id = hex(&trace_id(1, 0));
    let proto_trace: TraceDetail = local.web.json(&format!("/api/traces/{proto_id}"));
    assert_eq!(proto_trace.spans.len(), 3);
    assert!(proto_trace.spans.iter().all(|s| s.service == "proto-svc"));

    let json_logs: Vec<LogEntry> = local.web.json("/api/logs?service=json-svc");
    assert_eq!(json_logs.len(), 1, "{json_logs:?}");
    assert_eq!(
        (json_logs[0].body.as_str(), json_logs[0].level.as_str()),
        ("hello from json", "WARN")
    );
    assert_eq!(
        json_logs[0].trace_id, JSON_TRACE_ID,
        "the record keeps its trace context"
    );
    let proto_logs: Vec<LogEntry> = local.web.json("/api/logs?service=proto-svc");
    let bodies: Vec<&str> = proto_logs.iter().map(|l| l.body.as_str()).collect();
    assert_eq!(bodies, ["proto log 1", "proto log 0"], "newest first");

    let metrics: Vec<MetricSeries> = local.web.json("/api/metrics");
    let find = |name: &str| {
        metrics
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("no {name} in {metrics:?}"))
    };
    let json_counter = find("json.requests");
    assert_eq!(
        (
            json_counter.service.as_str(),
            json_counter.kind.as_str(),
            json_counter.latest
        ),
        ("json-svc", "sum", 7.0)
    );
    assert_eq!(json_counter.attributes[0].key, "route");
    let proto_counter = find("proto.requests");
    assert_eq!((proto_counter.latest, proto_counter.points.len()), (2.0, 2));
    local.stop();
}

const JSON_TRACE_ID: &str = "5b8efff798038103d269b633813fc60c";

const JSON_TRACES: &str = r#"{"resourceSpans":[{
  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-svc"}}]},
  "scopeSpans":[{"scope":{"name":"json-client","version":"1.0.0"},"spans":[{
    "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"",
    "name":"GET /json","kind":2,
    "startTimeUnixNano":"1750000000000000000","endTimeUnixNano":"1750000000001000000",
    "attributes":[{"key":"http.route","value":{"stringValue":"/json"}},
                  {"key":"http.response.status_code","value":{"intValue":"200"}}],
    "status":{"code":1}}]}]}]}"#;

const JSON_METRICS: &str = r#"{"resourceMetrics":[{
  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-svc"}}]},
  "scopeMetrics":[{"scope":{"name":"json-client"},"metrics":[{
    "name":"json.requests","unit":"1","description":"requests served",
    "sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{
      "startTimeUnixNano":"1750000000000000000","timeUnixNano":"1750000001000000000","asInt":"7",
      "attributes":[{"key":"route","value":{"stringValue":"/json"}}]}]}}]}]}]}"#;

const JSON_LOGS: &str = r#"{"resourceLogs":[{
  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-svc"}}]},
  "scopeLogs":[{"scope":{"name":"json-client"},"logRecords":[{
    "timeUnixNano":"1750000000000500000","observedTimeUnixNano":"1750000000000500000",
    "severityNumber":13,"severityText":"WARN","body":{"stringValue":"hello from json"},
    "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}"#;

#[test]
fn a_wrong_or_missing_api_key_is_refused_on_both_transports_and_nothing_is_stored() {
    let local = Local::start();
    let channel = local.grpc();
    for key in [None, Some("wrong-key"), Some("")] {
        let mut trace_client = TraceServiceClient::new(channel.clone());
        let refused = local
            .runtime
            .block_on(trace_client.export(with_key(traces("intruder", 1, 1, 1, 0), key)));
        assert_eq!(
            refused.expect_err("refused").code(),
            Code::Unauthenticated,
            "traces with key {key:?}"
        );
        let mut metrics_client = MetricsServiceClient::new(channel.clone());
        let refused = local
            .runtime
            .block_on(metrics_client.export(with_key(counter("intruder", "c", 1), key)));
        assert_eq!(
            refused.expect_err("refused").code(),
            Code::Unauthenticated,
            "metrics with key {key:?}"
        );
        let mut logs_client = LogsServiceClient::new(channel.clone());
        let refused = local
            .runtime
            .block_on(logs_client.export(with_key(logs("intruder", "l", 1), key)));
        assert_eq!(
            refused.expect_err("refused").code(),
            Code::Unauthenticated,
            "logs with key {key:?}"
        );

        for (signal, body) in [
            ("traces", traces("intruder", 1, 1, 1, 0).encode_to_vec()),
            ("metrics", counter("intruder", "c", 1).encode_to_vec()),
            ("logs", logs("intruder", "l", 1).encode_to_vec()),
        ] {
            let response = otlp_post(local.http, signal, PROTOBUF, key, &body);
            assert_eq!(
                response.status,
                401,
                "POST /v1/{signal} with key {key:?}: {}",
                response.text()
            );
            assert!(
                response.text().contains("x-otlp-api-key"),
                "the refusal names the header: {}",
                response.text()
            );
            assert!(
                !response.text().contains(API_KEY),
                "the refusal never shows the key"
            );
        }
    }
    let summary = local.web.summary();
    assert_eq!(
        (summary.version, summary.held),
        (0, Counts::default()),
        "nothing was stored: {summary:?}"
    );
    assert!(summary.services.is_empty(), "{summary:?}");

    // The same requests with the key go through.
    let mut client = TraceServiceClient::new(channel);
    local
        .runtime
        .block_on(client.export(with_key(traces("friend", 1, 1, 1, 0), Some(API_KEY))))
        .expect("accepted");
    assert_eq!(local.web.summary().services, ["friend"]);
    local.stop();
}

#[test]
fn malformed_and_oversized_requests_are_refused_and_the_server_keeps_serving() {
    let local = Local::start();
    // Field 1 (resource_spans), length-delimited, claiming far more bytes than follow.
    let truncated = vec![0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01];
    // Field 1 with wire type 7, which does not exist.
    let bad_wire_type = vec![0x0f, 0x00];

    for signal in ["traces", "metrics", "logs"] {
        for body in [&truncated, &bad_wire_type] {
            let response = local.post(signal, PROTOBUF, body);
            assert_eq!(
                response.status,
                400,
                "malformed protobuf to /v1/{signal}: {}",
                response.text()
            );
        }
        let response = local.post(signal, JSON, br#"{"resourceSpans": [{"#);
        assert_eq!(
            response.status,
            400,
            "malformed JSON to /v1/{signal}: {}",
            response.text()
        );
        let response = local.post(signal, "text/plain", b"hello");
        assert_eq!(response.status, 415, "{}", response.text());
    }

    let huge = vec![0x0a; OVERSIZED];
    for framing in [Framing::ContentLength, Framing::Chunked] {
        let headers = [("Content-Type", PROTOBUF), ("x-otlp-api-key", API_KEY)];
        let response = http_framed(local.http, "POST", "/v1/traces", &headers, &huge, framing)
            .expect("an answer");
        assert_eq!(
            response.status,
            413,
            "a body over 4 MiB ({framing:?}): {}",
            response.text()
        );
    }

    let channel = local.grpc();
    for method in [GRPC_TRACES, GRPC_METRICS, GRPC_LOGS] {
        for body in [&truncated, &bad_wire_type] {
            let result = local.runtime.block_on(grpc_raw(
                channel.clone(),
                method,
                body.clone(),
                Some(API_KEY),
            ));
            let status = result.expect_err("malformed protobuf is refused");
            assert_eq!(status.code(), Code::Internal, "{method}: {status:?}");
        }
    }
    // One span whose attribute alone is over the limit, from the typed client.
    let oversized = traces("huge", 7, 1, 1, OVERSIZED);
    assert!(oversized.encoded_len() > OVERSIZED);
    let mut client = TraceServiceClient::new(channel.clone());
    let status = local
        .runtime
        .block_on(client.export(with_key(oversized, Some(API_KEY))))
        .expect_err("refused");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    let status = local
        .runtime
        .block_on(grpc_raw(channel, GRPC_LOGS, huge, Some(API_KEY)))
        .expect_err("refused");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");

    assert_eq!(
        local.web.summary().held,
        Counts::default(),
        "nothing malformed was stored"
    );
    local.assert_still_serving();
    assert_eq!(
        local.web.summary().held.spans,
        2,
        "one span over each transport"
    );
    local.stop();
}

/// Arbitrary bytes, and valid requests with a few bytes overwritten (which
/// get past the first field and into the nested messages).
fn hostile_bodies() -> impl Strategy<Value = Vec<u8>> {
    let valid = [
        traces("fuzz", 3, 2, 3, 8).encode_to_vec(),
        counter("fuzz", "fuzz.count", 3).encode_to_vec(),
        logs("fuzz", "fuzz", 3).encode_to_vec(),
    ];
    let mutated = (0..valid.len(), vec((any::<usize>(), any::<u8>()), 1..6)).prop_map(
        move |(which, edits)| {
            let mut body = valid[which].clone();
            let len = body.len();
            for (at, byte) in edits {
                body[at % len] = byte;
            }
            body
        },
    );
    prop_oneof![vec(any::<u8>(), 0..2048), mutated]
}

#[test]
fn random_bytes_get_an_answer_and_never_bring_the_server_down() {
    let local = Local::start();
    let channel = local.grpc();
    let signals = [
        ("traces", GRPC_TRACES),
        ("metrics", GRPC_METRICS),
        ("logs", GRPC_LOGS),
    ];
    let strategy = (
        0..signals.len(),
        prop_oneof![Just(PROTOBUF), Just(JSON)],
        hostile_bodies(),
    );
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |(signal, content_type, body)| {
        let (path, method) = signals[signal];
        let response = otlp_post(local.http, path, content_type, Some(API_KEY), &body);
        if ![200, 400].contains(&response.status) {
            return Err(TestCaseError::fail(format!(
                "HTTP {}: {}",
                response.status,
                response.text()
            )));
        }
        let answer = local
            .runtime
            .block_on(grpc_raw(channel.clone(), method, body, Some(API_KEY)));
        match answer {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::Internal => Ok(()),
            Err(status) => Err(TestCaseError::fail(format!("gRPC: {status:?}"))),
        }
    });
    result.unwrap();

    // Whatever got stored renders.
    for target in ["/api/summary", "/api/traces", "/api/logs", "/api/metrics"] {
        let response = local.web.get(target);
        assert_eq!(response.status, 200, "GET {target}: {}", response.text());
    }
    let stored: Vec<TraceSummary> = local.web.json("/api/traces");
    for trace in stored.iter().filter(|t| !t.trace_id.is_empty()) {
        let response = local.web.get(&format!("/api/traces/{}", trace.trace_id));
        assert!([200, 404].contains(&response.status), "{}", response.text());
    }
    local.assert_still_serving();
    local.stop();
}

/// How much a flood sends: 64 traces of 8 spans (512 spans) per request,
/// each span carrying 256 bytes of attribute (about 200 KiB per request).
const FLOOD_REQUESTS: u64 = 240;
const FLOOD_TRACES_PER_REQUEST: u64 = 64;
const FLOOD_SPANS_PER_TRACE: u64 = 8;
/// Far above what holding 100 traces, logs and points takes (a debug build
/// peaks near 17 MiB), far below what holding the whole flood would (about
/// 135 MiB with the caps lifted).
const FLOOD_RSS_LIMIT_KIB: u64 = 64 * 1024;

#[test]
fn a_flood_beyond_the_caps_stays_at_the_caps_and_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let caps = [
        "--max-traces",
        "100",
        "--max-logs",
        "100",
        "--max-metric-points",
        "100",
    ];
    let serve = Serve::start(dir.path(), &caps);
    let key = serve.api_key();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let channel = channel(&serve.grpc_endpoint()).await;
        let mut traces_client = TraceServiceClient::new(channel.clone());
        for seed in 0..FLOOD_REQUESTS {
            let request = traces(
                "flood",
                seed,
                FLOOD_TRACES_PER_REQUEST,
                FLOOD_SPANS_PER_TRACE,
                256,
            );
            traces_client
                .export(with_key(request, Some(&key)))
                .await
                .expect("accepted");
        }
        let mut logs_client = LogsServiceClient::new(channel.clone());
        let mut metrics_client = MetricsServiceClient::new(channel);
        for _ in 0..10 {
            logs_client
                .export(with_key(logs("flood", "record", 100), Some(&key)))
                .await
                .expect("accepted");
            metrics_client
                .export(with_key(counter("flood", "flood.count", 100), Some(&key)))
                .await
                .expect("accepted");
        }
    });

    let sent_traces = FLOOD_REQUESTS * FLOOD_TRACES_PER_REQUEST;
    let sent_spans = sent_traces * FLOOD_SPANS_PER_TRACE;
    let summary: Summary = serve.web().summary();
    assert_eq!(
        summary.held,
        Counts {
            traces: 100,
            spans: 100 * FLOOD_SPANS_PER_TRACE,
            logs: 100,
            metric_points: 100
        }
    );
    let evicted = Counts {
        traces: sent_traces - 100,
        spans: sent_spans - 800,
        logs: 900,
        metric_points: 900,
    };
    assert_eq!(summary.evicted, evicted);
    assert_eq!(
        (
            summary.caps.traces,
            summary.caps.logs,
            summary.caps.metric_points
        ),
        (100, 100, 100)
    );
    // The newest traces are the ones kept.
    let kept: Vec<TraceSummary> = serve.web().json("/api/traces?limit=1000");
    let newest = hex(&trace_id(FLOOD_REQUESTS - 1, FLOOD_TRACES_PER_REQUEST - 1));
    assert_eq!(
        (kept.len(), kept[0].trace_id.as_str()),
        (100, newest.as_str())
    );

    let peak_kib = serve.peak_rss_kib();
    assert!(
        peak_kib < FLOOD_RSS_LIMIT_KIB,
        "peak RSS {peak_kib} KiB after the flood"
    );
    let (status, stderr) = serve.interrupt();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains("Stopped after receiving 100 traces, 100 log records, 100 metric points"),
        "{stderr}"
    );
}

/// The terminal feed writes a line per root span. While nobody reads stderr
/// (a terminal paused with Ctrl-S, `serve 2>&1 | less` scrolled back, a
/// supervisor that does not drain the pipe), exports must still go through;
/// once stderr is read again, Ctrl-C stops the server. (The feed once wrote
/// from the request handlers, so a full pipe blocked every runtime thread.)
#[test]
fn an_undrained_stderr_never_blocks_ingest_or_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let unread = Unread::start(dir.path());
    unread.fill_stderr();
    let Unread {
        mut child, stderr, ..
    } = unread;
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr));
    sigint(child.0.id());
    let status = eventually("cargo otel serve to stop after SIGINT", || {
        child.0.try_wait().unwrap()
    });
    let stderr = reader.join().unwrap().unwrap();
    assert!(status.success(), "{status}: {stderr}");
}

#[test]
fn a_busy_grpc_port_names_its_holder_and_the_way_out() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = support::cargo_otel(dir.path())
        .args([
            "serve",
            "--grpc-port",
            &port,
            "--http-port",
            "0",
            "--ui-port",
            "0",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} (OTLP/gRPC) is already in use by `")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("(pid {})", std::process::id())),
        "names this test as the holder: {stderr}"
    );
    assert!(stderr.contains("--grpc-port 0"), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "no `export` lines for a server that did not start"
    );
    drop(held);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `--save FILE`: every export request received, one OTLP/JSON object per
/// line, in place once the server stops (and not before).
#[test]
fn save_writes_every_request_as_otlp_json_lines_when_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("run.jsonl");
    let serve = Serve::start(dir.path(), &["--save", saved.to_str().unwrap()]);
    let key = serve.api_key();
    for (signal, body) in [("traces", JSON_TRACES), ("logs", JSON_LOGS)] {
        let response = otlp_post(serve.http, signal, JSON, Some(&key), body.as_bytes());
        assert_eq!(response.status, 200, "{signal}: {}", response.text());
    }
    assert!(
        !saved.exists(),
        "the file appears only when the server stops"
    );
    let (status, stderr) = serve.interrupt();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("Saved 2 export requests to"), "{stderr}");
    let text = std::fs::read_to_string(&saved).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].get("resourceSpans").is_some() && lines[1].get("resourceLogs").is_some(),
        "{text}"
    );
    assert!(text.contains(JSON_TRACE_ID), "trace ids stay hex: {text}");
}
