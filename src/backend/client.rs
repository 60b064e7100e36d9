//! A client of the built-in dashboard's web API, for the query commands and
//! `cargo otel mcp`: plain HTTP/1.1 on the dashboard's port, the browser
//! token sent as `Authorization: Bearer`, answers read into the API's own
//! [`model`](super::model) types.

use std::{
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context as _;
use axum::http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, de::DeserializeOwned};

use super::{
    discovery,
    model::{
        LogEntry, LogQuery, MetricQuery, MetricSeries, Summary, TraceDetail, TraceQuery,
        TraceSummary,
    },
};

/// How long one request may take, connecting included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The most an answer may hold (a store at its default memory cap renders
/// to less).
const MAX_BODY: usize = 512 << 20;

/// Which dashboard to read: found through the state files, unless `url`
/// names one.
#[derive(Debug, Default, Clone)]
pub struct Choice {
    /// The web view's address, or the login link `serve` and `dash` print
    /// (its token is then used).
    pub url: Option<String>,
    /// The browser token, when the URL does not carry it.
    pub token: Option<String>,
}

/// A dashboard's web API.
#[derive(Debug, Clone)]
pub struct Client {
    /// `host:port`.
    authority: String,
    token: Option<String>,
    /// Where it is, for messages: `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Client {
    /// The dashboard `choice` names, else the one the state files point to
    /// from `cwd`.
    pub fn locate(choice: &Choice, cwd: &Path) -> anyhow::Result<Self> {
        let mut client = match &choice.url {
            Some(url) => Self::at(url)?,
            None => {
                let running = discovery::find(cwd)?;
                let mut client = Self::at(&running.url)?;
                client.token = running.token;
                client
            }
        };
        if choice.token.is_some() {
            client.token.clone_from(&choice.token);
        }
        Ok(client)
    }

    /// `http://HOST:PORT[/...][?t=TOKEN]`.
    pub fn at(url: &str) -> anyhow::Result<Self> {
        let uri: Uri = url
            .parse()
            .with_context(|| format!("`{url}` is not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => anyhow::bail!(
                "`{url}` is {other}, and the built-in dashboard speaks plain http on this machine\nhelp: use the `http://localhost:PORT/` address that `cargo otel serve` printed"
            ),
            None => {
                anyhow::bail!("`{url}` has no scheme\nhelp: write it as `http://localhost:PORT/`")
            }
        }
        let authority = uri
            .authority()
            .with_context(|| format!("`{url}` names no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        let token = uri.query().and_then(|query| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .ok()?
                .into_iter()
                .find_map(|(key, value)| (key == "t").then_some(value))
        });
        Ok(Self {
            authority: format!("{}:{port}", authority.host()),
            token,
            url: format!("http://{}:{port}", authority.host()),
        })
    }

    pub async fn summary(&self) -> anyhow::Result<Summary> {
        self.get("/api/summary").await
    }

    pub async fn traces(&self, query: &TraceQuery) -> anyhow::Result<Vec<TraceSummary>> {
        self.get(&format!("/api/traces?{}", encode(query)?)).await
    }

    pub async fn trace(&self, trace_id: &str) -> anyhow::Result<TraceDetail> {
        self.get(&format!("/api/traces/{trace_id}")).await
    }

    pub async fn logs(&self, query: &LogQuery) -> anyhow::Result<Vec<LogEntry>> {
        self.get(&format!("/api/logs?{}", encode(query)?)).await
    }

    pub async fn metrics(&self, query: &MetricQuery) -> anyhow::Result<Vec<MetricSeries>> {
        self.get(&format!("/api/metrics?{}", encode(query)?)).await
    }

    /// `GET path` as JSON.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let (status, body) = tokio::time::timeout(REQUEST_TIMEOUT, self.request(path))
            .await
            .map_err(|_| {
                anyhow::anyhow!("the dashboard at {} did not answer in time", self.url)
            })??;
        match status {
            StatusCode::OK => serde_json::from_slice(&body).with_context(|| {
                format!(
                    "the dashboard at {} answered with unexpected JSON",
                    self.url
                )
            }),
            StatusCode::UNAUTHORIZED => anyhow::bail!(
                "the dashboard at {} wants its browser token{}\n\
                 help: pass `--token`, or the login link it printed as `--url`",
                self.url,
                if self.token.is_some() {
                    ", and this one is not it"
                } else {
                    ""
                }
            ),
            _ => {
                #[derive(Deserialize)]
                struct ApiError {
                    error: String,
                }
                let message = serde_json::from_slice::<ApiError>(&body)
                    .map(|e| e.error)
                    .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
                anyhow::bail!("the dashboard answered {status}: {message}")
            }
        }
    }

    async fn request(&self, path: &str) -> anyhow::Result<(StatusCode, Bytes)> {
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .with_context(|| {
                format!(
                    "no dashboard answers at {}\nhelp: start one with `cargo otel serve`, or check the address",
                    self.url
                )
            })?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .with_context(|| format!("failed to talk to the dashboard at {}", self.url))?;
        tokio::spawn(connection);
        let mut request = Request::get(path)
            .header(header::HOST, &self.authority)
            .header(header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .context("failed to build a request")?;
        let response = sender
            .send_request(request)
            .await
            .with_context(|| format!("the dashboard at {} broke off the request", self.url))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("failed to read the dashboard's answer: {e}"))?
            .to_bytes();
        Ok((status, body))
    }
}

/// A series as its latest value: the API's fields without the list of
/// points, plus the latest point's `time_unix_nano`, and for histograms
/// and summaries its `count` and `avg` (the sum is `latest`).
pub fn latest_value(series: &MetricSeries) -> serde_json::Value {
    let mut value = serde_json::to_value(series).unwrap_or_default();
    let latest = series.points.last();
    if let Some(fields) = value.as_object_mut() {
        fields.remove("points");
        if let Some(point) = latest {
            fields.insert(
                "time_unix_nano".to_owned(),
                point.time_unix_nano.clone().into(),
            );
        }
        if let Some(count) = latest.and_then(|p| p.count) {
            fields.insert("count".to_owned(), count.into());
            let avg = (count > 0).then(|| series.latest / count as f64);
            fields.insert("avg".to_owned(), avg.into());
        }
    }
    value
}

/// `--since 5m` as the Unix time in nanoseconds it stands for.
pub fn since_unix_nano(age: Duration) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(now.saturating_sub(age).as_nanos()).unwrap_or(u64::MAX)
}

/// `30s`, `5m`, `2h`, `1d` (a bare number is seconds).
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let seconds = match &text[digits.len()..] {
        "" | "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => 0,
    };
    match digits.parse::<u64>() {
        Ok(number) if seconds > 0 => Ok(Duration::from_secs(number.saturating_mul(seconds))),
        _ => Err(format!(
            "`{text}` is not an age: use e.g. `30s`, `5m`, `2h` or `1d`"
        )),
    }
}

/// A query as its URL query string.
fn encode(query: &impl serde::Serialize) -> anyhow::Result<String> {
    serde_urlencoded::to_string(query).context("failed to encode the query")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_link_gives_the_address_and_the_token() {
        let client = Client::at("http://localhost:18888/login?t=abc123").unwrap();
        assert_eq!(
            (client.url.as_str(), client.token.as_deref()),
            ("http://localhost:18888", Some("abc123"))
        );
        let plain = Client::at("http://127.0.0.1:4000/").unwrap();
        assert_eq!(
            (plain.authority.as_str(), plain.token),
            ("127.0.0.1:4000", None)
        );
        assert!(Client::at("https://localhost:18888/").is_err());
        assert!(Client::at("localhost:18888").is_err());
    }

    #[test]
    fn ages_parse() {
        assert_eq!(parse_age("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_age("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_age("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_age("5 minutes").is_err());
        assert!(parse_age("m").is_err());
    }

    #[test]
    fn queries_leave_out_what_is_unset() {
        let query = TraceQuery {
            q: Some("a b&c".to_owned()),
            errors: Some(true),
            ..Default::default()
        };
        assert_eq!(encode(&query).unwrap(), "q=a+b%26c&errors=true");
    }
}
