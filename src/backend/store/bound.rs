//! What the store keeps of a record: text cut to the lengths in
//! [`crate::backend::limits`], lists to their counts, and the bytes the
//! record then takes, as the byte cap counts them: strings and byte strings
//! at their length plus every struct's own size (allocator overhead and
//! spare capacity are not counted).

use std::mem::size_of;

use opentelemetry_proto::tonic::{
    common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value},
    logs::v1::LogRecord,
    metrics::v1::{Metric, metric::Data},
    trace::v1::{
        Span,
        span::{Event, Link},
    },
};

use super::{LogRecordEntry, SpanRecord};
use crate::backend::limits::{
    MAX_ATTRIBUTE_COUNT, MAX_NAME_LENGTH, MAX_SPAN_EVENT_COUNT, MAX_SPAN_LINK_COUNT,
    MAX_VALUE_LENGTH,
};

/// Cuts `text` to at most `max` bytes (at a character boundary) and marks
/// the cut with `…`, giving back the memory cut off.
pub(crate) fn truncate(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    text.shrink_to_fit();
}

/// Keeps the first `max` items (or bytes) of `list`, giving back the memory
/// of the rest.
fn keep_first<T>(list: &mut Vec<T>, max: usize) {
    if list.len() > max {
        list.truncate(max);
        list.shrink_to_fit();
    }
}

/// Bounds a span in place; returns its size without its service and scope.
pub(super) fn span(span: &mut Span) -> usize {
    truncate(&mut span.name, MAX_NAME_LENGTH);
    truncate(&mut span.trace_state, MAX_VALUE_LENGTH);
    keep_first(&mut span.span_id, MAX_NAME_LENGTH);
    keep_first(&mut span.parent_span_id, MAX_NAME_LENGTH);
    keep_first(&mut span.events, MAX_SPAN_EVENT_COUNT);
    keep_first(&mut span.links, MAX_SPAN_LINK_COUNT);
    let mut size = size_of::<SpanRecord>()
        + span.trace_id.len()
        + span.span_id.len()
        + span.parent_span_id.len()
        + span.trace_state.len()
        + span.name.len()
        + attributes(&mut span.attributes);
    for event in &mut span.events {
        truncate(&mut event.name, MAX_NAME_LENGTH);
        size += size_of::<Event>() + event.name.len() + attributes(&mut event.attributes);
    }
    for link in &mut span.links {
        keep_first(&mut link.trace_id, MAX_NAME_LENGTH);
        keep_first(&mut link.span_id, MAX_NAME_LENGTH);
        truncate(&mut link.trace_state, MAX_VALUE_LENGTH);
        size += size_of::<Link>()
            + link.trace_id.len()
            + link.span_id.len()
            + link.trace_state.len()
            + attributes(&mut link.attributes);
    }
    if let Some(status) = &mut span.status {
        truncate(&mut status.message, MAX_VALUE_LENGTH);
        size += status.message.len();
    }
    size
}

/// Bounds a log record in place; returns its size without its service and
/// scope.
pub(super) fn log(record: &mut LogRecord) -> usize {
    truncate(&mut record.severity_text, MAX_NAME_LENGTH);
    truncate(&mut record.event_name, MAX_NAME_LENGTH);
    keep_first(&mut record.trace_id, MAX_NAME_LENGTH);
    keep_first(&mut record.span_id, MAX_NAME_LENGTH);
    let body = record.body.as_mut().map_or(0, value);
    size_of::<LogRecordEntry>()
        + record.severity_text.len()
        + record.event_name.len()
        + record.trace_id.len()
        + record.span_id.len()
        + body
        + attributes(&mut record.attributes)
}

/// Bounds a scope in place (shared by a batch of records); returns its size.
pub(super) fn scope(scope: &mut InstrumentationScope) -> usize {
    truncate(&mut scope.name, MAX_NAME_LENGTH);
    truncate(&mut scope.version, MAX_NAME_LENGTH);
    size_of::<InstrumentationScope>()
        + scope.name.len()
        + scope.version.len()
        + attributes(&mut scope.attributes)
}

/// Bounds a metric's texts and its points' attributes in place (the series
/// store measures what it keeps of them).
pub(super) fn metric(metric: &mut Metric) {
    truncate(&mut metric.name, MAX_NAME_LENGTH);
    truncate(&mut metric.unit, MAX_NAME_LENGTH);
    truncate(&mut metric.description, MAX_VALUE_LENGTH);
    let lists: Vec<&mut Vec<KeyValue>> = match &mut metric.data {
        None => Vec::new(),
        Some(Data::Gauge(g)) => g
            .data_points
            .iter_mut()
            .map(|p| &mut p.attributes)
            .collect(),
        Some(Data::Sum(s)) => s
            .data_points
            .iter_mut()
            .map(|p| &mut p.attributes)
            .collect(),
        Some(Data::Histogram(h)) => h
            .data_points
            .iter_mut()
            .map(|p| &mut p.attributes)
            .collect(),
        Some(Data::ExponentialHistogram(h)) => h
            .data_points
            .iter_mut()
            .map(|p| &mut p.attributes)
            .collect(),
        Some(Data::Summary(s)) => s
            .data_points
            .iter_mut()
            .map(|p| &mut p.attributes)
            .collect(),
    };
    for list in lists {
        attributes(list);
    }
}

/// Bounds attributes in place (the first [`MAX_ATTRIBUTE_COUNT`] kept);
/// returns their size.
pub(super) fn attributes(list: &mut Vec<KeyValue>) -> usize {
    keep_first(list, MAX_ATTRIBUTE_COUNT);
    list.iter_mut()
        .map(|kv| {
            truncate(&mut kv.key, MAX_NAME_LENGTH);
            size_of::<KeyValue>() + kv.key.len() + kv.value.as_mut().map_or(0, value)
        })
        .sum()
}

fn value(value: &mut AnyValue) -> usize {
    size_of::<AnyValue>()
        + match &mut value.value {
            Some(Value::StringValue(text)) => {
                truncate(text, MAX_VALUE_LENGTH);
                text.len()
            }
            Some(Value::BytesValue(bytes)) => {
                keep_first(bytes, MAX_VALUE_LENGTH);
                bytes.len()
            }
            Some(Value::ArrayValue(array)) => {
                keep_first(&mut array.values, MAX_ATTRIBUTE_COUNT);
                array.values.iter_mut().map(self::value).sum()
            }
            Some(Value::KvlistValue(list)) => attributes(&mut list.values),
            _ => 0,
        }
}
