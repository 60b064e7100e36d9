//! What a dashboard container publishes on the host, over the shared raw
//! HTTP/1.1 client ([`crate::support::http`]): `/health` and OTLP/HTTP JSON
//! exports.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use crate::support::http::{HttpResponse, http};

/// Polls `GET /health` on `ui` until it answers `200 Healthy`; returns how
/// long that took. A published port accepts connections before the process
/// in the container listens (docker-proxy), so only an HTTP answer counts.
pub(crate) fn wait_healthy(ui: SocketAddr, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let last = match http(ui, "GET", "/health", &[], &[]) {
            Ok(r) if r.status == 200 && r.text().trim() == "Healthy" => return started.elapsed(),
            Ok(r) => format!("{} {}", r.status, r.text()),
            Err(e) => e.to_string(),
        };
        assert!(
            started.elapsed() < within,
            "GET http://{ui}/health did not answer `Healthy` within {within:?}; last: {last}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `POST /v1/{signal}` as `application/json`, with `x-otlp-api-key` if given.
pub(crate) fn post_otlp_json(
    otlp_http: SocketAddr,
    signal: &str,
    api_key: Option<&str>,
    body: &str,
) -> HttpResponse {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(key) = api_key {
        headers.push(("x-otlp-api-key", key));
    }
    let target = format!("/v1/{signal}");
    http(otlp_http, "POST", &target, &headers, body.as_bytes())
        .unwrap_or_else(|e| panic!("POST http://{otlp_http}{target}: {e}"))
}

/// An OTLP/JSON `ExportTraceServiceRequest`: one trace of one root span
/// `span_name` from `service`, trace id `trace_id` (32 hex digits).
pub(crate) fn otlp_json_trace(service: &str, span_name: &str, trace_id: &str) -> String {
    let now = now_nanos();
    serde_json::json!({
        "resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": service}}
            ]},
            "scopeSpans": [{
                "scope": {"name": "docker-support"},
                "spans": [{
                    "traceId": trace_id,
                    "spanId": "00f067aa0ba902b7",
                    "name": span_name,
                    "kind": 2,
                    "startTimeUnixNano": (now - 5_000_000).to_string(),
                    "endTimeUnixNano": now.to_string(),
                }]
            }]
        }]
    })
    .to_string()
}

/// An OTLP/JSON `ExportLogsServiceRequest`: one INFO record `body` from `service`.
pub(crate) fn otlp_json_log(service: &str, body: &str) -> String {
    serde_json::json!({
        "resourceLogs": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": service}}
            ]},
            "scopeLogs": [{
                "scope": {"name": "docker-support"},
                "logRecords": [{
                    "timeUnixNano": now_nanos().to_string(),
                    "severityNumber": 9,
                    "severityText": "INFO",
                    "body": {"stringValue": body},
                }]
            }]
        }]
    })
    .to_string()
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
