//! `/api/*`: the store's contents as JSON, in the shapes of
//! [`crate::backend::model`]. Every response is `Cache-Control: no-store`,
//! since telemetry changes by the second and may be sensitive.

use axum::{
    Json, Router,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;

use super::AppState;
use crate::backend::model::{
    LogEntry, LogQuery, MetricQuery, MetricSeries, Summary, TraceDetail, TraceQuery, TraceSummary,
};

/// Minimum levels `GET /api/logs?level=` accepts.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "fatal"];

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/summary", get(summary))
        .route("/api/traces", get(traces))
        .route("/api/traces/{trace_id}", get(trace))
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
    Ok(Json(state.store.traces(&query)))
}

async fn trace(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
) -> ApiResult<TraceDetail> {
    let trace_id = trace_id.to_ascii_lowercase();
    if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request("a trace id is 32 hex digits"));
    }
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
    Ok(Json(state.store.logs(&query)))
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

async fn unknown() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such api route")
}
