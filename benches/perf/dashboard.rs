//! `dashboard`: the built-in dashboard with its store full at the default
//! caps (10k traces of 10 spans, 10k log records, 50k metric points, a fifth
//! of them histogram points), served in process on 127.0.0.1:
//!
//! * the API's p95 per endpoint over `REQUESTS` requests a run (target: at
//!   most 50 ms), and the filtered queries the list views send (at most
//!   100 ms: filtering is done by the server);
//! * each page in headless Chromium: the wall time of loading and drawing it
//!   over a full store, less the same page over an empty store in the same
//!   run (target: at most 300 ms), so Chromium's own start-up and the
//!   page's fixed cost cancel out.

use std::{net::SocketAddr, time::Instant};

use cargo_otel::backend::{
    Caps, Store,
    web::{WebConfig, router},
};
use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    },
    common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value},
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    metrics::v1::{
        AggregationTemporality, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
        ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
    },
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans, Span},
};
use tokio::runtime::Runtime;

use crate::{
    Settings,
    report::{Row, Target},
    support::{chromium::chromium, http::http},
};

const SPANS_PER_TRACE: u64 = 10;
const NOW: u64 = 1_750_000_000_000_000_000;
const MS: u64 = 1_000_000;

/// `(what, path)` of the API calls the views make, unfiltered.
const ENDPOINTS: [(&str, &str); 7] = [
    ("summary", "/api/summary"),
    ("traces (500)", "/api/traces?limit=501"),
    ("one trace", "/api/traces/00000000000000000000000000001388"),
    ("logs (500)", "/api/logs?limit=501"),
    (
        "metrics list (60 points a series)",
        "/api/metrics?points=60",
    ),
    (
        "one instrument (every point)",
        "/api/metrics?service=bench-api&q=latency.3",
    ),
    ("every point of every series", "/api/metrics"),
];

/// The filtered calls: text, attribute, duration, level, a page further on.
const FILTERS: [(&str, &str); 5] = [
    ("traces ?q=", "/api/traces?limit=501&q=items%2F4242"),
    ("traces ?attr=", "/api/traces?limit=501&attr=tenant%3Dt-7"),
    (
        "traces ?min_duration_ms=",
        "/api/traces?limit=501&min_duration_ms=9",
    ),
    (
        "logs ?attr=&level=",
        "/api/logs?limit=501&level=warn&attr=tenant~T-3",
    ),
    ("traces page 10", "/api/traces?limit=501&offset=5000"),
];

const PAGES: [&str; 4] = ["#/traces", "#/logs", "#/metrics", "#/traces?q=items%2F4242"];

pub(crate) fn run(settings: &Settings) -> Vec<Row> {
    let requests = if settings.quick { 20 } else { 60 };
    let runtime = Runtime::new().expect("a tokio runtime");
    let full = serve(&runtime, full_store());
    let empty = serve(&runtime, Store::new(Caps::default()));
    let mut rows = Vec::new();
    for (what, target, limit) in ENDPOINTS
        .iter()
        .map(|(w, p)| (w, p, 50.0))
        .chain(FILTERS.iter().map(|(w, p)| (w, p, 100.0)))
    {
        let runs = (0..settings.runs)
            .map(|_| p95(full, target, requests))
            .collect();
        rows.push(Row::new(format!("API p95: {what}"), "ms", runs).target(Target::AtMost(limit)));
    }
    let Some(chromium) = chromium() else {
        return rows;
    };
    for page in PAGES {
        let load = |addr: SocketAddr| {
            let started = Instant::now();
            chromium.dump_dom(&format!("http://{addr}/{page}"));
            started.elapsed().as_secs_f64() * 1e3
        };
        let runs = (0..settings.runs)
            .map(|_| {
                let base = load(empty);
                load(full) - base
            })
            .collect();
        let row = Row::new(format!("page {page}: full minus empty"), "ms", runs);
        rows.push(row.target(Target::AtMost(300.0)));
    }
    rows
}

/// The 95th percentile of `n` sequential `GET path`s, in milliseconds.
fn p95(addr: SocketAddr, path: &str, n: usize) -> f64 {
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let started = Instant::now();
            let response = http(addr, "GET", path, &[], b"").expect("GET");
            assert_eq!(response.status, 200, "{path}: {}", response.text());
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let at = ((times.len() as f64) * 0.95).ceil() as usize;
    times[at.saturating_sub(1).min(times.len() - 1)]
}

/// The dashboard over `store`, anonymous, on a free port of 127.0.0.1.
fn serve(runtime: &Runtime, store: Store) -> SocketAddr {
    let config = WebConfig {
        browser_token: None,
        application_name: "bench".to_owned(),
    };
    let app = router(store, config);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("an address");
    runtime.spawn(async move { axum::serve(listener, app).await });
    addr
}

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![
            text("service.name", "bench-api"),
            text("host.name", "bench"),
        ],
        ..Resource::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "bench".to_owned(),
        version: "1.0.0".to_owned(),
        ..InstrumentationScope::default()
    })
}

/// A store at its default caps, every cap reached.
fn full_store() -> Store {
    let caps = Caps::default();
    let store = Store::new(caps);
    for t in 0..caps.traces as u64 {
        let spans = (0..SPANS_PER_TRACE).map(|s| {
            let start = NOW + t * 10 * MS + s * MS;
            Span {
                trace_id: ((t + 1) as u128).to_be_bytes().to_vec(),
                span_id: ((t << 8) | (s + 1)).to_be_bytes().to_vec(),
                parent_span_id: if s == 0 {
                    Vec::new()
                } else {
                    (t << 8 | 1).to_be_bytes().to_vec()
                },
                name: if s == 0 {
                    format!("GET /items/{t}")
                } else {
                    format!("step {s}")
                },
                start_time_unix_nano: start,
                end_time_unix_nano: start + (t % 10 + 1) * MS,
                attributes: vec![
                    text("tenant", &format!("t-{}", t % 10)),
                    text("http.route", "/items/{id}"),
                ],
                ..Span::default()
            }
        });
        store.ingest_traces(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(),
                scope_spans: vec![ScopeSpans {
                    scope: scope(),
                    spans: spans.collect(),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        });
    }
    let records = (0..caps.logs as u64).map(|i| LogRecord {
        time_unix_nano: NOW + i * MS,
        severity_number: [9, 13, 17][(i % 3) as usize],
        body: Some(AnyValue {
            value: Some(Value::StringValue(format!("handled request {i}"))),
        }),
        attributes: vec![text("tenant", &format!("t-{}", i % 10))],
        ..LogRecord::default()
    });
    store.ingest_logs(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records: records.collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    });
    // 50 series (10 histograms, 40 counters) of 1000 points: one export a second.
    for i in 0..(caps.metric_points / 50) as u64 {
        let time_unix_nano = NOW + i * 1_000 * MS;
        let metrics = (0..50).map(|m| {
            let attributes = vec![text("route", &format!("/r{m}"))];
            let data = if m < 10 {
                let bounds = vec![
                    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 1000.0,
                ];
                Data::Histogram(Histogram {
                    data_points: vec![HistogramDataPoint {
                        attributes,
                        time_unix_nano,
                        count: 10 * (i + 1),
                        sum: Some(300.0 * (i + 1) as f64),
                        bucket_counts: vec![0, 1, 1, 2, 3, 2, 1, 0, 0, 0, 0]
                            .into_iter()
                            .map(|c| c * (i + 1))
                            .collect(),
                        explicit_bounds: bounds,
                        ..HistogramDataPoint::default()
                    }],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                })
            } else {
                Data::Sum(Sum {
                    data_points: vec![NumberDataPoint {
                        attributes,
                        time_unix_nano,
                        value: Some(number_data_point::Value::AsInt(i as i64 * 3)),
                        ..NumberDataPoint::default()
                    }],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                })
            };
            Metric {
                name: if m < 10 {
                    format!("latency.{m}")
                } else {
                    format!("requests.{m}")
                },
                unit: if m < 10 {
                    "ms".to_owned()
                } else {
                    "{request}".to_owned()
                },
                data: Some(data),
                ..Metric::default()
            }
        });
        store.ingest_metrics(ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource(),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope(),
                    metrics: metrics.collect(),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        });
    }
    let held = store.summary().held;
    assert_eq!(
        (held.traces, held.spans, held.logs, held.metric_points),
        (
            caps.traces as u64,
            caps.spans as u64,
            caps.logs as u64,
            caps.metric_points as u64
        ),
        "the store is full at its default caps"
    );
    store
}
