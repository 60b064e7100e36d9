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
    /// The run of `cargo otel dash` that sent it ([`RUN`]), when labelled.
    #[serde(default)]
    pub run: Option<u32>,
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
    /// The scope's version; empty when it sent none.
    #[serde(default)]
    pub scope_version: String,
    /// Every attribute of the resource that emitted the span (`service.name`
    /// among them).
    #[serde(default)]
    pub resource: Vec<Attribute>,
    #[serde(default)]
    pub links: Vec<SpanLink>,
}

/// A span's link to another span, maybe of another trace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SpanLink {
    pub trace_id: String,
    pub span_id: String,
    pub attributes: Vec<Attribute>,
    /// Whether the linked trace is held, so `GET /api/traces/{trace_id}` has it.
    pub held: bool,
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
    /// The run of `cargo otel dash` that emitted it ([`RUN`]), when labelled.
    #[serde(default)]
    pub run: Option<u32>,
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
    /// The meter (instrumentation scope) that recorded the series, and its
    /// version (empty when none was sent).
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub scope_version: String,
    /// Sums and histograms: `cumulative` (each point counts from the start)
    /// or `delta` (each point counts since the previous one); else empty.
    #[serde(default)]
    pub temporality: String,
    /// Histograms: the distribution of the newest point (for cumulative
    /// temporality, everything since the start; for delta, the points held
    /// merged). `None` for other kinds.
    #[serde(default)]
    pub histogram: Option<HistogramStats>,
}

/// Count, sum, average and percentiles of a histogram, in the metric's unit.
/// The percentiles are estimated from the buckets: the bucket holding the
/// rank, with linear interpolation between its bounds (an open-ended bucket
/// is closed by the point's `min`/`max` when sent, else by its finite bound),
/// so each lies within the bounds of the bucket that holds it.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct HistogramStats {
    pub count: u64,
    pub sum: f64,
    /// `sum / count`; 0 when empty.
    pub avg: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

/// A sum or gauge value; for histograms and summaries, the sum of the
/// observations (with `count` set).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricPoint {
    pub time_unix_nano: String,
    pub value: f64,
    pub count: Option<u64>,
    /// Histograms: the point's buckets; exponential histograms come converted
    /// to explicit bounds.
    #[serde(default)]
    pub buckets: Option<Buckets>,
    /// Histograms: the point's own distribution (see [`HistogramStats`]).
    #[serde(default)]
    pub histogram: Option<HistogramStats>,
    /// Measurements the SDK sent as examples, with the span they were taken in.
    #[serde(default)]
    pub exemplars: Vec<Exemplar>,
}

/// A histogram's buckets as explicit upper bounds, ascending: `counts[i]`
/// observations fell in `(bounds[i-1], bounds[i]]`, and the last count above
/// the last bound (so `counts` has one more entry than `bounds`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Buckets {
    pub bounds: Vec<f64>,
    pub counts: Vec<u64>,
}

/// One measurement an SDK sent along with a metric point.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Exemplar {
    pub time_unix_nano: String,
    pub value: f64,
    /// Empty when it was not taken inside a sampled span.
    pub trace_id: String,
    pub span_id: String,
}

/// Query string of `GET /api/traces`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
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
    /// An attribute filter (see [`LogQuery::attr`]) any span of the trace, or
    /// its resource, must pass.
    pub attr: Option<String>,
    /// Only traces that took at least (at most) this long, in milliseconds.
    pub min_duration_ms: Option<f64>,
    pub max_duration_ms: Option<f64>,
    /// Skips this many matches (newest first): the next page.
    pub offset: Option<usize>,
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
    /// `KEY=VALUE`, `KEY!=VALUE` (the key is there with another value) or
    /// `KEY~TEXT` (the value contains the text, case-insensitively), over the
    /// record's attributes and its resource's.
    pub attr: Option<String>,
    /// Skips this many matches (newest first): the next page.
    pub offset: Option<usize>,
}

/// Query string of `GET /api/metrics`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MetricQuery {
    pub service: Option<String>,
    pub q: Option<String>,
    /// Only the newest this many points of each series (the statistics
    /// still cover every held point).
    pub points: Option<usize>,
}
