//! OTLP/HTTP: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` with protobuf
//! (`application/x-protobuf`) or JSON (`application/json`, as the Aspire
//! dashboard accepts since 13.2) bodies, answered in the same encoding.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use opentelemetry_proto::tonic::collector::{
    logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse},
    metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse},
    trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse},
};
use prost::Message;
use serde::{Serialize, de::DeserializeOwned};

use crate::receiver::{API_KEY_HEADER, Sink};

/// The largest body accepted, as gRPC's default message limit.
pub(super) const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Clone)]
struct HttpState {
    sink: Arc<dyn Sink>,
    api_key: Option<Arc<str>>,
}

pub(super) fn router(sink: Arc<dyn Sink>, api_key: Option<&str>) -> Router {
    let state = HttpState {
        sink,
        api_key: api_key.map(Arc::from),
    };
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/metrics", post(metrics))
        .route("/v1/logs", post(logs))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn traces(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    export::<ExportTraceServiceRequest, ExportTraceServiceResponse>(
        &state,
        &headers,
        &body,
        |sink, r| sink.traces(r),
    )
}

async fn metrics(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    export::<ExportMetricsServiceRequest, ExportMetricsServiceResponse>(
        &state,
        &headers,
        &body,
        |sink, r| {
            sink.metrics(r);
        },
    )
}

async fn logs(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    export::<ExportLogsServiceRequest, ExportLogsServiceResponse>(
        &state,
        &headers,
        &body,
        |sink, r| sink.logs(r),
    )
}

#[derive(Clone, Copy)]
enum Encoding {
    Protobuf,
    Json,
}

fn export<Req, Resp>(
    state: &HttpState,
    headers: &HeaderMap,
    body: &[u8],
    deliver: impl FnOnce(&dyn Sink, Req),
) -> Response
where
    Req: Message + Default + DeserializeOwned,
    Resp: Message + Default + Serialize,
{
    if !authorized(state, headers) {
        return (
            StatusCode::UNAUTHORIZED,
            format!("missing or invalid `{API_KEY_HEADER}` header\n"),
        )
            .into_response();
    }
    let Some(encoding) = encoding(headers) else {
        let message = "OTLP/HTTP takes application/x-protobuf or application/json\n";
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, message).into_response();
    };
    let decoded = match encoding {
        Encoding::Protobuf => Req::decode(body).map_err(|e| e.to_string()),
        Encoding::Json => serde_json::from_slice::<Req>(body).map_err(|e| e.to_string()),
    };
    match decoded {
        Ok(request) => {
            deliver(state.sink.as_ref(), request);
            respond(encoding, &Resp::default())
        }
        Err(error) => (
            StatusCode::BAD_REQUEST,
            format!("malformed OTLP request: {error}\n"),
        )
            .into_response(),
    }
}

fn authorized(state: &HttpState, headers: &HeaderMap) -> bool {
    let Some(expected) = &state.api_key else {
        return true;
    };
    let presented = headers
        .get(API_KEY_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    crate::secret::constant_time_eq(presented, expected.as_bytes())
}

fn encoding(headers: &HeaderMap) -> Option<Encoding> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    match media_type {
        "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
        "application/json" => Some(Encoding::Json),
        _ => None,
    }
}

fn respond(encoding: Encoding, response: &(impl Message + Serialize)) -> Response {
    match encoding {
        Encoding::Protobuf => (
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            response.encode_to_vec(),
        )
            .into_response(),
        Encoding::Json => {
            let body = serde_json::to_vec(response).unwrap_or_else(|_| b"{}".to_vec());
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}
