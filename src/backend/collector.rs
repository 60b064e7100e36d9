//! The three OTLP/gRPC collector services (traces, metrics, logs), the
//! optional API-key check in front of them, and the [`Sink`] they hand each
//! export request to.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::{
    logs::v1::{
        ExportLogsServiceRequest, ExportLogsServiceResponse,
        logs_service_server::{LogsService, LogsServiceServer},
    },
    metrics::v1::{
        ExportMetricsServiceRequest, ExportMetricsServiceResponse,
        metrics_service_server::{MetricsService, MetricsServiceServer},
    },
    trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
};
use tonic::{
    Request, Response, Status,
    codec::CompressionEncoding,
    service::{Interceptor, interceptor::InterceptedService},
};

use crate::secret::API_KEY_HEADER;

/// Where received export requests go: the pipeline to the store, the
/// terminal feed and the save file (OTLP/HTTP hands its requests over here
/// too), or the [`Store`](super::Store) alone.
pub trait Sink: Send + Sync + 'static {
    fn traces(&self, request: ExportTraceServiceRequest);
    fn metrics(&self, request: ExportMetricsServiceRequest);
    fn logs(&self, request: ExportLogsServiceRequest);
}

/// Implements all three collector services by handing every request to one [`Sink`].
#[derive(Clone)]
pub struct Collector {
    sink: Arc<dyn Sink>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.sink.traces(request.into_inner());
        // `partial_success: None` means everything was accepted.
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.sink.metrics(request.into_inner());
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Collector {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.sink.logs(request.into_inner());
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: None,
        }))
    }
}

/// Rejects requests whose `x-otlp-api-key` metadata does not match the configured key, the
/// way the Aspire dashboard does in its `ApiKey` authentication mode. It runs on the request
/// headers, before the message is decoded, so a rejected export is never stored.
#[derive(Clone)]
pub struct ApiKeyCheck {
    expected: Option<Arc<[u8]>>,
}

impl ApiKeyCheck {
    /// `None` accepts every request.
    fn new(expected: Option<&str>) -> Self {
        Self {
            expected: expected.map(|key| Arc::from(key.as_bytes())),
        }
    }
}

impl Interceptor for ApiKeyCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.expected else {
            return Ok(request);
        };
        match request.metadata().get(API_KEY_HEADER) {
            Some(presented) if crate::secret::constant_time_eq(presented.as_bytes(), expected) => {
                Ok(request)
            }
            // The messages name the header so that a user staring at an exporter error knows
            // which setting (`OTEL_EXPORTER_OTLP_HEADERS`) to fix; they never echo the key.
            Some(_) => Err(Status::unauthenticated(format!(
                "invalid `{API_KEY_HEADER}`"
            ))),
            None => Err(Status::unauthenticated(format!(
                "missing `{API_KEY_HEADER}`"
            ))),
        }
    }
}

pub type Traces = InterceptedService<TraceServiceServer<Collector>, ApiKeyCheck>;
pub type Metrics = InterceptedService<MetricsServiceServer<Collector>, ApiKeyCheck>;
pub type Logs = InterceptedService<LogsServiceServer<Collector>, ApiKeyCheck>;

/// The three services, wired to `sink` and requiring `api_key` if set;
/// taking gzip-compressed requests (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`)
/// if `gzip`. The backend serves them on its gRPC port; a test serves them
/// where a collector of its own is wanted (over TLS, without gzip).
pub fn services(sink: Arc<dyn Sink>, api_key: Option<&str>, gzip: bool) -> (Traces, Metrics, Logs) {
    let check = ApiKeyCheck::new(api_key);
    let collector = Collector { sink };
    let mut traces = TraceServiceServer::new(collector.clone());
    let mut metrics = MetricsServiceServer::new(collector.clone());
    let mut logs = LogsServiceServer::new(collector);
    if gzip {
        traces = traces.accept_compressed(CompressionEncoding::Gzip);
        metrics = metrics.accept_compressed(CompressionEncoding::Gzip);
        logs = logs.accept_compressed(CompressionEncoding::Gzip);
    }
    (
        InterceptedService::new(traces, check.clone()),
        InterceptedService::new(metrics, check.clone()),
        InterceptedService::new(logs, check),
    )
}
