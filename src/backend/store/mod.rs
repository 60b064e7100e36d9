//! The bounded in-memory store behind the local backend.
//!
//! Spans are kept per trace, log records and metric points in arrival order.
//! When a cap is reached the oldest entries go first (a whole trace at a
//! time) and the eviction is counted, so the page can say what it no longer
//! holds. Every ingest bumps a version that pages poll for live updates.

mod metrics;
mod render;

pub(crate) use render::render_value;
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeSet, HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
};

use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    },
    common::v1::InstrumentationScope,
    logs::v1::LogRecord,
    resource::v1::Resource,
    trace::v1::{Span, status::StatusCode as ProtoStatus},
};

use super::model::{
    Counts, LogEntry, LogQuery, MetricQuery, MetricSeries, Summary, TraceDetail, TraceQuery,
    TraceSummary,
};
use metrics::SeriesStore;

/// How much the store holds before it evicts the oldest. Traces, logs and
/// metric points follow the Aspire dashboard's defaults; the span cap keeps
/// a flood of huge traces bounded too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub traces: usize,
    pub spans: usize,
    pub logs: usize,
    pub metric_points: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            traces: 10_000,
            spans: 100_000,
            logs: 10_000,
            metric_points: 50_000,
        }
    }
}

/// Shared handle to the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new(Caps::default())
    }
}

/// A span with the resource and scope it was exported under (shared by all
/// spans of one export, so holding them costs a pointer each).
#[derive(Debug, Clone)]
pub struct SpanRecord {
    pub service: Arc<str>,
    pub scope: Arc<InstrumentationScope>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct LogRecordEntry {
    pub service: Arc<str>,
    pub scope: Arc<InstrumentationScope>,
    pub record: LogRecord,
}

#[derive(Debug, Default)]
struct Inner {
    caps: Caps,
    traces: HashMap<Vec<u8>, Vec<SpanRecord>>,
    /// Trace ids, oldest first.
    trace_order: VecDeque<Vec<u8>>,
    span_count: usize,
    logs: VecDeque<LogRecordEntry>,
    series: SeriesStore,
    services: BTreeSet<Arc<str>>,
    evicted: Counts,
    version: u64,
}

impl Store {
    pub fn new(caps: Caps) -> Self {
        let inner = Inner {
            caps,
            series: SeriesStore::new(caps.metric_points),
            ..Inner::default()
        };
        Self {
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    /// Stores the spans of one export; returns those worth a line in the
    /// terminal (finished root spans and error spans).
    pub fn ingest_traces(&self, request: ExportTraceServiceRequest) -> Vec<SpanRecord> {
        let mut notable = Vec::new();
        self.ingest_spans(request, Some(&mut notable));
        notable
    }

    /// Stores the spans of one export, copying the notable ones into
    /// `notable` only if asked (a copy is a deep clone: without a terminal
    /// feed nobody reads it).
    pub(crate) fn ingest_spans(
        &self,
        request: ExportTraceServiceRequest,
        mut notable: Option<&mut Vec<SpanRecord>>,
    ) {
        // Evicted traces are freed after the lock is released: dropping a
        // trace frees a dozen allocations per span, and other exports wait
        // for the lock meanwhile.
        let mut evicted = Vec::new();
        self.update(|inner| {
            for resource_spans in request.resource_spans {
                let service = inner.service(resource_spans.resource.as_ref());
                for scope_spans in resource_spans.scope_spans {
                    let scope = Arc::new(scope_spans.scope.unwrap_or_default());
                    // OTLP trace ids are 16 bytes; a span with any other id
                    // could be stored but never looked up (the API takes 32
                    // hex digits), so it is dropped like malformed input.
                    for span in scope_spans
                        .spans
                        .into_iter()
                        .filter(|s| s.trace_id.len() == 16)
                    {
                        let record = SpanRecord {
                            service: service.clone(),
                            scope: scope.clone(),
                            span,
                        };
                        if let Some(notable) = notable.as_deref_mut()
                            && (record.span.parent_span_id.is_empty() || is_error(&record.span))
                        {
                            notable.push(record.clone());
                        }
                        inner.push_span(record, &mut evicted);
                    }
                }
            }
        });
        drop(evicted);
    }

    /// Stores the records of one export; returns the error-level ones.
    pub fn ingest_logs(&self, request: ExportLogsServiceRequest) -> Vec<LogRecordEntry> {
        let mut notable = Vec::new();
        self.update(|inner| {
            for resource_logs in request.resource_logs {
                let service = inner.service(resource_logs.resource.as_ref());
                for scope_logs in resource_logs.scope_logs {
                    let scope = Arc::new(scope_logs.scope.unwrap_or_default());
                    for record in scope_logs.log_records {
                        let entry = LogRecordEntry {
                            service: service.clone(),
                            scope: scope.clone(),
                            record,
                        };
                        if entry.record.severity_number >= render::SEVERITY_ERROR {
                            notable.push(entry.clone());
                        }
                        inner.push_log(entry);
                    }
                }
            }
        });
        notable
    }

    pub fn ingest_metrics(&self, request: ExportMetricsServiceRequest) {
        self.update(|inner| {
            for resource_metrics in request.resource_metrics {
                let service = inner.service(resource_metrics.resource.as_ref());
                for scope_metrics in resource_metrics.scope_metrics {
                    let scope = scope_metrics.scope.map(|s| s.name).unwrap_or_default();
                    for metric in scope_metrics.metrics {
                        inner.series.push(&service, &scope, metric);
                    }
                }
            }
            inner.evicted.metric_points = inner.series.evicted();
        });
    }

    pub fn summary(&self) -> Summary {
        let inner = self.lock();
        let caps = inner.caps;
        Summary {
            version: inner.version,
            services: inner.services.iter().map(|s| s.to_string()).collect(),
            held: Counts {
                traces: inner.traces.len() as u64,
                spans: inner.span_count as u64,
                logs: inner.logs.len() as u64,
                metric_points: inner.series.points() as u64,
            },
            evicted: inner.evicted,
            caps: Counts {
                traces: caps.traces as u64,
                spans: caps.spans as u64,
                logs: caps.logs as u64,
                metric_points: caps.metric_points as u64,
            },
        }
    }

    /// Newest first.
    pub fn traces(&self, query: &TraceQuery) -> Vec<TraceSummary> {
        let inner = self.lock();
        let limit = query.limit.unwrap_or(500);
        let matches = |spans: &&Vec<SpanRecord>| render::trace_matches(spans, query);
        let newest_first = inner
            .trace_order
            .iter()
            .rev()
            .filter_map(|id| inner.traces.get(id));
        newest_first
            .filter(matches)
            .take(limit)
            .map(|spans| render::trace_summary(spans))
            .collect()
    }

    pub fn trace(&self, trace_id: &str) -> Option<TraceDetail> {
        let id = render::decode_hex(trace_id)?;
        let inner = self.lock();
        inner
            .traces
            .get(&id)
            .map(|spans| render::trace_detail(&id, spans))
    }

    /// Newest first.
    pub fn logs(&self, query: &LogQuery) -> Vec<LogEntry> {
        let inner = self.lock();
        let limit = query.limit.unwrap_or(1_000);
        let filter = render::LogFilter::new(query);
        let newest_first = inner.logs.iter().rev();
        newest_first
            .filter(|entry| filter.matches(entry))
            .take(limit)
            .map(render::log_entry)
            .collect()
    }

    pub fn metrics(&self, query: &MetricQuery) -> Vec<MetricSeries> {
        self.lock().series.query(query)
    }

    fn update(&self, change: impl FnOnce(&mut Inner)) {
        let mut inner = self.lock();
        change(&mut inner);
        inner.version += 1;
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update leaves the store consistent, so a panic elsewhere while
        // the lock was held does not make its contents unusable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn service(&mut self, resource: Option<&Resource>) -> Arc<str> {
        let name = render::service_name(resource);
        if let Some(known) = self.services.get(name.as_str()) {
            return known.clone();
        }
        let name: Arc<str> = name.into();
        self.services.insert(name.clone());
        name
    }

    /// Adds a span; traces evicted to make room go to `evicted`.
    fn push_span(&mut self, record: SpanRecord, evicted: &mut Vec<Vec<SpanRecord>>) {
        // Looked up by slice: the id is copied only for a trace's first span.
        match self.traces.get_mut(record.span.trace_id.as_slice()) {
            Some(spans) => spans.push(record),
            None => {
                let id = record.span.trace_id.clone();
                self.trace_order.push_back(id.clone());
                self.traces.insert(id, vec![record]);
            }
        }
        self.span_count += 1;
        while self.traces.len() > self.caps.traces || self.span_count > self.caps.spans {
            match self.evict_oldest_trace() {
                Some(spans) => evicted.push(spans),
                None => break,
            }
        }
    }

    /// The oldest trace's spans, taken out of the store.
    fn evict_oldest_trace(&mut self) -> Option<Vec<SpanRecord>> {
        loop {
            let id = self.trace_order.pop_front()?;
            if let Some(spans) = self.traces.remove(&id) {
                self.span_count -= spans.len();
                self.evicted.traces += 1;
                self.evicted.spans += spans.len() as u64;
                return Some(spans);
            }
        }
    }

    fn push_log(&mut self, entry: LogRecordEntry) {
        self.logs.push_back(entry);
        while self.logs.len() > self.caps.logs {
            self.logs.pop_front();
            self.evicted.logs += 1;
        }
    }
}

fn is_error(span: &Span) -> bool {
    span.status
        .as_ref()
        .is_some_and(|s| s.code == ProtoStatus::Error as i32)
}
