//! From OTLP records to the web API's shapes, and the filters over them.

use std::fmt::Write as _;

use opentelemetry_proto::tonic::{
    common::v1::{AnyValue, KeyValue, any_value::Value},
    logs::v1::LogRecord,
    resource::v1::Resource,
    trace::v1::{span::SpanKind, status::StatusCode as ProtoStatus},
};

use super::{LogRecordEntry, SpanRecord};
use crate::backend::model::{
    Attribute, LogEntry, LogQuery, RUN, SpanDetail, SpanEvent, SpanLink, StatusCode, TraceDetail,
    TraceQuery, TraceSummary,
};

/// OTLP severity numbers: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN,
/// 17-20 ERROR, 21-24 FATAL.
pub(crate) const SEVERITY_ERROR: i32 = 17;
const LEVELS: [(&str, i32); 6] = [
    ("TRACE", 1),
    ("DEBUG", 5),
    ("INFO", 9),
    ("WARN", 13),
    ("ERROR", 17),
    ("FATAL", 21),
];

pub(crate) fn service_name(resource: Option<&Resource>) -> String {
    let attributes = resource
        .map(|r| r.attributes.as_slice())
        .unwrap_or_default();
    let name = attributes.iter().find(|kv| kv.key == "service.name");
    name.and_then(|kv| kv.value.as_ref())
        .map(render_value)
        .unwrap_or_else(|| "unknown_service".to_owned())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

pub(crate) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) fn render_value(value: &AnyValue) -> String {
    match &value.value {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BytesValue(b)) => hex(b),
        // An index into a profile's string table; traces, logs and metrics never use one.
        Some(Value::StringValueStrindex(index)) => format!("#{index}"),
        Some(Value::ArrayValue(array)) => {
            let items: Vec<String> = array.values.iter().map(render_value).collect();
            format!("[{}]", items.join(", "))
        }
        Some(Value::KvlistValue(list)) => {
            let items: Vec<String> = list
                .values
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv_value(kv)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

fn kv_value(kv: &KeyValue) -> String {
    kv.value.as_ref().map(render_value).unwrap_or_default()
}

pub(crate) fn attributes(list: &[KeyValue]) -> Vec<Attribute> {
    list.iter()
        .map(|kv| Attribute {
            key: kv.key.clone(),
            value: kv_value(kv),
        })
        .collect()
}

fn status(record: &SpanRecord) -> StatusCode {
    match record.span.status.as_ref().map(|s| s.code) {
        Some(code) if code == ProtoStatus::Error as i32 => StatusCode::Error,
        Some(code) if code == ProtoStatus::Ok as i32 => StatusCode::Ok,
        _ => StatusCode::Unset,
    }
}

fn duration(record: &SpanRecord) -> u64 {
    record
        .span
        .end_time_unix_nano
        .saturating_sub(record.span.start_time_unix_nano)
}

fn kind(kind: i32) -> &'static str {
    match SpanKind::try_from(kind) {
        Ok(SpanKind::Server) => "server",
        Ok(SpanKind::Client) => "client",
        Ok(SpanKind::Internal) => "internal",
        Ok(SpanKind::Producer) => "producer",
        Ok(SpanKind::Consumer) => "consumer",
        _ => "unspecified",
    }
}

/// An attribute filter: `KEY=VALUE`, `KEY!=VALUE` or `KEY~TEXT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttrFilter {
    key: String,
    op: AttrOp,
    value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttrOp {
    Equals,
    NotEquals,
    Contains,
}

impl AttrFilter {
    /// `None` for text with no operator or an empty key.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let at = text.find(['=', '!', '~'])?;
        let (key, rest) = text.split_at(at);
        let (op, value) = if let Some(value) = rest.strip_prefix("!=") {
            (AttrOp::NotEquals, value)
        } else if let Some(value) = rest.strip_prefix('=') {
            (AttrOp::Equals, value)
        } else {
            (AttrOp::Contains, rest.strip_prefix('~')?)
        };
        let key = key.trim();
        (!key.is_empty()).then(|| Self {
            key: key.to_owned(),
            op,
            value: if op == AttrOp::Contains {
                value.to_lowercase()
            } else {
                value.to_owned()
            },
        })
    }

    /// Whether one of `lists` has the key with a value that passes.
    pub(crate) fn matches(&self, lists: &[&[KeyValue]]) -> bool {
        let values = lists
            .iter()
            .flat_map(|list| list.iter())
            .filter(|kv| kv.key == self.key)
            .map(kv_value);
        let mut values = values;
        match self.op {
            AttrOp::Equals => values.any(|v| v == self.value),
            AttrOp::NotEquals => values.any(|v| v != self.value),
            AttrOp::Contains => values.any(|v| v.to_lowercase().contains(&self.value)),
        }
    }
}

pub(crate) fn trace_matches(
    spans: &[SpanRecord],
    query: &TraceQuery,
    attr: Option<&AttrFilter>,
) -> bool {
    let service_ok = query
        .service
        .as_deref()
        .is_none_or(|s| spans.iter().any(|r| &*r.service == s));
    let errors_ok = !query.errors.unwrap_or(false)
        || spans
            .iter()
            .any(|r| status(r) == StatusCode::Error || exception(r).is_some());
    let text_ok = match query.q.as_deref().map(str::to_lowercase) {
        None => true,
        Some(needle) => spans.iter().any(|r| {
            r.span.name.to_lowercase().contains(&needle)
                || r.span
                    .attributes
                    .iter()
                    .any(|kv| kv_value(kv).to_lowercase().contains(&needle))
        }),
    };
    let run_ok = query
        .run
        .is_none_or(|wanted| spans.iter().any(|r| r.run == Some(wanted)));
    let since_ok = query.since.is_none_or(|since| bounds(spans).0 >= since);
    let attr_ok = attr.is_none_or(|filter| {
        spans
            .iter()
            .any(|r| filter.matches(&[&r.span.attributes, &r.resource]))
    });
    let duration_ok = query.min_duration_ms.is_some() || query.max_duration_ms.is_some();
    let duration_ok = !duration_ok || {
        let (start, end) = bounds(spans);
        let ms = end.saturating_sub(start) as f64 / 1e6;
        query.min_duration_ms.is_none_or(|min| ms >= min)
            && query.max_duration_ms.is_none_or(|max| ms <= max)
    };
    service_ok && errors_ok && text_ok && run_ok && since_ok && attr_ok && duration_ok
}

/// The earliest start and latest end of the spans.
fn bounds(spans: &[SpanRecord]) -> (u64, u64) {
    let start = spans.iter().map(|r| r.span.start_time_unix_nano).min();
    let end = spans.iter().map(|r| r.span.end_time_unix_nano).max();
    (start.unwrap_or_default(), end.unwrap_or_default())
}

/// The run number a resource carries ([`RUN`]), as a number or as text.
pub(crate) fn run(resource: &[KeyValue]) -> Option<u32> {
    let value = resource.iter().find(|kv| kv.key == RUN)?.value.as_ref()?;
    match value.value.as_ref()? {
        Value::IntValue(number) => u32::try_from(*number).ok(),
        Value::StringValue(text) => text.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn trace_summary(spans: &[SpanRecord]) -> TraceSummary {
    let root = spans
        .iter()
        .find(|r| r.span.parent_span_id.is_empty())
        .unwrap_or(&spans[0]);
    let (start, end) = bounds(spans);
    let mut services: Vec<String> = spans.iter().map(|r| r.service.to_string()).collect();
    services.sort_unstable();
    services.dedup();
    let any_error = spans.iter().any(|r| status(r) == StatusCode::Error);
    let exception = spans.iter().find_map(exception).unwrap_or_default();
    TraceSummary {
        trace_id: hex(&root.span.trace_id),
        service: root.service.to_string(),
        root_name: root.span.name.clone(),
        start_unix_nano: start.to_string(),
        duration_ns: end.saturating_sub(start),
        status: if any_error {
            StatusCode::Error
        } else {
            status(root)
        },
        span_count: spans.len(),
        services,
        exception,
        run: root.run.or_else(|| spans.iter().find_map(|r| r.run)),
    }
}

/// The span's first `exception` event as `type: message` (either alone when
/// the other is missing), following the OpenTelemetry conventions.
fn exception(record: &SpanRecord) -> Option<String> {
    let event = record.span.events.iter().find(|e| e.name == "exception")?;
    let field = |key: &str| {
        let kv = event.attributes.iter().find(|kv| kv.key == key)?;
        kv.value
            .as_ref()
            .map(render_value)
            .filter(|v| !v.is_empty())
    };
    Some(
        match (field("exception.type"), field("exception.message")) {
            (Some(kind), Some(message)) => format!("{kind}: {message}"),
            (Some(only), None) | (None, Some(only)) => only,
            (None, None) => "exception".to_owned(),
        },
    )
}

/// `held` says whether a linked trace is held.
pub(crate) fn trace_detail(
    id: &[u8],
    spans: &[SpanRecord],
    held: impl Fn(&[u8]) -> bool,
) -> TraceDetail {
    let mut details: Vec<SpanDetail> = spans.iter().map(|r| span_detail(r, &held)).collect();
    details.sort_by(|a, b| {
        let start = |d: &SpanDetail| d.start_unix_nano.parse::<u64>().unwrap_or_default();
        start(a).cmp(&start(b))
    });
    TraceDetail {
        trace_id: hex(id),
        spans: details,
    }
}

fn span_detail(record: &SpanRecord, held: impl Fn(&[u8]) -> bool) -> SpanDetail {
    let span = &record.span;
    let links = span.links.iter().map(|link| SpanLink {
        trace_id: hex(&link.trace_id),
        span_id: hex(&link.span_id),
        attributes: attributes(&link.attributes),
        held: held(&link.trace_id),
    });
    let events = span.events.iter().map(|event| SpanEvent {
        name: event.name.clone(),
        time_unix_nano: event.time_unix_nano.to_string(),
        attributes: attributes(&event.attributes),
    });
    SpanDetail {
        span_id: hex(&span.span_id),
        parent_span_id: hex(&span.parent_span_id),
        name: span.name.clone(),
        service: record.service.to_string(),
        kind: kind(span.kind).to_owned(),
        start_unix_nano: span.start_time_unix_nano.to_string(),
        duration_ns: duration(record),
        status: status(record),
        status_message: span
            .status
            .as_ref()
            .map(|s| s.message.clone())
            .unwrap_or_default(),
        attributes: attributes(&span.attributes),
        events: events.collect(),
        scope: record.scope.name.clone(),
        scope_version: record.scope.version.clone(),
        resource: attributes(&record.resource),
        links: links.collect(),
    }
}

/// A log query, parsed once for the whole scan.
pub(crate) struct LogFilter<'q> {
    service: Option<&'q str>,
    run: Option<u32>,
    min_severity: i32,
    text: Option<String>,
    trace_id: Option<Vec<u8>>,
    since: Option<u64>,
    attr: Option<AttrFilter>,
}

impl<'q> LogFilter<'q> {
    pub(crate) fn new(query: &'q LogQuery) -> Self {
        let level = query.level.as_deref().map(str::to_uppercase);
        let min_severity = LEVELS
            .iter()
            .find(|(name, _)| {
                Some(*name) == level.as_deref()
                    || (*name == "WARN" && level.as_deref() == Some("WARNING"))
            })
            .map_or(0, |(_, number)| *number);
        Self {
            service: query.service.as_deref(),
            run: query.run,
            min_severity,
            text: query.q.as_deref().map(str::to_lowercase),
            trace_id: query.trace_id.as_deref().and_then(decode_hex),
            since: query.since,
            attr: query.attr.as_deref().and_then(AttrFilter::parse),
        }
    }

    pub(crate) fn matches(&self, entry: &LogRecordEntry) -> bool {
        let record = &entry.record;
        self.service.is_none_or(|s| &*entry.service == s)
            && self
                .run
                .is_none_or(|wanted| run(&entry.resource) == Some(wanted))
            && record.severity_number >= self.min_severity
            && self
                .trace_id
                .as_ref()
                .is_none_or(|id| &record.trace_id == id)
            && self.since.is_none_or(|since| time(record) >= since)
            && self.text.as_ref().is_none_or(|needle| {
                record
                    .body
                    .as_ref()
                    .is_some_and(|b| render_value(b).to_lowercase().contains(needle))
                    || record
                        .attributes
                        .iter()
                        .any(|kv| kv_value(kv).to_lowercase().contains(needle))
            })
            && self
                .attr
                .as_ref()
                .is_none_or(|filter| filter.matches(&[&record.attributes, &entry.resource]))
    }
}

pub(crate) fn level(severity_number: i32, severity_text: &str) -> String {
    let by_number = LEVELS
        .iter()
        .rev()
        .find(|(_, number)| severity_number >= *number);
    match by_number {
        Some((name, _)) => (*name).to_owned(),
        None if !severity_text.is_empty() => severity_text.to_uppercase(),
        None => "UNSPECIFIED".to_owned(),
    }
}

/// When the record happened: the observed time stands in when the producer
/// did not set one.
fn time(record: &LogRecord) -> u64 {
    if record.time_unix_nano != 0 {
        record.time_unix_nano
    } else {
        record.observed_time_unix_nano
    }
}

pub(crate) fn log_entry(entry: &LogRecordEntry) -> LogEntry {
    let record = &entry.record;
    LogEntry {
        id: entry.id,
        time_unix_nano: time(record).to_string(),
        level: level(record.severity_number, &record.severity_text),
        severity_number: record.severity_number,
        body: record.body.as_ref().map(render_value).unwrap_or_default(),
        service: entry.service.to_string(),
        trace_id: hex(&record.trace_id),
        span_id: hex(&record.span_id),
        attributes: attributes(&record.attributes),
        resource: attributes(&entry.resource),
        scope: entry.scope.name.clone(),
        run: run(&entry.resource),
    }
}
