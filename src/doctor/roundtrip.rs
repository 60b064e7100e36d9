//! Proof by doing: one span, one metric and one log record sent with the
//! same exporter the generated module uses (opentelemetry-otlp over tonic),
//! to the same endpoint with the same headers, each exporter called
//! directly so its error is seen rather than logged and dropped.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use opentelemetry::{
    InstrumentationScope, KeyValue,
    logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity},
    metrics::MeterProvider as _,
    trace::{SpanContext, SpanKind, Status as SpanStatus, TraceFlags, TraceState},
};
use opentelemetry_otlp::{WithExportConfig as _, WithTonicConfig as _};
use opentelemetry_sdk::{
    Resource,
    error::OTelSdkResult,
    logs::{LogBatch, LogExporter as _, SdkLoggerProvider},
    metrics::{
        PeriodicReader, SdkMeterProvider, Temporality, data::ResourceMetrics,
        exporter::PushMetricExporter,
    },
    trace::{
        IdGenerator as _, RandomIdGenerator, SpanData, SpanEvents, SpanExporter as _, SpanLinks,
    },
};
use tonic::transport::ClientTlsConfig;

use super::{
    Check, Spec,
    environment::{self, Endpoint, Env, Signal},
    ids, tls,
};

/// What the round trip sends under, so it is easy to spot in a dashboard.
pub const SERVICE_NAME: &str = "cargo-otel-doctor";
/// The default time one export may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to run it: `--endpoint` and `--timeout`.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub endpoint: Option<String>,
    /// `None`: `OTEL_EXPORTER_OTLP_TIMEOUT` when set (as the program would),
    /// else [`DEFAULT_TIMEOUT`].
    pub timeout: Option<Duration>,
}

/// Where one signal goes, and how.
#[derive(Clone)]
struct Route {
    endpoint: Endpoint,
    /// The program's TLS settings, for an https endpoint.
    tls: Option<ClientTlsConfig>,
}

/// The outcome of one export.
#[derive(Debug)]
struct Outcome {
    result: Result<(), String>,
    took: Duration,
}

pub fn check(env: &Env, settings: &Settings) -> Vec<Check> {
    let specs = [ids::TRACES, ids::METRICS, ids::LOGS];
    let cli = settings.endpoint.as_deref();
    let routes: Vec<Route> = Signal::ALL
        .iter()
        .map(|&s| Route {
            endpoint: environment::endpoint(env, s, cli),
            tls: tls::client_config(env, s, cli),
        })
        .collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return specs
                .iter()
                .map(|s| s.skipped(format!("could not start a Tokio runtime: {error}")))
                .collect();
        }
    };
    let timeout = effective_timeout(env, settings);
    // Set in code only when doctor chooses it; else the exporter reads
    // OTEL_EXPORTER_OTLP_TIMEOUT as the program's would.
    let explicit = settings
        .timeout
        .or_else(|| (!env_timeout(env)).then_some(DEFAULT_TIMEOUT));
    let outcomes = runtime.block_on(async {
        let traces = export_span(&routes[0], explicit);
        let metrics = tokio::task::spawn_blocking({
            let route = routes[1].clone();
            let handle = tokio::runtime::Handle::current();
            move || {
                let _entered = handle.enter();
                export_metric(&route, explicit, timeout)
            }
        });
        let logs = export_log(&routes[2], explicit);
        let (traces, metrics, logs) = tokio::join!(traces, metrics, logs);
        let metrics = metrics.unwrap_or_else(|error| Outcome {
            result: Err(format!("the metric export panicked: {error}")),
            took: Duration::ZERO,
        });
        [traces, metrics, logs]
    });
    // Exporters may hold connections on the runtime: do not wait for them.
    runtime.shutdown_background();
    specs
        .iter()
        .zip(&routes)
        .zip(outcomes)
        .zip(Signal::ALL)
        .map(|(((spec, route), outcome), signal)| {
            judge(*spec, signal, &route.endpoint, &outcome, timeout)
        })
        .collect()
}

fn env_timeout(env: &Env) -> bool {
    env.get("OTEL_EXPORTER_OTLP_TIMEOUT").is_some()
}

fn effective_timeout(env: &Env, settings: &Settings) -> Duration {
    settings
        .timeout
        .or_else(|| {
            env.get("OTEL_EXPORTER_OTLP_TIMEOUT")
                .and_then(|v| v.parse().ok())
                .map(Duration::from_millis)
        })
        .unwrap_or(DEFAULT_TIMEOUT)
}

fn resource() -> Resource {
    Resource::builder_empty()
        .with_service_name(SERVICE_NAME)
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build()
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SERVICE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// Builds the exporter the way the generated module does: `with_endpoint`
/// only for an endpoint set in code, its TLS settings for https; everything
/// else (per-signal endpoints, headers, compression, timeout) from the
/// environment unless `timeout` is given.
macro_rules! exporter {
    ($kind:ident, $route:expr, $timeout:expr) => {{
        let route: &Route = $route;
        let mut builder = opentelemetry_otlp::$kind::builder().with_tonic();
        if route.endpoint.explicit {
            builder = builder.with_endpoint(route.endpoint.url.clone());
        }
        if let Some(tls) = &route.tls {
            builder = builder.with_tls_config(tls.clone());
        }
        if let Some(timeout) = $timeout {
            builder = builder.with_timeout(timeout);
        }
        builder.build().map_err(|error| error.to_string())
    }};
}

/// Runs one export (exporter build included) and times it.
async fn timed(export: impl Future<Output = Result<(), String>>) -> Outcome {
    let start = Instant::now();
    let result = export.await;
    Outcome {
        result,
        took: start.elapsed(),
    }
}

async fn export_span(route: &Route, timeout: Option<Duration>) -> Outcome {
    timed(async {
        let mut exporter = exporter!(SpanExporter, route, timeout)?;
        exporter.set_resource(&resource());
        exporter
            .export(vec![span()])
            .await
            .map_err(|e| e.to_string())
    })
    .await
}

fn span() -> SpanData {
    let ids = RandomIdGenerator::default();
    let now = SystemTime::now();
    let context = SpanContext::new(
        ids.new_trace_id(),
        ids.new_span_id(),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    SpanData {
        span_context: context,
        parent_span_id: opentelemetry::trace::SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: "cargo otel doctor".into(),
        start_time: now,
        end_time: now,
        attributes: vec![KeyValue::new("cargo_otel.doctor", true)],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: SpanStatus::Ok,
        instrumentation_scope: scope(),
    }
}

async fn export_log(route: &Route, timeout: Option<Duration>) -> Outcome {
    timed(async {
        let mut exporter = exporter!(LogExporter, route, timeout)?;
        exporter.set_resource(&resource());
        // A provider without processors only makes the record.
        let provider = SdkLoggerProvider::builder().build();
        let mut record = provider.logger(SERVICE_NAME).create_log_record();
        record.set_body("cargo otel doctor: round trip".into());
        record.set_severity_number(Severity::Info);
        record.set_severity_text("INFO");
        record.set_timestamp(SystemTime::now());
        // The exporter unwraps this one (the SDK sets it in `emit`).
        record.set_observed_timestamp(SystemTime::now());
        let scope = scope();
        let batch = [(&record, &scope)];
        exporter
            .export(LogBatch::new(&batch))
            .await
            .map_err(|e| e.to_string())
    })
    .await
}

/// Metrics can only be collected by a reader, so the OTLP exporter sits
/// behind one that records what the first export returned.
fn export_metric(route: &Route, timeout: Option<Duration>, deadline: Duration) -> Outcome {
    let start = Instant::now();
    let exporter = match exporter!(MetricExporter, route, timeout) {
        Ok(exporter) => exporter,
        Err(error) => {
            return Outcome {
                result: Err(error),
                took: start.elapsed(),
            };
        }
    };
    let slot = Arc::new(Mutex::new(None));
    let capture = Capture {
        inner: exporter,
        slot: Arc::clone(&slot),
    };
    let reader = PeriodicReader::builder(capture)
        .with_interval(Duration::from_secs(3600))
        .build();
    let provider = SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(resource())
        .build();
    let counter = provider
        .meter(SERVICE_NAME)
        .u64_counter("cargo_otel.doctor.round_trips")
        .build();
    counter.add(1, &[]);
    let flushed = provider.force_flush();
    // The reader gives up waiting after 5 s; the export itself may go on.
    let until = start + deadline + Duration::from_secs(1);
    let outcome = loop {
        if let Some(outcome) = slot.lock().expect("not poisoned").take() {
            break outcome;
        }
        if Instant::now() >= until {
            break Outcome {
                result: Err(flushed
                    .err()
                    .map_or_else(|| "no export happened".to_owned(), |e| e.to_string())),
                took: start.elapsed(),
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = provider.shutdown();
    outcome
}

struct Capture {
    inner: opentelemetry_otlp::MetricExporter,
    slot: Arc<Mutex<Option<Outcome>>>,
}

impl PushMetricExporter for Capture {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let done = Arc::strong_count(&self.slot) == 1
            || self.slot.lock().map(|s| s.is_some()).unwrap_or(true);
        if done {
            return Ok(()); // Only the first export is the test; shutdown's is not.
        }
        let start = Instant::now();
        let result = self.inner.export(metrics).await;
        let outcome = Outcome {
            result: result.as_ref().map(|_| ()).map_err(ToString::to_string),
            took: start.elapsed(),
        };
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(outcome);
        }
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

/// How an export failed, judged by the tonic status or transport error in
/// its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The collector's certificate is not signed by a CA the program trusts.
    UntrustedCertificate,
    /// The collector's certificate is for another name, or out of date.
    BadCertificate,
    /// The collector asks for a client certificate.
    ClientCertificate,
    /// TLS to a collector that speaks plaintext there.
    NotTls,
    Unauthenticated,
    WrongProtocol,
    Unreachable,
    TimedOut,
    Misconfigured,
    Other,
}

pub fn classify(message: &str) -> Failure {
    let has = |needle: &str| message.contains(needle);
    if has("invalid exporter configuration") {
        Failure::Misconfigured
    } else if has("UnknownIssuer") || has("BadSignature") {
        Failure::UntrustedCertificate
    } else if has("NotValidForName") || has("Expired") || has("NotValidYet") {
        Failure::BadCertificate
    } else if has("CertificateRequired") || has("certificate required") {
        Failure::ClientCertificate
    } else if has("InvalidContentType") || has("corrupt message") {
        Failure::NotTls
    } else if has("Unauthenticated") || has("PermissionDenied") {
        Failure::Unauthenticated
    } else if has("DeadlineExceeded") || has("timed out") || has("Timeout") || has("deadline") {
        Failure::TimedOut
    } else if has("tcp connect error") || has("Connection refused") || has("dns error") {
        Failure::Unreachable
    } else if has("http2 error")
        || has("Internal")
        || has("broken pipe")
        || has("frame with invalid size")
        || has("Unimplemented")
        || has("protocol error")
        || has("invalid compression flag")
        || has("content-type")
        || has("HTTP/1")
    {
        Failure::WrongProtocol
    } else {
        Failure::Other
    }
}

fn judge(
    spec: Spec,
    signal: Signal,
    endpoint: &Endpoint,
    outcome: &Outcome,
    timeout: Duration,
) -> Check {
    let took = format_duration(outcome.took);
    let shown = endpoint.describe();
    let what = signal.name();
    let error = match &outcome.result {
        Ok(()) => return spec.ok(format!("{what} accepted by {} in {took}", endpoint.url)),
        Err(error) => short(error),
    };
    let (finding, fix) = match classify(&error) {
        Failure::UntrustedCertificate => (
            format!("{what}: {shown} presents a certificate no CA the program trusts signed (after {took}): {error}"),
            "`export OTEL_EXPORTER_OTLP_CERTIFICATE=<the PEM file of the CA that signed it>` (the module trusts Mozilla's roots otherwise)".to_owned(),
        ),
        Failure::BadCertificate => (
            format!("{what}: {shown} presents a certificate for another name, or out of date (after {took}): {error}"),
            "use the host name the certificate was issued for, or renew it".to_owned(),
        ),
        Failure::ClientCertificate => (
            format!("{what}: {shown} requires a client certificate (after {took}): {error}"),
            "`export OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=<cert.pem> OTEL_EXPORTER_OTLP_CLIENT_KEY=<key.pem>`".to_owned(),
        ),
        Failure::NotTls => (
            format!("{what}: {shown} does not speak TLS there (after {took}): {error}"),
            "use `http://` for a plaintext collector".to_owned(),
        ),
        Failure::Unauthenticated => (
            format!("{what} rejected by {shown} for authentication after {took}: {error}"),
            "set the key the dashboard expects: `export OTEL_EXPORTER_OTLP_HEADERS=x-otlp-api-key=<key>` (`cargo otel dash` sets it for the program it runs)".to_owned(),
        ),
        Failure::WrongProtocol => (
            format!("{what} sent to {shown} did not get an OTLP/gRPC answer (after {took}): {error}"),
            "aim at an OTLP/gRPC port (4317 for Aspire and `cargo otel serve`, not 4318 or 18888)".to_owned(),
        ),
        Failure::Unreachable => (
            format!("{what}: nothing answers at {shown} (after {took}): {error}"),
            "start a backend: `cargo otel dash` (Aspire in Docker, or built in) or `cargo otel serve`".to_owned(),
        ),
        Failure::TimedOut => (
            format!("{what}: {shown} did not answer within {} ({took}): {error}", format_duration(timeout)),
            "check that the endpoint is an OTLP/gRPC receiver, and `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds)".to_owned(),
        ),
        Failure::Misconfigured => (
            format!("{what}: the exporter refuses {shown}: {error}"),
            "see the Environment checks above: scheme, TLS feature, endpoint syntax".to_owned(),
        ),
        Failure::Other => (
            format!("{what} to {shown} failed after {took}: {error}"),
            "check that the endpoint is an OTLP/gRPC receiver, and look at its logs".to_owned(),
        ),
    };
    spec.error(finding, fix)
}

/// The part of an exporter error that says what happened: from the gRPC
/// code on, first line only.
fn short(error: &str) -> String {
    let line = error.lines().next().unwrap_or_default().trim();
    let from_code = line
        .split_once("gRPC code: ")
        .map_or(line, |(_, rest)| rest);
    from_code.replace("tcp connect error: tcp connect error", "tcp connect error")
}

/// `12 ms`, `1.52 s`.
fn format_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{:.2} s", duration.as_secs_f64())
    }
}
