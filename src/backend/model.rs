//! What the local backend shows: the JSON shapes of its web API.
//!
//! Ids are lowercase hex (32 characters for traces, 16 for spans), times are
//! Unix nanoseconds as strings (JavaScript numbers lose precision past 2^53),
//! durations are nanoseconds as numbers.

use serde::{Deserialize, Serialize};

/// The resource attribute that numbers the runs of a program under `cargo
/// otel dash` (1, then 2, 3, ... for each rerun under `--watch`); the
/// `run` filter of the trace and log queries matches it.
pub const RUN: &str = "cargo_otel.run";
/// The resource attribute with the time a run started (RFC 3339, UTC).
pub const RUN_STARTED: &str = "cargo_otel.run.started";

/// `GET /api/summary`: what is held, what was evicted, and a version that
/// changes whenever anything arrives (the page polls it for live updates).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub version: u64,
    pub services: Vec<String>,
    pub held: Counts,
    pub evicted: Counts,
    pub caps: Counts,
    pub memory: Memory,
}

/// What the held telemetry takes, as the store counts it, and its cap.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Memory {
    pub held_bytes: u64,
    pub cap_bytes: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub traces: u64,
    pub spans: u64,
    pub logs: u64,
    pub metric_points: u64,
}

/// `GET /api/traces?service=S&q=TEXT&errors=true&since=NANOS&limit=N`: newest first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TraceSummary {
    pub trace_id: String,
    /// The root span's service (the first span's if the root has not arrived).
    pub service: String,
    pub root_name: String,
    pub start_unix_nano: String,
    pub duration_ns: u64,
    pub status: StatusCode,
    pub span_count: usize,
    pub services: Vec<String>,
    /// The first exception recorded in the trace, as `type: message`; empty
    /// when there is none.
    pub exception: String,
}

/// `GET /api/traces/{trace_id}`: every span, ordered by start time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TraceDetail {
    pub trace_id: String,
    pub spans: Vec<SpanDetail>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpanDetail {
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub name: String,
    pub service: String,
    /// `server`, `client`, `internal`, `producer`, `consumer` or `unspecified`.
    pub kind: String,
    pub start_unix_nano: String,
    pub duration_ns: u64,
    pub status: StatusCode,
    pub status_message: String,
    pub attributes: Vec<Attribute>,
    pub events: Vec<SpanEvent>,
    /// The instrumentation scope (library) that recorded the span.
    pub scope: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpanEvent {
    pub name: String,
    pub time_unix_nano: String,
    pub attributes: Vec<Attribute>,
}

/// An attribute with its value rendered as text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Attribute {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StatusCode {
    Unset,
    Ok,
    Error,
}

/// `GET /api/logs?service=S&level=warn&q=TEXT&trace_id=ID&since=NANOS&after=ID&limit=N`:
/// newest first.
/// `level` is the minimum severity: trace, debug, info, warn, error, fatal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogEntry {
    /// `GET /api/logs/{id}` answers with this record while it is held.
    pub id: u64,
    pub time_unix_nano: String,
    /// `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL` (from the severity number).
    pub level: String,
    pub severity_number: i32,
    pub body: String,
    pub service: String,
    /// Empty when the record was not emitted inside a span.
    pub trace_id: String,
    pub span_id: String,
    pub attributes: Vec<Attribute>,
    /// The attributes of the resource that emitted it.
    pub resource: Vec<Attribute>,
    pub scope: String,
}

/// `GET /api/metrics?service=S`: one entry per series (service, scope, name,
/// attribute set), with its points oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricSeries {
    pub name: String,
    pub service: String,
    pub description: String,
    pub unit: String,
    /// `sum`, `gauge`, `histogram`, `exponential_histogram` or `summary`.
    pub kind: String,
    pub attributes: Vec<Attribute>,
    pub latest: f64,
    pub points: Vec<MetricPoint>,
}

/// A sum or gauge value; for histograms and summaries, the sum of the
/// observations (with `count` set).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricPoint {
    pub time_unix_nano: String,
    pub value: f64,
    pub count: Option<u64>,
}

/// Query string of `GET /api/traces`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TraceQuery {
    pub service: Option<String>,
    /// Matched against span names and attribute values, case-insensitively.
    pub q: Option<String>,
    /// Only traces with an error span.
    pub errors: Option<bool>,
    /// Only traces with a span of this run ([`RUN`]).
    pub run: Option<u32>,
    /// Only traces that started at or after this time (Unix nanoseconds).
    pub since: Option<u64>,
    pub limit: Option<usize>,
}

/// Query string of `GET /api/logs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogQuery {
    pub service: Option<String>,
    /// Minimum level: trace, debug, info, warn, error or fatal.
    pub level: Option<String>,
    /// Matched against the body and attribute values, case-insensitively.
    pub q: Option<String>,
    pub trace_id: Option<String>,
    /// Only records of this run ([`RUN`]).
    pub run: Option<u32>,
    /// Only records from this time on (Unix nanoseconds).
    pub since: Option<u64>,
    /// Only records that arrived after the one with this id: what a client
    /// following the logs has not seen yet.
    pub after: Option<u64>,
    pub limit: Option<usize>,
}

/// Query string of `GET /api/metrics`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MetricQuery {
    pub service: Option<String>,
    pub q: Option<String>,
}
