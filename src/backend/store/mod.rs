//! The bounded in-memory store behind the local backend.
//!
//! Spans are kept per trace, log records and metric points in arrival order.
//! When a cap is reached the oldest entries go first (a whole trace at a
//! time) and the eviction is counted, so the page can say what it no longer
//! holds. Every record is bounded on arrival (see [`bound`]) and counted in
//! bytes as well: past the byte cap, the oldest entries of whichever signal
//! holds the most bytes go first. A service is known for as long as some
//! record of it is held. Every ingest bumps a version that pages poll for
//! live updates, and that [`Store::wait_until`] waits on.

mod bound;
mod export;
mod held;
mod histogram;
mod metrics;
mod render;

pub use held::{Held, string_attribute};

pub(crate) use render::{AttrFilter, hex, render_value};
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::{Arc, Condvar, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    },
    common::v1::{InstrumentationScope, KeyValue},
    logs::v1::LogRecord,
    resource::v1::Resource,
    trace::v1::{Span, status::StatusCode as ProtoStatus},
};

pub use super::limits::Caps;
use super::{
    limits::MAX_NAME_LENGTH,
    model::{
        Counts, LogEntry, LogQuery, Memory, MetricQuery, MetricSeries, Summary, TraceDetail,
        TraceQuery, TraceSummary,
    },
};
use metrics::{Evicted, SeriesStore};

/// Shared handle to the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
    /// Signalled after every update.
    changed: Arc<Condvar>,
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
    /// The run of the program that sent it ([`crate::backend::model::RUN`]).
    pub run: Option<u32>,
    /// The attributes of the resource, shared like the scope.
    pub resource: Arc<Vec<KeyValue>>,
    pub scope: Arc<InstrumentationScope>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct LogRecordEntry {
    /// Its place in the order of arrival: how the dashboard links to it.
    pub id: u64,
    pub service: Arc<str>,
    /// The attributes of the resource, shared like the scope.
    pub resource: Arc<Vec<KeyValue>>,
    pub scope: Arc<InstrumentationScope>,
    pub record: LogRecord,
}

#[derive(Debug, Default)]
struct Inner {
    caps: Caps,
    traces: HashMap<Vec<u8>, Trace>,
    /// Trace ids, oldest first.
    trace_order: VecDeque<Vec<u8>>,
    span_count: usize,
    span_bytes: usize,
    logs: VecDeque<LogRecordEntry>,
    /// Log records received so far: the next one's id.
    logs_received: u64,
    /// The size of each record in `logs`, in the same order.
    log_sizes: VecDeque<usize>,
    log_bytes: usize,
    series: SeriesStore,
    /// Each service with the number of held records (spans, log records,
    /// metric series) of it; a service is gone with its last record.
    services: BTreeMap<Arc<str>, usize>,
    evicted: Counts,
    version: u64,
}

/// The spans of one trace, and the bytes they take.
#[derive(Debug, Default)]
struct Trace {
    spans: Vec<SpanRecord>,
    bytes: usize,
}

impl Store {
    pub fn new(caps: Caps) -> Self {
        let inner = Inner {
            caps,
            ..Inner::default()
        };
        Self {
            inner: Arc::new(Mutex::new(inner)),
            changed: Arc::new(Condvar::new()),
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
        mut request: ExportTraceServiceRequest,
        mut notable: Option<&mut Vec<SpanRecord>>,
    ) {
        // Bounded and measured before the lock is taken, so other exports
        // do not wait for it.
        let mut sizes = Vec::new();
        let mut services = Vec::with_capacity(request.resource_spans.len());
        for resource_spans in &mut request.resource_spans {
            let service = service_name(resource_spans.resource.as_ref());
            let resource = &mut resource_spans.resource.get_or_insert_default().attributes;
            let run = render::run(resource);
            let resource = bound::attributes(resource);
            for scope_spans in &mut resource_spans.scope_spans {
                let scope = bound::scope(scope_spans.scope.get_or_insert_default());
                // OTLP trace ids are 16 bytes; a span with any other id
                // could be stored but never looked up (the API takes 32
                // hex digits), so it is dropped like malformed input.
                scope_spans.spans.retain(|s| s.trace_id.len() == 16);
                for span in &mut scope_spans.spans {
                    sizes.push(bound::span(span) + resource + scope + service.len());
                }
            }
            services.push((service, run));
        }
        // Evicted traces are freed after the lock is released: dropping a
        // trace frees a dozen allocations per span, and other exports wait
        // for the lock meanwhile.
        let mut evicted = Vec::new();
        let mut sizes = sizes.into_iter();
        self.update(|inner| {
            for (resource_spans, (name, run)) in request.resource_spans.into_iter().zip(services) {
                let service = inner.service(name);
                let resource = Arc::new(resource_spans.resource.unwrap_or_default().attributes);
                for scope_spans in resource_spans.scope_spans {
                    let scope = Arc::new(scope_spans.scope.unwrap_or_default());
                    inner.hold(&service, scope_spans.spans.len());
                    for (span, size) in scope_spans.spans.into_iter().zip(&mut sizes) {
                        let record = SpanRecord {
                            service: service.clone(),
                            run,
                            resource: resource.clone(),
                            scope: scope.clone(),
                            span,
                        };
                        if let Some(notable) = notable.as_deref_mut()
                            && (record.span.parent_span_id.is_empty() || is_error(&record.span))
                        {
                            notable.push(record.clone());
                        }
                        inner.push_span(record, size, &mut evicted);
                    }
                }
            }
        });
        drop(evicted);
    }

    /// Stores the records of one export; returns the error-level ones.
    pub fn ingest_logs(&self, mut request: ExportLogsServiceRequest) -> Vec<LogRecordEntry> {
        let mut sizes = Vec::new();
        let mut services = Vec::with_capacity(request.resource_logs.len());
        for resource_logs in &mut request.resource_logs {
            let service = service_name(resource_logs.resource.as_ref());
            let resource = &mut resource_logs.resource.get_or_insert_default().attributes;
            let resource = bound::attributes(resource);
            for scope_logs in &mut resource_logs.scope_logs {
                let scope = bound::scope(scope_logs.scope.get_or_insert_default());
                for record in &mut scope_logs.log_records {
                    sizes.push(bound::log(record) + resource + scope + service.len());
                }
            }
            services.push(service);
        }
        let mut notable = Vec::new();
        let mut evicted = Vec::new();
        let mut sizes = sizes.into_iter();
        self.update(|inner| {
            for (resource_logs, name) in request.resource_logs.into_iter().zip(services) {
                let service = inner.service(name);
                let resource = Arc::new(resource_logs.resource.unwrap_or_default().attributes);
                for scope_logs in resource_logs.scope_logs {
                    let scope = Arc::new(scope_logs.scope.unwrap_or_default());
                    inner.hold(&service, scope_logs.log_records.len());
                    for (record, size) in scope_logs.log_records.into_iter().zip(&mut sizes) {
                        let entry = LogRecordEntry {
                            id: inner.logs_received,
                            service: service.clone(),
                            resource: resource.clone(),
                            scope: scope.clone(),
                            record,
                        };
                        if entry.record.severity_number >= render::SEVERITY_ERROR {
                            notable.push(entry.clone());
                        }
                        inner.logs_received += 1;
                        inner.push_log(entry, size, &mut evicted);
                    }
                }
            }
        });
        drop(evicted);
        notable
    }

    pub fn ingest_metrics(&self, mut request: ExportMetricsServiceRequest) {
        let mut services = Vec::with_capacity(request.resource_metrics.len());
        for resource_metrics in &mut request.resource_metrics {
            for scope_metrics in &mut resource_metrics.scope_metrics {
                if let Some(scope) = &mut scope_metrics.scope {
                    bound::scope(scope);
                }
                scope_metrics.metrics.iter_mut().for_each(bound::metric);
            }
            services.push(service_name(resource_metrics.resource.as_ref()));
        }
        let mut evicted = Vec::new();
        self.update(|inner| {
            for (resource_metrics, name) in request.resource_metrics.into_iter().zip(services) {
                let service = inner.service(name);
                for scope_metrics in resource_metrics.scope_metrics {
                    let scope = scope_metrics.scope.unwrap_or_default();
                    for metric in scope_metrics.metrics {
                        let created = inner.series.push(&service, &scope, metric);
                        inner.hold(&service, created);
                        inner.enforce_caps(&mut evicted);
                    }
                }
            }
        });
        drop(evicted);
    }

    pub fn summary(&self) -> Summary {
        let inner = self.lock();
        let caps = inner.caps;
        Summary {
            version: inner.version,
            services: inner.services.keys().map(|s| s.to_string()).collect(),
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
            memory: Memory {
                held_bytes: inner.bytes() as u64,
                cap_bytes: caps.bytes as u64,
            },
        }
    }

    /// Newest first.
    pub fn traces(&self, query: &TraceQuery) -> Vec<TraceSummary> {
        let inner = self.lock();
        let limit = query.limit.unwrap_or(500);
        let attr = query.attr.as_deref().and_then(AttrFilter::parse);
        let matches = |spans: &&Vec<SpanRecord>| render::trace_matches(spans, query, attr.as_ref());
        let newest_first = inner
            .trace_order
            .iter()
            .rev()
            .filter_map(|id| inner.traces.get(id).map(|trace| &trace.spans));
        newest_first
            .filter(matches)
            .skip(query.offset.unwrap_or(0))
            .take(limit)
            .map(|spans| render::trace_summary(spans))
            .collect()
    }

    pub fn trace(&self, trace_id: &str) -> Option<TraceDetail> {
        let id = render::decode_hex(trace_id)?;
        let inner = self.lock();
        let held = |id: &[u8]| inner.traces.contains_key(id);
        inner
            .traces
            .get(&id)
            .map(|trace| render::trace_detail(&id, &trace.spans, held))
    }

    /// Newest first.
    pub fn logs(&self, query: &LogQuery) -> Vec<LogEntry> {
        let inner = self.lock();
        let limit = query.limit.unwrap_or(1_000);
        let filter = render::LogFilter::new(query);
        // Held in the order of arrival, so of ids: the newer ones end the scan.
        let newest_first = inner.logs.iter().rev();
        let unseen = |entry: &&LogRecordEntry| query.after.is_none_or(|after| entry.id > after);
        newest_first
            .take_while(unseen)
            .filter(|entry| filter.matches(entry))
            .skip(query.offset.unwrap_or(0))
            .take(limit)
            .map(render::log_entry)
            .collect()
    }

    /// The record with this id, while it is held.
    pub fn log(&self, id: u64) -> Option<LogEntry> {
        let inner = self.lock();
        // Held in the order of arrival, so of ids.
        let at = inner.logs.binary_search_by_key(&id, |e| e.id).ok()?;
        inner.logs.get(at).map(render::log_entry)
    }

    pub fn metrics(&self, query: &MetricQuery) -> Vec<MetricSeries> {
        self.lock().series.query(query)
    }

    /// A copy of everything held; see [`Held`] for the order.
    pub fn held(&self) -> Held {
        let inner = self.lock();
        let traces = inner
            .trace_order
            .iter()
            .filter_map(|id| inner.traces.get(id));
        Held {
            spans: traces
                .flat_map(|trace| trace.spans.iter().cloned())
                .collect(),
            logs: inner.logs.iter().cloned().collect(),
            metrics: inner.series.query(&MetricQuery::default()),
        }
    }

    /// Takes out everything held, or only what `service` sent: its log
    /// records, its metric series, and every trace with a span of it (a trace
    /// goes as a whole, as when evicted). Eviction counts stay as they are.
    pub fn clear(&self, service: Option<&str>) {
        let mut gone = Vec::new();
        self.update(|inner| inner.clear(service, &mut gone));
        drop(gone);
    }

    /// The matching traces (as `traces` finds them) as one OTLP export request.
    pub fn export_traces(&self, query: &TraceQuery) -> ExportTraceServiceRequest {
        let inner = self.lock();
        let limit = query.limit.unwrap_or(usize::MAX);
        let attr = query.attr.as_deref().and_then(AttrFilter::parse);
        let newest_first = inner
            .trace_order
            .iter()
            .rev()
            .filter_map(|id| inner.traces.get(id).map(|trace| trace.spans.as_slice()));
        let found = newest_first
            .filter(|spans| render::trace_matches(spans, query, attr.as_ref()))
            .skip(query.offset.unwrap_or(0))
            .take(limit);
        export::traces(found.flatten())
    }

    /// One trace as an OTLP export request, while it is held.
    pub fn export_trace(&self, trace_id: &str) -> Option<ExportTraceServiceRequest> {
        let id = render::decode_hex(trace_id)?;
        let inner = self.lock();
        let trace = inner.traces.get(&id)?;
        Some(export::traces(trace.spans.iter()))
    }

    /// The matching log records (as `logs` finds them) as one OTLP export request.
    pub fn export_logs(&self, query: &LogQuery) -> ExportLogsServiceRequest {
        let inner = self.lock();
        let filter = render::LogFilter::new(query);
        let found = inner
            .logs
            .iter()
            .rev()
            .filter(|entry| filter.matches(entry));
        let found = found
            .skip(query.offset.unwrap_or(0))
            .take(query.limit.unwrap_or(usize::MAX));
        export::logs(found)
    }

    /// Waits until `done` holds for the store, checking again after each
    /// update, for at most `timeout`; returns whether it held. For callers
    /// off the async runtime (tests, tools) that wait for telemetry to arrive.
    pub fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.lock().version;
            if done(self) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let inner = self.lock();
            // An update between `done` and here has moved the version on.
            let _ = self
                .changed
                .wait_timeout_while(inner, left, |inner| inner.version == seen);
        }
    }

    fn update(&self, change: impl FnOnce(&mut Inner)) {
        let mut inner = self.lock();
        change(&mut inner);
        inner.version += 1;
        drop(inner);
        self.changed.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update leaves the store consistent, so a panic elsewhere while
        // the lock was held does not make its contents unusable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The service a resource names, cut to [`MAX_NAME_LENGTH`].
fn service_name(resource: Option<&Resource>) -> String {
    let mut name = render::service_name(resource);
    bound::truncate(&mut name, MAX_NAME_LENGTH);
    name
}

/// Which signal's oldest entry goes next when the byte cap is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Traces,
    Logs,
    Metrics,
}

/// What was taken out of the store, to be freed once the lock is released.
#[derive(Debug)]
#[expect(dead_code, reason = "held only to be dropped outside the lock")]
enum Gone {
    Trace(Trace),
    Log(LogRecordEntry),
}

impl Inner {
    /// The known service called `name`, sharing its string, or a new one
    /// (known once a record of it is held).
    fn service(&self, name: String) -> Arc<str> {
        match self.services.get_key_value(name.as_str()) {
            Some((known, _)) => known.clone(),
            None => name.into(),
        }
    }

    /// `count` more records of `service` are held.
    fn hold(&mut self, service: &Arc<str>, count: usize) {
        if count > 0 {
            *self.services.entry(service.clone()).or_default() += count;
        }
    }

    /// `count` records of `service` are gone.
    fn release(&mut self, service: &str, count: usize) {
        if let Some(held) = self.services.get_mut(service) {
            *held = held.saturating_sub(count);
            if *held == 0 {
                self.services.remove(service);
            }
        }
    }

    /// See [`Store::clear`]; what is taken out goes to `gone`.
    fn clear(&mut self, service: Option<&str>, gone: &mut Vec<Gone>) {
        let of = |name: &str| service.is_none_or(|s| s == name);
        let traces: Vec<Vec<u8>> = self
            .traces
            .iter()
            .filter(|(_, trace)| trace.spans.iter().any(|r| of(&r.service)))
            .map(|(id, _)| id.clone())
            .collect();
        for id in traces {
            if let Some(trace) = self.traces.remove(&id) {
                self.span_count -= trace.spans.len();
                self.span_bytes -= trace.bytes;
                for record in &trace.spans {
                    self.release(&record.service, 1);
                }
                gone.push(Gone::Trace(trace));
            }
        }
        let held = &self.traces;
        self.trace_order.retain(|id| held.contains_key(id));
        let logs: Vec<_> = self.logs.drain(..).zip(self.log_sizes.drain(..)).collect();
        for (entry, size) in logs {
            if of(&entry.service) {
                self.log_bytes -= size;
                self.release(&entry.service, 1);
                gone.push(Gone::Log(entry));
            } else {
                self.logs.push_back(entry);
                self.log_sizes.push_back(size);
            }
        }
        for service in self.series.clear(service) {
            self.release(&service, 1);
        }
    }

    fn bytes(&self) -> usize {
        self.span_bytes + self.log_bytes + self.series.bytes()
    }

    /// Adds a span of `size` bytes; what is evicted to make room goes to
    /// `evicted`.
    fn push_span(&mut self, record: SpanRecord, size: usize, evicted: &mut Vec<Gone>) {
        // Looked up by slice: the id is copied only for a trace's first span.
        match self.traces.get_mut(record.span.trace_id.as_slice()) {
            Some(trace) => {
                trace.spans.push(record);
                trace.bytes += size;
            }
            None => {
                let id = record.span.trace_id.clone();
                self.trace_order.push_back(id.clone());
                let trace = Trace {
                    spans: vec![record],
                    bytes: size,
                };
                self.traces.insert(id, trace);
            }
        }
        self.span_count += 1;
        self.span_bytes += size;
        self.enforce_caps(evicted);
    }

    fn push_log(&mut self, entry: LogRecordEntry, size: usize, evicted: &mut Vec<Gone>) {
        self.logs.push_back(entry);
        self.log_sizes.push_back(size);
        self.log_bytes += size;
        self.enforce_caps(evicted);
    }

    /// Evicts the oldest entries until every cap holds: each signal's counts,
    /// then the bytes of all of them, taken from whichever holds the most.
    fn enforce_caps(&mut self, evicted: &mut Vec<Gone>) {
        while self.traces.len() > self.caps.traces || self.span_count > self.caps.spans {
            if !self.evict(Signal::Traces, evicted) {
                break;
            }
        }
        while self.logs.len() > self.caps.logs {
            self.evict(Signal::Logs, evicted);
        }
        while self.series.points() > self.caps.metric_points {
            self.evict(Signal::Metrics, evicted);
        }
        while self.bytes() > self.caps.bytes {
            let largest = [
                (self.span_bytes, Signal::Traces),
                (self.log_bytes, Signal::Logs),
                (self.series.bytes(), Signal::Metrics),
            ]
            .into_iter()
            .max_by_key(|(bytes, _)| *bytes)
            .map(|(_, signal)| signal)
            .unwrap_or(Signal::Traces);
            if !self.evict(largest, evicted) {
                break;
            }
        }
    }

    /// Takes out the oldest entry of `signal`; false if there is none.
    fn evict(&mut self, signal: Signal, evicted: &mut Vec<Gone>) -> bool {
        match signal {
            Signal::Traces => match self.evict_oldest_trace() {
                Some(trace) => {
                    evicted.push(Gone::Trace(trace));
                    true
                }
                None => false,
            },
            Signal::Logs => {
                let (Some(entry), Some(size)) = (self.logs.pop_front(), self.log_sizes.pop_front())
                else {
                    return false;
                };
                self.log_bytes -= size;
                self.evicted.logs += 1;
                self.release(&entry.service, 1);
                evicted.push(Gone::Log(entry));
                true
            }
            Signal::Metrics => {
                let gone = self.series.evict_oldest_point();
                self.evicted.metric_points = self.series.evicted();
                match gone {
                    Evicted::Nothing => false,
                    Evicted::Point => true,
                    Evicted::Series(service) => {
                        self.release(&service, 1);
                        true
                    }
                }
            }
        }
    }

    /// The oldest trace, taken out of the store.
    fn evict_oldest_trace(&mut self) -> Option<Trace> {
        loop {
            let id = self.trace_order.pop_front()?;
            if let Some(trace) = self.traces.remove(&id) {
                self.span_count -= trace.spans.len();
                self.span_bytes -= trace.bytes;
                self.evicted.traces += 1;
                self.evicted.spans += trace.spans.len() as u64;
                // Spans of one export share their service: release in runs.
                for run in trace
                    .spans
                    .chunk_by(|a, b| Arc::ptr_eq(&a.service, &b.service))
                {
                    self.release(&run[0].service, run.len());
                }
                return Some(trace);
            }
        }
    }
}

fn is_error(span: &Span) -> bool {
    span.status
        .as_ref()
        .is_some_and(|s| s.code == ProtoStatus::Error as i32)
}
