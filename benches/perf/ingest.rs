//! Area 3: how fast the local backend takes in spans, and how much memory
//! `cargo otel serve` needs under a flood.
//!
//! 1. Spans per second over OTLP/gRPC, 512-span export requests, from 1 and
//!    4 concurrent clients (one connection each, one request in flight each,
//!    as an SDK's batch exporter sends), into
//!    - the real backend (`Backend::start`, default caps, API key on), and
//!    - a baseline: the same gRPC server and API-key check with a sink that
//!      drops every decoded request, so `backend / baseline` is what the
//!      store costs.
//! 2. A flood into a real `cargo otel serve` process (this build's binary,
//!    default caps, its terminal feed going to /dev/null): twice the pool of
//!    spans, 2x the log cap and 2x the metric point cap; its peak RSS
//!    (`VmHWM`) against its RSS before the flood, and the span rate it
//!    sustained against the same binary with `--quiet` (no feed).
//!
//! `INGEST_BATCHES` (default 400, 100 with `--quick`) sets the requests per run.

use std::{
    io::{BufRead as _, BufReader},
    net::SocketAddr,
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    Settings,
    report::{Row, Target},
    support,
};
use cargo_otel::backend::{Backend, BackendConfig, Caps, Sink, collector};
use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    },
    common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value},
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    metrics::v1::{
        AggregationTemporality, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
        metric::Data, number_data_point,
    },
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span::SpanKind, status::StatusCode},
};
use prost::{
    Message as _,
    bytes::{Buf as _, BufMut as _, Bytes},
};
use tokio::{runtime::Runtime, sync::watch};
use tonic::{
    Request,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::http::uri::PathAndQuery,
    transport::{Channel, Server, server::TcpIncoming},
};

const SPANS_PER_BATCH: u64 = 512;
const SPANS_PER_TRACE: u64 = 8;
const API_KEY: &str = "bench-api-key-0123456789abcdef";
const CLIENTS: [usize; 2] = [1, 4];
const TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
const LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
/// The target, on 2 cores.
const TARGET_SPANS_PER_SECOND: f64 = 200_000.0;
/// "Bounded": what the default caps allow, with room to spare.
const TARGET_PEAK_RSS_MIB: f64 = 256.0;

pub(crate) fn run(settings: &Settings) -> Vec<Row> {
    let runs = settings.runs;
    let default_batches = if settings.quick { 100 } else { 400 };
    let batches = setting("INGEST_BATCHES", default_batches).max(1);
    let pool = span_batches(batches as u64);
    let pool_bytes: usize = pool.iter().map(Bytes::len).sum();
    let spans = batches as u64 * SPANS_PER_BATCH;
    println!(
        "ingest: {spans} spans per run in {batches} requests of {SPANS_PER_BATCH} ({} bytes per span encoded)",
        pool_bytes / spans as usize
    );

    let mut rows = ingest_figures(runs, &pool);
    let (mut floods, mut quiet) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        floods.push(flood_serve(&pool, false));
        quiet.push(flood_serve(&pool, true));
    }
    let rates = |floods: &[Flood]| floods.iter().map(|f| f.spans_per_second).collect();
    rows.push(
        Row::new("serve binary, flood, 4 clients", "spans/s", rates(&floods))
            .against("serve binary --quiet (no feed)", rates(&quiet))
            .target(Target::AtLeast(TARGET_SPANS_PER_SECOND)),
    );
    let peaks = floods.iter().map(|f| f.peak_rss_mib).collect();
    let idle = floods.iter().map(|f| f.idle_rss_mib).collect();
    rows.push(
        Row::new(
            "serve binary, peak RSS (VmHWM) after the flood",
            "MiB",
            peaks,
        )
        .against("serve binary, RSS before the flood", idle)
        .target(Target::AtMost(TARGET_PEAK_RSS_MIB)),
    );
    rows
}

/// Spans per second into the backend and the baseline, for each number of
/// clients, and the ratio of the two. Runs alternate between the
/// configurations, so that a slow spell of the machine hits all of them alike
/// (and each backend run has a baseline run beside it for the ratio).
fn ingest_figures(runs: usize, pool: &[Bytes]) -> Vec<Row> {
    let mut rates = vec![[Vec::new(), Vec::new()]; CLIENTS.len()];
    for _ in 0..runs {
        for (rates, clients) in rates.iter_mut().zip(CLIENTS) {
            let backend = ingest_run(Receiver::Backend, clients, pool);
            let baseline = ingest_run(Receiver::Baseline, clients, pool);
            rates[0].push(backend);
            rates[1].push(baseline);
        }
    }
    rates
        .into_iter()
        .zip(CLIENTS)
        .map(|([backend, baseline], clients)| {
            let label = clients_label(clients);
            let row = Row::new(
                format!("{}, {label}", Receiver::Backend.name()),
                "spans/s",
                backend,
            )
            .against(format!("{}, {label}", Receiver::Baseline.name()), baseline);
            if clients > 1 {
                row.target(Target::AtLeast(TARGET_SPANS_PER_SECOND))
            } else {
                row
            }
        })
        .collect()
}

fn clients_label(clients: usize) -> String {
    if clients == 1 {
        "1 client".to_owned()
    } else {
        format!("{clients} clients")
    }
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Receiver {
    Backend,
    Baseline,
}

impl Receiver {
    fn name(self) -> &'static str {
        match self {
            Self::Backend => "backend",
            Self::Baseline => "baseline (decode and drop)",
        }
    }
}

/// The server side: a fresh two-thread runtime (as `cargo otel serve` uses)
/// and a fresh receiver, so every run starts from an empty store.
fn ingest_run(receiver: Receiver, clients: usize, pool: &[Bytes]) -> f64 {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-server")
        .enable_all()
        .build()
        .expect("a runtime");
    let (endpoint, stop) = match receiver {
        Receiver::Backend => {
            let backend = server
                .block_on(Backend::start(backend_config()))
                .expect("the backend starts");
            (backend.grpc_endpoint(), Stop::Backend(Box::new(backend)))
        }
        Receiver::Baseline => {
            let (stop, mut stopped) = watch::channel(false);
            let endpoint = server.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a port");
                let endpoint = format!("http://{}", listener.local_addr().expect("an address"));
                let shutdown = async move {
                    let _ = stopped.wait_for(|&stop| stop).await;
                };
                let (traces, metrics, logs) =
                    collector::services(Arc::new(Discard), Some(API_KEY), true);
                tokio::spawn(
                    Server::builder()
                        .add_service(traces)
                        .add_service(metrics)
                        .add_service(logs)
                        .serve_with_incoming_shutdown(
                            TcpIncoming::from(listener).with_nodelay(Some(true)),
                            shutdown,
                        ),
                );
                endpoint
            });
            (endpoint, Stop::Baseline(stop))
        }
    };
    let client = client_runtime();
    let elapsed = client.block_on(send_all(&endpoint, clients, pool, TRACES));
    let spans = pool.len() as u64 * SPANS_PER_BATCH;
    match stop {
        Stop::Backend(backend) => {
            let summary = backend.store().summary();
            assert_eq!(
                summary.held.spans + summary.evicted.spans,
                spans,
                "every span arrived: {summary:?}"
            );
            server.block_on(backend.stop()).expect("the backend stops");
        }
        Stop::Baseline(stop) => {
            stop.send_replace(true);
        }
    }
    server.shutdown_timeout(Duration::from_secs(5));
    spans as f64 / elapsed.as_secs_f64()
}

enum Stop {
    Backend(Box<Backend>),
    Baseline(watch::Sender<bool>),
}

fn backend_config() -> BackendConfig {
    let mut config = BackendConfig::loopback("bench");
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    (config.grpc, config.http, config.ui) = (any_port, any_port, any_port);
    config.api_key = Some(API_KEY.to_owned());
    config.browser_token = Some("bench-token".to_owned());
    config.caps = Caps::default();
    config
}

/// Decodes (tonic does, before the sink sees the request) and drops.
struct Discard;

impl Sink for Discard {
    fn traces(&self, request: ExportTraceServiceRequest) {
        drop(std::hint::black_box(request));
    }

    fn metrics(&self, request: ExportMetricsServiceRequest) {
        drop(std::hint::black_box(request));
    }

    fn logs(&self, request: ExportLogsServiceRequest) {
        drop(std::hint::black_box(request));
    }
}

/// One thread: sending pre-encoded requests takes little, and the server
/// gets as much of a 2-core machine as it can use.
fn client_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Sends every request of `pool` to `method`, split round-robin over
/// `clients` connections, each waiting for one answer before the next
/// request; returns the time from the first request to the last answer.
async fn send_all(
    endpoint: &str,
    clients: usize,
    pool: &[Bytes],
    method: &'static str,
) -> Duration {
    let mut connections = Vec::new();
    for _ in 0..clients {
        let channel = Channel::from_shared(endpoint.to_owned())
            .expect("a URI")
            .connect()
            .await
            .expect("connect");
        connections.push(tonic::client::Grpc::new(channel));
    }
    let start = Instant::now();
    let tasks: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(index, mut grpc)| {
            let mine: Vec<Bytes> = pool.iter().skip(index).step_by(clients).cloned().collect();
            tokio::spawn(async move {
                for body in mine {
                    grpc.ready().await.expect("ready");
                    let mut request = Request::new(body);
                    request
                        .metadata_mut()
                        .insert("x-otlp-api-key", API_KEY.parse().expect("ASCII"));
                    grpc.unary(request, PathAndQuery::from_static(method), RawCodec)
                        .await
                        .expect("accepted");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a client task");
    }
    start.elapsed()
}

/// Sends pre-encoded messages as they are, so the clients spend no time on
/// protobuf encoding (they share the machine with the server).
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
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
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

struct Flood {
    spans_per_second: f64,
    idle_rss_mib: f64,
    peak_rss_mib: f64,
}

/// One `cargo otel serve` process, default caps: the span pool twice, then
/// twice the log cap and twice the metric point cap. `quiet` turns its
/// terminal feed off (`--quiet`).
fn flood_serve(pool: &[Bytes], quiet: bool) -> Flood {
    let mut child = support::backend::serve_command(&std::env::temp_dir())
        .args(["--api-key", API_KEY])
        .args(quiet.then_some("--quiet"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo-otel serve starts");
    let stdout = child.stdout.take().expect("piped");
    let endpoint = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("export OTEL_EXPORTER_OTLP_ENDPOINT=")
                .map(str::to_owned)
        })
        .expect("the endpoint on stdout");
    let idle_rss_mib = proc_status_kib(child.id(), "VmRSS:") as f64 / 1024.0;
    let caps = Caps::default();
    let logs = log_batches(2 * caps.logs as u64);
    let points = metric_batches(2 * caps.metric_points as u64);
    let client = client_runtime();
    let (first, second) = client.block_on(async {
        let first = send_all(&endpoint, 4, pool, TRACES).await;
        let second = send_all(&endpoint, 4, pool, TRACES).await;
        send_all(&endpoint, 4, &logs, LOGS).await;
        send_all(&endpoint, 4, &points, METRICS).await;
        (first, second)
    });
    let peak_rss_mib = proc_status_kib(child.id(), "VmHWM:") as f64 / 1024.0;
    let pid = child.id().to_string();
    let stopped = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let status = child.wait().expect("cargo-otel serve exits");
    assert!(status.success(), "cargo otel serve: {status}");
    let spans = 2 * pool.len() as u64 * SPANS_PER_BATCH;
    Flood {
        spans_per_second: spans as f64 / (first + second).as_secs_f64(),
        idle_rss_mib,
        peak_rss_mib,
    }
}

/// A `kB` line of `/proc/PID/status` (`VmRSS:`, `VmHWM:`).
fn proc_status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in /proc/PID/status"));
    line.split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .expect("a figure in kB")
}

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..KeyValue::default()
    }
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![
            string("service.name", "bench-service"),
            string("service.version", "1.2.3"),
            string("host.name", "bench-host"),
        ],
        ..Resource::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "bench".to_owned(),
        version: "0.1.0".to_owned(),
        ..InstrumentationScope::default()
    })
}

const NOW_NS: u64 = 1_750_000_000_000_000_000;

/// `count` requests of 512 spans: 64 traces of 8 spans (a server root, an
/// internal span and six client calls under it), shaped like an HTTP
/// service's, every trace id distinct across the pool.
fn span_batches(count: u64) -> Vec<Bytes> {
    (0..count)
        .map(|batch| {
            let spans = (0..SPANS_PER_BATCH).map(|i| span(batch, i)).collect();
            let request = ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: resource(),
                    scope_spans: vec![ScopeSpans {
                        scope: scope(),
                        spans,
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                }],
            };
            Bytes::from(request.encode_to_vec())
        })
        .collect()
}

fn span(batch: u64, index: u64) -> Span {
    let trace = batch * (SPANS_PER_BATCH / SPANS_PER_TRACE) + index / SPANS_PER_TRACE;
    let position = index % SPANS_PER_TRACE;
    let span_id = |position: u64| ((trace << 8) | (position + 1)).to_be_bytes().to_vec();
    let start = NOW_NS + trace * 10_000_000 + position * 100_000;
    let (name, kind, parent, attributes) = match position {
        0 => (
            "GET /api/orders/{id}".to_owned(),
            SpanKind::Server,
            Vec::new(),
            vec![
                string("http.request.method", "GET"),
                string("url.path", &format!("/api/orders/{trace}")),
                string("http.route", "/api/orders/{id}"),
                int("http.response.status_code", 200),
            ],
        ),
        1 => (
            "load order".to_owned(),
            SpanKind::Internal,
            span_id(0),
            vec![int("order.items", 3)],
        ),
        _ => (
            "SELECT orders".to_owned(),
            SpanKind::Client,
            span_id(1),
            vec![
                string("db.system.name", "postgresql"),
                string("db.query.text", "SELECT * FROM orders WHERE id = $1"),
            ],
        ),
    };
    Span {
        trace_id: [trace.to_be_bytes(), 0xbe9c_u64.to_be_bytes()].concat(),
        span_id: span_id(position),
        parent_span_id: parent,
        name,
        kind: kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + 2_000_000 - position * 100_000,
        attributes,
        status: Some(Status {
            code: StatusCode::Unset as i32,
            ..Status::default()
        }),
        ..Span::default()
    }
}

/// `records` log records in requests of 512.
fn log_batches(records: u64) -> Vec<Bytes> {
    let requests = records.div_ceil(512);
    (0..requests)
        .map(|r| {
            let log_records = (0..512)
                .map(|i| LogRecord {
                    time_unix_nano: NOW_NS + r * 512 + i,
                    severity_number: 9,
                    severity_text: "INFO".to_owned(),
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(format!(
                            "order {} loaded in {i} ms",
                            r * 512 + i
                        ))),
                    }),
                    attributes: vec![string("code.function.name", "load_order")],
                    ..LogRecord::default()
                })
                .collect();
            let request = ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    resource: resource(),
                    scope_logs: vec![ScopeLogs {
                        scope: scope(),
                        log_records,
                        ..ScopeLogs::default()
                    }],
                    ..ResourceLogs::default()
                }],
            };
            Bytes::from(request.encode_to_vec())
        })
        .collect()
}

/// `points` points of 16 counter series, 512 points per request.
fn metric_batches(points: u64) -> Vec<Bytes> {
    let requests = points.div_ceil(512);
    (0..requests)
        .map(|r| {
            let metrics = (0..16)
                .map(|series| {
                    let data_points = (0..32)
                        .map(|i| NumberDataPoint {
                            start_time_unix_nano: NOW_NS,
                            time_unix_nano: NOW_NS + (r * 32 + i) * 1_000_000,
                            value: Some(number_data_point::Value::AsInt((r * 32 + i) as i64)),
                            attributes: vec![string("http.route", &format!("/api/route/{series}"))],
                            ..NumberDataPoint::default()
                        })
                        .collect();
                    Metric {
                        name: "http.server.requests".to_owned(),
                        unit: "1".to_owned(),
                        data: Some(Data::Sum(Sum {
                            data_points,
                            aggregation_temporality: AggregationTemporality::Cumulative as i32,
                            is_monotonic: true,
                        })),
                        ..Metric::default()
                    }
                })
                .collect();
            let request = ExportMetricsServiceRequest {
                resource_metrics: vec![ResourceMetrics {
                    resource: resource(),
                    scope_metrics: vec![ScopeMetrics {
                        scope: scope(),
                        metrics,
                        ..ScopeMetrics::default()
                    }],
                    ..ResourceMetrics::default()
                }],
            };
            Bytes::from(request.encode_to_vec())
        })
        .collect()
}
