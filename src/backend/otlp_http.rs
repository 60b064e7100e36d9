//! OTLP/HTTP: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` with protobuf
//! (`application/x-protobuf`) or JSON (`application/json`, as the Aspire
//! dashboard accepts since 13.2) bodies, plain or `Content-Encoding: gzip`,
//! answered in the same encoding.
//!
//! A request is judged by its head before its body is read: a wrong API
//! key, media type or encoding, or a `Content-Length` over [`MAX_BODY`], is
//! answered at once. The body must then arrive within the body timeout, and
//! stay within [`MAX_BODY`] once decompressed.

use std::{io::Read as _, sync::Arc, time::Duration};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use opentelemetry_proto::tonic::collector::{
    logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse},
    metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse},
    trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse},
};
use prost::Message;
use serde::{Serialize, de::DeserializeOwned};

use super::Sink;
use super::limits::MAX_BODY;
use crate::secret::API_KEY_HEADER;

#[derive(Clone)]
struct HttpState {
    sink: Arc<dyn Sink>,
    api_key: Option<Arc<str>>,
    body_timeout: Duration,
}

pub(super) fn router(sink: Arc<dyn Sink>, api_key: Option<&str>, body_timeout: Duration) -> Router {
    let state = HttpState {
        sink,
        api_key: api_key.map(Arc::from),
        body_timeout,
    };
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/metrics", post(metrics))
        .route("/v1/logs", post(logs))
        .with_state(state)
}

async fn traces(State(state): State<HttpState>, headers: HeaderMap, body: Body) -> Response {
    export::<ExportTraceServiceRequest, ExportTraceServiceResponse>(
        &state,
        &headers,
        body,
        |sink, r| sink.traces(r),
    )
    .await
}

async fn metrics(State(state): State<HttpState>, headers: HeaderMap, body: Body) -> Response {
    export::<ExportMetricsServiceRequest, ExportMetricsServiceResponse>(
        &state,
        &headers,
        body,
        |sink, r| sink.metrics(r),
    )
    .await
}

async fn logs(State(state): State<HttpState>, headers: HeaderMap, body: Body) -> Response {
    export::<ExportLogsServiceRequest, ExportLogsServiceResponse>(
        &state,
        &headers,
        body,
        |sink, r| sink.logs(r),
    )
    .await
}

/// How the message is encoded (`Content-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Protobuf,
    Json,
}

/// How the body is compressed (`Content-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
}

/// Why a request was not taken, as the status and message it gets.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    TooLarge,
    Malformed(String),
    TimedOut,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over {MAX_BODY} bytes (after decompression)\n"),
            ),
            Self::Malformed(error) => (
                StatusCode::BAD_REQUEST,
                format!("malformed OTLP request: {error}\n"),
            ),
            Self::TimedOut => (
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time\n".to_owned(),
            ),
        }
        .into_response()
    }
}

async fn export<Req, Resp>(
    state: &HttpState,
    headers: &HeaderMap,
    body: Body,
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
    let Some(compression) = compression(headers) else {
        let message = "OTLP/HTTP takes a body compressed with gzip, or not at all\n";
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, message).into_response();
    };
    if content_length(headers).is_some_and(|length| length > MAX_BODY as u64) {
        return Refusal::TooLarge.into_response();
    }
    let decoded = match read_body(body, state.body_timeout).await {
        Ok(body) => decode::<Req>(encoding, compression, &body),
        Err(refusal) => Err(refusal),
    };
    match decoded {
        Ok(request) => {
            deliver(state.sink.as_ref(), request);
            respond(encoding, &Resp::default())
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// The whole body, if it arrives within `timeout` and [`MAX_BODY`].
async fn read_body(body: Body, timeout: Duration) -> Result<Bytes, Refusal> {
    let collected = tokio::time::timeout(timeout, Limited::new(body, MAX_BODY).collect()).await;
    match collected {
        Err(_) => Err(Refusal::TimedOut),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<LengthLimitError>() => Err(Refusal::TooLarge),
        Ok(Err(error)) => Err(Refusal::Malformed(format!(
            "failed to read the body: {error}"
        ))),
    }
}

/// The export request in `body`, decompressed and decoded.
pub(crate) fn decode<Req>(
    encoding: Encoding,
    compression: Compression,
    body: &[u8],
) -> Result<Req, Refusal>
where
    Req: Message + Default + DeserializeOwned,
{
    let inflated;
    let message = match compression {
        Compression::None => body,
        Compression::Gzip => {
            inflated = gunzip(body)?;
            &inflated[..]
        }
    };
    match encoding {
        Encoding::Protobuf => Req::decode(message).map_err(|e| Refusal::Malformed(e.to_string())),
        Encoding::Json => {
            serde_json::from_slice::<Req>(message).map_err(|e| Refusal::Malformed(e.to_string()))
        }
    }
}

/// Decompresses every gzip member of `body` (as Go's and the collector's
/// readers do), stopping as soon as the output passes [`MAX_BODY`]: a small
/// body that inflates to gigabytes costs no more than [`MAX_BODY`].
fn gunzip(body: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut inflated = Vec::with_capacity(body.len().saturating_mul(4).min(MAX_BODY));
    let mut decoder = flate2::read::MultiGzDecoder::new(body).take(MAX_BODY as u64 + 1);
    decoder
        .read_to_end(&mut inflated)
        .map_err(|e| Refusal::Malformed(format!("bad gzip data: {e}")))?;
    if inflated.len() > MAX_BODY {
        return Err(Refusal::TooLarge);
    }
    Ok(inflated)
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

pub(crate) fn encoding(headers: &HeaderMap) -> Option<Encoding> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    match media_type.to_ascii_lowercase().as_str() {
        "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
        "application/json" => Some(Encoding::Json),
        _ => None,
    }
}

/// `None` for an encoding other than gzip (`x-gzip` is its old name) or
/// identity, or for several.
pub(crate) fn compression(headers: &HeaderMap) -> Option<Compression> {
    let mut values = headers.get_all(header::CONTENT_ENCODING).iter();
    let Some(value) = values.next() else {
        return Some(Compression::None);
    };
    if values.next().is_some() {
        return None;
    }
    match value.to_str().ok()?.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => Some(Compression::None),
        "gzip" | "x-gzip" => Some(Compression::Gzip),
        _ => None,
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
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

#[cfg(test)]
mod tests {
    //! The decoding path as a property: whatever the body, `decode` answers
    //! (no panic, nothing over the limit), and every request, compressed
    //! any way gzip allows, comes back as it was sent.

    use std::io::Write as _;

    use flate2::{Compression as Level, write::GzEncoder};
    use opentelemetry_proto::tonic::{
        common::v1::{AnyValue, KeyValue, any_value::Value},
        resource::v1::Resource,
        trace::v1::{ResourceSpans, ScopeSpans, Span},
    };
    use proptest::{
        collection::vec,
        prelude::{Just, Strategy, any},
        prop_oneof,
        test_runner::{Config, TestCaseError, TestRunner},
    };

    use super::*;

    fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Level::new(level));
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn text(key: &str, value: String) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(value)),
            }),
            ..KeyValue::default()
        }
    }

    /// A trace export with arbitrary names and values (any Unicode).
    fn requests() -> impl Strategy<Value = ExportTraceServiceRequest> {
        let span = (
            any::<String>(),
            any::<[u8; 16]>(),
            any::<String>(),
            any::<u64>(),
        );
        (any::<String>(), vec(span, 0..8)).prop_map(|(service, spans)| {
            let spans = spans
                .into_iter()
                .map(|(name, trace_id, value, start)| Span {
                    trace_id: trace_id.to_vec(),
                    span_id: trace_id[..8].to_vec(),
                    name,
                    start_time_unix_nano: start,
                    attributes: vec![text("value", value)],
                    ..Span::default()
                })
                .collect();
            ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![text("service.name", service)],
                        ..Resource::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans,
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                }],
            }
        })
    }

    fn runner(cases: u32) -> TestRunner {
        TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        })
    }

    #[test]
    fn every_request_survives_gzip_in_one_member_or_several() {
        let encodings = prop_oneof![Just(Encoding::Protobuf), Just(Encoding::Json)];
        let strategy = (requests(), encodings, 0..10u32, 1..4usize);
        let result = runner(128).run(&strategy, |(request, encoding, level, members)| {
            let message = match encoding {
                Encoding::Protobuf => request.encode_to_vec(),
                Encoding::Json => serde_json::to_vec(&request).unwrap(),
            };
            // Split into `members` gzip members, concatenated.
            let piece = message.len().div_ceil(members).max(1);
            let body: Vec<u8> = message
                .chunks(piece)
                .flat_map(|chunk| gzip(chunk, level))
                .collect();
            let decoded = decode::<ExportTraceServiceRequest>(encoding, Compression::Gzip, &body);
            match decoded {
                Ok(decoded) if decoded == request => Ok(()),
                other => Err(TestCaseError::fail(format!("{other:?}"))),
            }
        });
        result.unwrap();
    }

    /// Arbitrary bytes, gzip of arbitrary bytes, and valid gzip cut short or
    /// with a byte changed: an answer every time, never a panic.
    #[test]
    fn any_body_marked_gzip_gets_an_answer() {
        let valid = gzip(&ExportTraceServiceRequest::default().encode_to_vec(), 6);
        let damaged = (vec((any::<usize>(), any::<u8>()), 0..4), any::<usize>()).prop_map(
            move |(edits, cut)| {
                let mut body = valid.clone();
                for (at, byte) in edits {
                    let len = body.len();
                    body[at % len] = byte;
                }
                body.truncate(cut % (body.len() + 1));
                body
            },
        );
        let bodies = prop_oneof![
            vec(any::<u8>(), 0..512),
            vec(any::<u8>(), 0..512).prop_map(|data| gzip(&data, 6)),
            damaged,
        ];
        let encodings = prop_oneof![Just(Encoding::Protobuf), Just(Encoding::Json)];
        let result = runner(1024).run(&(bodies, encodings), |(body, encoding)| {
            match decode::<ExportTraceServiceRequest>(encoding, Compression::Gzip, &body) {
                Ok(_) | Err(Refusal::Malformed(_)) => Ok(()),
                Err(other) => Err(TestCaseError::fail(format!("{other:?}"))),
            }
        });
        result.unwrap();
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_limit() {
        // Just over the limit in one member, and 64 MiB in 64 members.
        let zeros = vec![0_u8; MAX_BODY + 1];
        let one = gzip(&zeros, 9);
        let member = gzip(&zeros[..1024 * 1024], 9);
        let many: Vec<u8> = std::iter::repeat_n(&member[..], 64)
            .flatten()
            .copied()
            .collect();
        for body in [one, many] {
            assert!(body.len() < 128 * 1024, "{}", body.len());
            let decoded =
                decode::<ExportTraceServiceRequest>(Encoding::Protobuf, Compression::Gzip, &body);
            assert_eq!(decoded.unwrap_err(), Refusal::TooLarge);
        }
    }

    #[test]
    fn content_encoding_is_gzip_identity_or_none() {
        let with = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for value in values {
                headers.append(header::CONTENT_ENCODING, value.parse().unwrap());
            }
            compression(&headers)
        };
        assert_eq!(with(&[]), Some(Compression::None));
        assert_eq!(with(&["identity"]), Some(Compression::None));
        assert_eq!(with(&["GZIP"]), Some(Compression::Gzip));
        assert_eq!(with(&["x-gzip"]), Some(Compression::Gzip));
        assert_eq!(with(&["br"]), None);
        assert_eq!(with(&["gzip", "gzip"]), None);
        assert_eq!(with(&["gzip, deflate"]), None);
    }
}
