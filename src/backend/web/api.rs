//! `/api/*`: the store's contents as JSON, in the shapes of
//! [`crate::backend::model`]. Every response is `Cache-Control: no-store`,
//! since telemetry changes by the second and may be sensitive.

use axum::{
    Json, Router,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::backend::model::{
    LogEntry, LogQuery, MetricQuery, MetricSeries, Summary, TraceDetail, TraceQuery, TraceSummary,
};
use crate::backend::store::AttrFilter;

/// Minimum levels `GET /api/logs?level=` accepts.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "fatal"];

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/summary", get(summary))
        .route("/api/traces", get(traces))
        .route("/api/traces/{trace_id}", get(trace))
        .route("/api/traces/{trace_id}/otlp", get(export_trace))
        .route("/api/export/traces", get(export_traces))
        .route("/api/export/logs", get(export_logs))
        .route("/api/clear", post(clear))
        .route("/api/logs", get(logs))
        .route("/api/logs/{id}", get(log))
        .route("/api/metrics", get(metrics))
        .route("/api/{*rest}", get(unknown))
        .layer(middleware::map_response(no_store))
}

async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A JSON error: `{"error": "..."}` with a status.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body {
            error: String,
        }
        let body = Body {
            error: self.message,
        };
        let mut response = (self.status, Json(body)).into_response();
        // The middleware's `no_store` does not see 401s from the auth layer.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Turns axum's plain-text rejection (bad `limit`, `errors=maybe`) into a
/// JSON 400.
fn query<T>(extracted: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    extracted
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::bad_request(format!("bad query: {}", rejection.body_text())))
}

async fn summary(State(state): State<AppState>) -> Json<Summary> {
    Json(state.store.summary())
}

async fn traces(
    State(state): State<AppState>,
    extracted: Result<Query<TraceQuery>, QueryRejection>,
) -> ApiResult<Vec<TraceSummary>> {
    let query = query(extracted)?;
    check_attr(query.attr.as_deref())?;
    Ok(Json(state.store.traces(&query)))
}

async fn trace(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
) -> ApiResult<TraceDetail> {
    let trace_id = trace_id_of(&trace_id)?;
    state
        .store
        .trace(&trace_id)
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no trace {trace_id}")))
}

async fn logs(
    State(state): State<AppState>,
    extracted: Result<Query<LogQuery>, QueryRejection>,
) -> ApiResult<Vec<LogEntry>> {
    let mut query = query(extracted)?;
    query.level = query.level.map(|level| level.to_ascii_lowercase());
    if let Some(level) = query.level.as_deref()
        && !LEVELS.contains(&level)
    {
        return Err(ApiError::bad_request(format!(
            "unknown level `{level}`: use one of {}",
            LEVELS.join(", ")
        )));
    }
    check_attr(query.attr.as_deref())?;
    Ok(Json(state.store.logs(&query)))
}

/// An `attr` filter the store can read, or a 400 that says how to write one.
fn check_attr(attr: Option<&str>) -> Result<(), ApiError> {
    match attr {
        Some(text) if AttrFilter::parse(text).is_none() => Err(ApiError::bad_request(format!(
            "bad attribute filter `{text}`: use KEY=VALUE, KEY!=VALUE or KEY~TEXT"
        ))),
        _ => Ok(()),
    }
}

async fn log(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<LogEntry> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("a log record id is a number"))?;
    state
        .store
        .log(id)
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no log record {id}")))
}

async fn metrics(
    State(state): State<AppState>,
    extracted: Result<Query<MetricQuery>, QueryRejection>,
) -> ApiResult<Vec<MetricSeries>> {
    let query = query(extracted)?;
    Ok(Json(state.store.metrics(&query)))
}

/// The path's trace id, lowercase, or a 400.
fn trace_id_of(text: &str) -> Result<String, ApiError> {
    let trace_id = text.to_ascii_lowercase();
    if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request("a trace id is 32 hex digits"));
    }
    Ok(trace_id)
}

/// `GET /api/traces/{trace_id}/otlp`: the trace as an OTLP/JSON export
/// request, as a download.
async fn export_trace(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
) -> Result<Response, ApiError> {
    let trace_id = trace_id_of(&trace_id)?;
    let request = state
        .store
        .export_trace(&trace_id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no trace {trace_id}")))?;
    Ok(download(&format!("trace-{trace_id}.json"), &request))
}

/// `GET /api/export/traces?...`: the traces `GET /api/traces` would list
/// (every one, unless `limit` is given) as one OTLP/JSON export request.
async fn export_traces(
    State(state): State<AppState>,
    extracted: Result<Query<TraceQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = query(extracted)?;
    check_attr(query.attr.as_deref())?;
    Ok(download("traces.json", &state.store.export_traces(&query)))
}

/// `GET /api/export/logs?...`: the records `GET /api/logs` would list, the
/// same way.
async fn export_logs(
    State(state): State<AppState>,
    extracted: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = query(extracted)?;
    check_attr(query.attr.as_deref())?;
    Ok(download("logs.json", &state.store.export_logs(&query)))
}

/// JSON the browser saves as `file` rather than shows.
fn download(file: &str, body: &impl Serialize) -> Response {
    let mut response = Json(body).into_response();
    let disposition = format!("attachment; filename=\"{file}\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Query string of `POST /api/clear`.
#[derive(Debug, Deserialize)]
struct ClearQuery {
    /// Only what this service sent; everything when absent.
    service: Option<String>,
}

/// The header a `POST` must carry. A page of another site cannot send it
/// without a CORS preflight, which this server never grants, so together with
/// the `SameSite=Strict` session cookie and the `Origin` and `Host` checks it
/// keeps other sites (and DNS rebinding) from clearing the store.
pub(crate) const ACTION_HEADER: &str = "x-cargo-otel-action";

/// `POST /api/clear?service=S`: takes out everything held (or what the
/// service sent); answers with the summary after it.
async fn clear(
    State(state): State<AppState>,
    headers: HeaderMap,
    extracted: Result<Query<ClearQuery>, QueryRejection>,
) -> ApiResult<Summary> {
    same_site_action(&headers, "clear")?;
    let query = query(extracted)?;
    state.store.clear(query.service.as_deref());
    Ok(Json(state.store.summary()))
}

/// A 403 unless the request names `action` in [`ACTION_HEADER`], was sent to
/// a loopback host name, and (when the browser says where it came from)
/// from a page of this very server.
fn same_site_action(headers: &HeaderMap, action: &str) -> Result<(), ApiError> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let forbidden = |why: &str| Err(ApiError::new(StatusCode::FORBIDDEN, why));
    if text(ACTION_HEADER) != Some(action) {
        return forbidden("this action needs the dashboard's own request header");
    }
    if headers.get_all(header::HOST).iter().count() > 1 {
        return forbidden("a request names one host");
    }
    let host = text(header::HOST.as_str()).unwrap_or_default();
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    if !["localhost", "127.0.0.1", "[::1]"].contains(&name) {
        return forbidden("this action is only taken on a loopback address");
    }
    match text(header::ORIGIN.as_str()) {
        Some(origin) if origin != format!("http://{host}") => {
            forbidden("this action is only taken from the dashboard's own page")
        }
        _ => Ok(()),
    }
}

async fn unknown() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such api route")
}
