//! Every bound the local backend keeps, in one place: how much the store
//! holds ([`Caps`]), how long the text it stores may be, what one request
//! may carry, and how many connections may be open and for how long
//! ([`Connections`]). The README's table of limits lists each beside the
//! Aspire dashboard's (`Dashboard:TelemetryLimits:*`).

use std::time::Duration;

/// How much the store holds before it evicts the oldest. Traces, logs and
/// metric points follow the Aspire dashboard's defaults; the span cap keeps
/// a flood of huge traces bounded too, and `bytes` bounds what all of it
/// takes in memory, however large each record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub traces: usize,
    pub spans: usize,
    pub logs: usize,
    pub metric_points: usize,
    /// What everything held may take, as the store estimates it (strings and
    /// bytes at their length, plus each record's fixed size).
    pub bytes: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            traces: 10_000,
            spans: 100_000,
            logs: 10_000,
            metric_points: 50_000,
            bytes: 256 * MIB,
        }
    }
}

pub const MIB: usize = 1024 * 1024;

/// The largest request, as gRPC's default message limit: an OTLP/HTTP body
/// as sent and after decompression, a gRPC message after decompression.
pub const MAX_BODY: usize = 4 * MIB;

/// Names and keys (service, span, event, metric and scope names, attribute
/// keys, severity texts), in bytes; longer ones are cut and end in `…`.
pub const MAX_NAME_LENGTH: usize = 1024;
/// Attribute values, log bodies, status messages and descriptions, in bytes
/// (the Aspire dashboard's `MaxAttributeLength`, unlimited there).
pub const MAX_VALUE_LENGTH: usize = 64 * 1024;
/// Attributes per span, event, link, log record and metric point, and items
/// per array or map value; the first ones are kept (the Aspire dashboard's
/// `MaxAttributeCount`).
pub const MAX_ATTRIBUTE_COUNT: usize = 128;
/// Events per span, the first ones kept (the Aspire dashboard's
/// `MaxSpanEventCount`, unlimited there; 128 is the OpenTelemetry SDKs'
/// default).
pub const MAX_SPAN_EVENT_COUNT: usize = 128;
/// Links per span, the first ones kept (the SDKs' default).
pub const MAX_SPAN_LINK_COUNT: usize = 128;
/// Buckets per histogram point (the SDKs' exponential default is 160 a
/// sign); a point with more keeps its count and sum but no buckets.
pub const MAX_HISTOGRAM_BUCKETS: usize = 1024;
/// Exemplars per metric point, the first ones kept.
pub const MAX_EXEMPLARS: usize = 16;

/// How many connections each port takes, and how long one may stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// Open connections per port; further ones wait to be accepted until
    /// one closes.
    pub per_port: usize,
    /// HTTP: a request's head must arrive within this (counted from the
    /// connection's start or the previous response, so it is also how long
    /// an idle keep-alive connection stays open).
    pub header_timeout: Duration,
    /// A request's body must arrive within this of its head (gRPC: the whole
    /// export).
    pub body_timeout: Duration,
    /// A connection that moves no byte either way for this long is closed.
    pub idle_timeout: Duration,
    /// gRPC: the server pings this often, so an idle client that is alive
    /// answers well within `idle_timeout`.
    pub ping_interval: Duration,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            per_port: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(20),
            ping_interval: Duration::from_secs(5),
        }
    }
}
