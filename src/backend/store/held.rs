//! Everything the store holds, copied out at once, with lookups by name: for
//! callers that wait for particular telemetry to arrive (the end-to-end
//! tests) rather than page through it as the web view does.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

use super::{LogRecordEntry, SpanRecord};
use crate::backend::model::MetricSeries;

/// A copy of what [`super::Store::held`] found.
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// Trace by trace, oldest trace first; within a trace, in arrival order.
    pub spans: Vec<SpanRecord>,
    /// Oldest first.
    pub logs: Vec<LogRecordEntry>,
    pub metrics: Vec<MetricSeries>,
}

impl Held {
    /// Nothing held: no span, log record or metric series.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty() && self.logs.is_empty() && self.metrics.is_empty()
    }

    /// The first span called `name`.
    pub fn find_span(&self, name: &str) -> Option<&SpanRecord> {
        self.spans.iter().find(|record| record.span.name == name)
    }

    /// The first log record whose body is the string `body`.
    pub fn find_log(&self, body: &str) -> Option<&LogRecordEntry> {
        self.logs
            .iter()
            .find(|entry| entry.body_text() == Some(body))
    }

    /// The first series of the metric called `name` (there is one per
    /// service and attribute set).
    pub fn find_metric(&self, name: &str) -> Option<&MetricSeries> {
        self.metrics.iter().find(|series| series.name == name)
    }
}

impl SpanRecord {
    /// A string attribute of the span itself.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        string_attribute(&self.span.attributes, key)
    }
}

impl LogRecordEntry {
    /// The body if it is a plain string (what `tracing::info!("...")` gives).
    pub fn body_text(&self) -> Option<&str> {
        self.record.body.as_ref().and_then(as_str)
    }

    /// A string attribute of the record itself.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        string_attribute(&self.record.attributes, key)
    }
}

/// The value of attribute `key` in `attributes`, if present and a string.
pub fn string_attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(as_str)
}

fn as_str(value: &AnyValue) -> Option<&str> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}
