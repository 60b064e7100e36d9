//! In-process tests: real tonic clients (opentelemetry-proto's generated stubs) export to a
//! receiver bound to 127.0.0.1 on a free port.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::{ExportLogsServiceRequest, logs_service_client::LogsServiceClient},
        metrics::v1::{ExportMetricsServiceRequest, metrics_service_client::MetricsServiceClient},
        trace::v1::{ExportTraceServiceRequest, trace_service_client::TraceServiceClient},
    },
    common::v1::{AnyValue, KeyValue, any_value},
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    metrics::v1::{
        Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
    },
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans, Span},
};
use tonic::{Code, Request, Status};

use super::{OtlpReceiver, PointValue, ReceiverConfig, Telemetry};
use crate::secret::API_KEY_HEADER;

const SERVICE: &str = "unit-test-service";
const TRACE_ID: [u8; 16] = [0x11; 16];
const SPAN_ID: [u8; 8] = [0x22; 8];
const WAIT: Duration = Duration::from_secs(5);

fn string_value(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s.to_owned())),
    })
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".to_owned(),
            value: string_value(SERVICE),
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn trace_request() -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        name: "unit.work".to_owned(),
        kind: 2, // SPAN_KIND_SERVER
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metric_request() -> ExportMetricsServiceRequest {
    let point = NumberDataPoint {
        value: Some(number_data_point::Value::AsInt(3)),
        ..Default::default()
    };
    let metric = Metric {
        name: "unit.requests".to_owned(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![point],
            is_monotonic: true,
            ..Default::default()
        })),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![metric],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn log_request() -> ExportLogsServiceRequest {
    let record = LogRecord {
        body: string_value("hello from a span"),
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        severity_text: "INFO".to_owned(),
        ..Default::default()
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                log_records: vec![record],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn request<T>(message: T, api_key: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(key) = api_key {
        request
            .metadata_mut()
            .insert(API_KEY_HEADER, key.parse().expect("ASCII test key"));
    }
    request
}

/// Exports one request per signal, like an SDK's three exporters would; returns each outcome.
async fn export_all(endpoint: String, api_key: Option<&str>) -> [Result<(), Status>; 3] {
    let mut traces = TraceServiceClient::connect(endpoint.clone())
        .await
        .expect("connect");
    let mut metrics = MetricsServiceClient::connect(endpoint.clone())
        .await
        .expect("connect");
    let mut logs = LogsServiceClient::connect(endpoint).await.expect("connect");
    [
        traces
            .export(request(trace_request(), api_key))
            .await
            .map(drop),
        metrics
            .export(request(metric_request(), api_key))
            .await
            .map(drop),
        logs.export(request(log_request(), api_key)).await.map(drop),
    ]
}

fn all_signals_arrived(t: &Telemetry) -> bool {
    t.spans().count() == 1 && t.metrics().count() == 1 && t.log_records().count() == 1
}

/// The accessors see exactly what the client sent, with the resource's service name.
fn assert_one_of_each(t: &Telemetry) {
    assert_eq!(
        (
            t.trace_requests().len(),
            t.metric_requests().len(),
            t.log_requests().len()
        ),
        (1, 1, 1)
    );
    let span = t.find_span("unit.work").expect("span stored");
    assert_eq!(span.service_name(), Some(SERVICE));
    assert_eq!(span.span.trace_id, TRACE_ID);

    let log = t.find_log("hello from a span").expect("log stored");
    assert_eq!(log.service_name(), Some(SERVICE));
    assert_eq!(
        (
            log.record.trace_id.as_slice(),
            log.record.span_id.as_slice()
        ),
        (&TRACE_ID[..], &SPAN_ID[..])
    );

    let metric = t.find_metric("unit.requests").expect("metric stored");
    assert_eq!(metric.service_name(), Some(SERVICE));
    assert_eq!(metric.points(), [PointValue::Int(3)]);
}

fn assert_port_free_soon(addr: SocketAddr) {
    let deadline = Instant::now() + WAIT;
    while std::net::TcpListener::bind(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "{addr} still in use after shutdown"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn spawned_receiver_stores_one_request_per_signal() {
    let receiver = OtlpReceiver::spawn(ReceiverConfig::loopback()).expect("spawn");
    assert!(receiver.endpoint().starts_with("http://127.0.0.1:"));
    assert_ne!(receiver.local_addr().port(), 0);

    for result in export_all(receiver.endpoint(), None).await {
        result.expect("export accepted");
    }

    assert!(receiver.wait_until_async(WAIT, all_signals_arrived).await);
    assert_one_of_each(&receiver.snapshot());
    receiver.shutdown_async().await.expect("clean shutdown");
}

#[test]
fn started_receiver_serves_sync_callers_and_releases_its_port() {
    let receiver = OtlpReceiver::start(ReceiverConfig::loopback()).expect("start");
    let addr = receiver.local_addr();
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");

    // The export runs on another thread's runtime while this thread blocks in `wait_until`,
    // the way a test waits for a child process.
    let endpoint = receiver.endpoint();
    let exporter = std::thread::spawn(move || client.block_on(export_all(endpoint, None)));
    assert!(receiver.wait_until(WAIT, all_signals_arrived));
    for result in exporter.join().expect("exporter thread") {
        result.expect("export accepted");
    }
    assert_one_of_each(&receiver.snapshot());

    receiver.store().clear();
    assert!(receiver.snapshot().is_empty());

    receiver.shutdown().expect("clean shutdown");
    assert_port_free_soon(addr);
}

#[tokio::test]
async fn missing_or_wrong_api_key_is_unauthenticated_and_nothing_is_stored() {
    let config = ReceiverConfig::loopback().with_api_key("s3cret");
    let receiver = OtlpReceiver::spawn(config).expect("spawn");

    for key in [None, Some("wrong"), Some("s3cret2"), Some("")] {
        for result in export_all(receiver.endpoint(), key).await {
            let status = result.expect_err("export must be rejected");
            assert_eq!(
                status.code(),
                Code::Unauthenticated,
                "key {key:?}: {status:?}"
            );
            assert!(!status.message().contains("s3cret"), "never echo the key");
        }
    }
    assert!(
        receiver.snapshot().is_empty(),
        "rejected exports must not be stored"
    );

    for result in export_all(receiver.endpoint(), Some("s3cret")).await {
        result.expect("export with the right key accepted");
    }
    assert!(receiver.wait_until_async(WAIT, all_signals_arrived).await);
    assert_one_of_each(&receiver.snapshot());
}

#[test]
fn dropping_the_receiver_stops_the_server() {
    let receiver = OtlpReceiver::start(ReceiverConfig::loopback()).expect("start");
    let addr = receiver.local_addr();
    drop(receiver);
    assert_port_free_soon(addr);
}

#[test]
fn wait_until_times_out_when_nothing_arrives() {
    let receiver = OtlpReceiver::start(ReceiverConfig::loopback()).expect("start");
    let started = Instant::now();
    assert!(!receiver.wait_until(Duration::from_millis(150), |t| !t.is_empty()));
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[test]
fn invalid_setups_are_errors_not_panics() {
    let empty_key = OtlpReceiver::start(ReceiverConfig::loopback().with_api_key(""));
    assert!(empty_key.is_err());

    let outside_runtime = OtlpReceiver::spawn(ReceiverConfig::loopback());
    assert!(outside_runtime.is_err());

    let taken = OtlpReceiver::start(ReceiverConfig::loopback()).expect("start");
    let again = OtlpReceiver::start(ReceiverConfig::new(taken.local_addr()));
    let message = format!("{:#}", again.expect_err("port already in use"));
    assert!(message.contains("failed to listen"), "{message}");
}

#[test]
fn debug_output_redacts_the_api_key() {
    let config = ReceiverConfig::loopback().with_api_key("s3cret");
    assert!(!format!("{config:?}").contains("s3cret"));
}
