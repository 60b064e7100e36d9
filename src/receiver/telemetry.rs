//! What the receiver has received, as decoded OTLP export requests, plus flattened read-only
//! views (span, log record, metric together with their resource and scope) so that callers can
//! query across requests without walking the OTLP nesting themselves.

use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    },
    common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value},
    logs::v1::LogRecord,
    metrics::v1::{Metric, metric::Data, number_data_point},
    resource::v1::Resource,
    trace::v1::Span,
};

/// Resource attribute that names the emitting service (OpenTelemetry semantic conventions).
pub const SERVICE_NAME: &str = "service.name";

/// Every export request received so far, per signal, in arrival order.
///
/// Requests are kept exactly as decoded: nothing is merged or dropped, so a caller can always
/// fall back to the raw OTLP messages when the views below are not enough.
#[derive(Clone, Debug, Default)]
pub struct Telemetry {
    traces: Vec<ExportTraceServiceRequest>,
    metrics: Vec<ExportMetricsServiceRequest>,
    logs: Vec<ExportLogsServiceRequest>,
}

impl Telemetry {
    pub(super) fn push_traces(&mut self, request: ExportTraceServiceRequest) {
        self.traces.push(request);
    }

    pub(super) fn push_metrics(&mut self, request: ExportMetricsServiceRequest) {
        self.metrics.push(request);
    }

    pub(super) fn push_logs(&mut self, request: ExportLogsServiceRequest) {
        self.logs.push(request);
    }

    /// Raw trace export requests.
    pub fn trace_requests(&self) -> &[ExportTraceServiceRequest] {
        &self.traces
    }

    /// Raw metric export requests.
    pub fn metric_requests(&self) -> &[ExportMetricsServiceRequest] {
        &self.metrics
    }

    /// Raw log export requests.
    pub fn log_requests(&self) -> &[ExportLogsServiceRequest] {
        &self.logs
    }

    /// True if no export request of any signal has arrived.
    pub fn is_empty(&self) -> bool {
        self.traces.is_empty() && self.metrics.is_empty() && self.logs.is_empty()
    }

    /// All spans of all requests, each with its resource and instrumentation scope.
    pub fn spans(&self) -> impl Iterator<Item = SpanView<'_>> {
        self.traces
            .iter()
            .flat_map(|request| &request.resource_spans)
            .flat_map(|rs| {
                rs.scope_spans.iter().flat_map(move |ss| {
                    ss.spans.iter().map(move |span| SpanView {
                        resource: rs.resource.as_ref(),
                        scope: ss.scope.as_ref(),
                        span,
                    })
                })
            })
    }

    /// All log records of all requests, each with its resource and instrumentation scope.
    pub fn log_records(&self) -> impl Iterator<Item = LogView<'_>> {
        self.logs
            .iter()
            .flat_map(|request| &request.resource_logs)
            .flat_map(|rl| {
                rl.scope_logs.iter().flat_map(move |sl| {
                    sl.log_records.iter().map(move |record| LogView {
                        resource: rl.resource.as_ref(),
                        scope: sl.scope.as_ref(),
                        record,
                    })
                })
            })
    }

    /// All metrics of all requests, each with its resource and instrumentation scope.
    ///
    /// A periodic exporter sends the same metric again with every export, so a name can occur
    /// several times; with cumulative temporality (the SDK default) the last one is current.
    pub fn metrics(&self) -> impl Iterator<Item = MetricView<'_>> {
        self.metrics
            .iter()
            .flat_map(|request| &request.resource_metrics)
            .flat_map(|rm| {
                rm.scope_metrics.iter().flat_map(move |sm| {
                    sm.metrics.iter().map(move |metric| MetricView {
                        resource: rm.resource.as_ref(),
                        scope: sm.scope.as_ref(),
                        metric,
                    })
                })
            })
    }

    /// The first span called `name`.
    pub fn find_span(&self, name: &str) -> Option<SpanView<'_>> {
        self.spans().find(|view| view.span.name == name)
    }

    /// The first log record whose body is the string `body`.
    pub fn find_log(&self, body: &str) -> Option<LogView<'_>> {
        self.log_records()
            .find(|view| view.body_text() == Some(body))
    }

    /// The most recently received metric called `name` (see [`Telemetry::metrics`] for why).
    pub fn find_metric(&self, name: &str) -> Option<MetricView<'_>> {
        self.metrics()
            .filter(|view| view.metric.name == name)
            .last()
    }
}

/// A span together with the resource and scope it was exported under.
#[derive(Clone, Copy, Debug)]
pub struct SpanView<'a> {
    pub resource: Option<&'a Resource>,
    pub scope: Option<&'a InstrumentationScope>,
    pub span: &'a Span,
}

impl<'a> SpanView<'a> {
    /// The resource's `service.name`, if it is a string.
    pub fn service_name(&self) -> Option<&'a str> {
        service_name(self.resource)
    }

    /// A string attribute of the span itself.
    pub fn attribute(&self, key: &str) -> Option<&'a str> {
        string_attribute(&self.span.attributes, key)
    }
}

/// A log record together with the resource and scope it was exported under.
#[derive(Clone, Copy, Debug)]
pub struct LogView<'a> {
    pub resource: Option<&'a Resource>,
    pub scope: Option<&'a InstrumentationScope>,
    pub record: &'a LogRecord,
}

impl<'a> LogView<'a> {
    /// The resource's `service.name`, if it is a string.
    pub fn service_name(&self) -> Option<&'a str> {
        service_name(self.resource)
    }

    /// The body if it is a plain string (what `tracing::info!("...")` produces).
    pub fn body_text(&self) -> Option<&'a str> {
        self.record.body.as_ref().and_then(as_str)
    }

    /// A string attribute of the record itself.
    pub fn attribute(&self, key: &str) -> Option<&'a str> {
        string_attribute(&self.record.attributes, key)
    }
}

/// A metric together with the resource and scope it was exported under.
#[derive(Clone, Copy, Debug)]
pub struct MetricView<'a> {
    pub resource: Option<&'a Resource>,
    pub scope: Option<&'a InstrumentationScope>,
    pub metric: &'a Metric,
}

/// The value of one metric data point, independent of the metric's kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PointValue {
    /// A sum or gauge point recorded as an integer.
    Int(i64),
    /// A sum or gauge point recorded as a floating-point number.
    Double(f64),
    /// A histogram, exponential histogram or summary point.
    Distribution { count: u64, sum: Option<f64> },
    /// A number point without a value (allowed by the protocol, never produced by the SDK).
    Missing,
}

impl<'a> MetricView<'a> {
    /// The resource's `service.name`, if it is a string.
    pub fn service_name(&self) -> Option<&'a str> {
        service_name(self.resource)
    }

    /// The values of all data points, in message order (empty if the metric has no data).
    pub fn points(&self) -> Vec<PointValue> {
        match &self.metric.data {
            Some(Data::Sum(sum)) => sum.data_points.iter().map(|p| number(p.value)).collect(),
            Some(Data::Gauge(gauge)) => gauge.data_points.iter().map(|p| number(p.value)).collect(),
            Some(Data::Histogram(histogram)) => histogram
                .data_points
                .iter()
                .map(|p| PointValue::Distribution {
                    count: p.count,
                    sum: p.sum,
                })
                .collect(),
            Some(Data::ExponentialHistogram(histogram)) => histogram
                .data_points
                .iter()
                .map(|p| PointValue::Distribution {
                    count: p.count,
                    sum: p.sum,
                })
                .collect(),
            Some(Data::Summary(summary)) => summary
                .data_points
                .iter()
                .map(|p| PointValue::Distribution {
                    count: p.count,
                    sum: Some(p.sum),
                })
                .collect(),
            None => Vec::new(),
        }
    }
}

fn number(value: Option<number_data_point::Value>) -> PointValue {
    match value {
        Some(number_data_point::Value::AsInt(v)) => PointValue::Int(v),
        Some(number_data_point::Value::AsDouble(v)) => PointValue::Double(v),
        None => PointValue::Missing,
    }
}

/// The string value of attribute `key` in `attributes`, if present and a string.
pub fn string_attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(as_str)
}

fn service_name(resource: Option<&Resource>) -> Option<&str> {
    resource.and_then(|r| string_attribute(&r.attributes, SERVICE_NAME))
}

fn as_str(value: &AnyValue) -> Option<&str> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}
