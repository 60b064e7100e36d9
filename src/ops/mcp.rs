//! `cargo otel mcp`: a Model Context Protocol server on stdin and stdout, so
//! a coding agent can read what the built-in dashboard holds: services,
//! traces (listed, searched, one whole), logs and metrics, each answer
//! compact JSON in the web API's shapes.
//!
//! The dashboard is looked up at every call, as the query commands look it
//! up: an agent starts the server once, and dashboards come and go.

use std::path::PathBuf;

use anyhow::Context as _;
use rmcp::{
    ServerHandler, ServiceExt as _,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{Implementation, ServerCapabilities, ServerConfig},
    schemars::{self, JsonSchema},
    tool, tool_handler, tool_router,
};
use serde::{Deserialize, Serialize};

use crate::backend::{
    client::{self, Choice, Client},
    model::{LogQuery, MetricQuery, TraceQuery},
};

#[derive(Debug, Default, Clone)]
pub struct McpOptions {
    pub dashboard: Choice,
}

const INSTRUCTIONS: &str = "Reads the telemetry (traces, logs, metrics) that programs sent to \
     cargo-otel's built-in dashboard (`cargo otel serve` or `cargo otel dash --backend local`). \
     Start with list_traces (errors=true for failures), then get_trace for one trace's spans and \
     exceptions, list_logs with its trace_id for what it logged. Times are Unix nanoseconds as \
     strings, durations nanoseconds.";

pub fn run(options: &McpOptions) -> anyhow::Result<()> {
    // The dashboard of this workspace is preferred.
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let server = Telemetry {
        dashboard: options.dashboard.clone(),
        cwd,
        tool_router: Telemetry::tool_router(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("cargo-otel-mcp")
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(async {
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .context("failed to start the MCP session on stdin and stdout")?;
        service
            .waiting()
            .await
            .context("the MCP session ended with an error")?;
        anyhow::Ok(())
    })?;
    // Tokio's stdin reader may still be blocked in a read: leave without it.
    runtime.shutdown_background();
    Ok(())
}

#[derive(Debug, Clone)]
struct Telemetry {
    dashboard: Choice,
    cwd: PathBuf,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
struct TracesParams {
    /// Only traces with a span of this service.
    service: Option<String>,
    /// Only traces with an error span or an exception.
    errors: Option<bool>,
    /// Text to find in span names and attribute values (case-insensitive).
    search: Option<String>,
    /// Only traces that started this recently: `30s`, `5m`, `2h`, `1d`.
    since: Option<String>,
    /// Only traces of this run of `cargo otel dash --watch` (its number).
    run: Option<u32>,
    /// At most this many, newest first (default 50).
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct TraceParams {
    /// The trace's id: 32 hex digits.
    trace_id: String,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
struct LogsParams {
    /// Only records of this service.
    service: Option<String>,
    /// The lowest level: trace, debug, info, warn, error or fatal.
    level: Option<String>,
    /// Only records emitted inside this trace (32 hex digits).
    trace_id: Option<String>,
    /// Text to find in the body and attribute values (case-insensitive).
    search: Option<String>,
    /// Only records this recent: `30s`, `5m`, `2h`, `1d`.
    since: Option<String>,
    /// Only records of this run of `cargo otel dash --watch` (its number).
    run: Option<u32>,
    /// At most this many, newest first (default 100).
    limit: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
struct MetricsParams {
    /// Only metrics of this service.
    service: Option<String>,
    /// Text to find in metric names.
    search: Option<String>,
}

#[tool_router]
impl Telemetry {
    #[tool(description = "The services the dashboard holds telemetry of")]
    async fn list_services(&self) -> Result<String, String> {
        let client = self.client()?;
        let summary = client.summary().await.map_err(message)?;
        compact(&summary.services)
    }

    #[tool(
        description = "Traces, newest first: id, root span, service, start, duration, \
                          status, span count, first exception"
    )]
    async fn list_traces(
        &self,
        Parameters(params): Parameters<TracesParams>,
    ) -> Result<String, String> {
        let query = TraceQuery {
            service: params.service,
            q: params.search,
            errors: params.errors.filter(|e| *e),
            since: since(params.since.as_deref())?,
            run: params.run,
            limit: Some(params.limit.unwrap_or(50)),
            ..TraceQuery::default()
        };
        compact(&self.client()?.traces(&query).await.map_err(message)?)
    }

    #[tool(
        description = "One trace: every span with its parent, timing, status, attributes \
                          and events (exceptions)"
    )]
    async fn get_trace(
        &self,
        Parameters(params): Parameters<TraceParams>,
    ) -> Result<String, String> {
        let id = params.trace_id.trim().to_ascii_lowercase();
        compact(&self.client()?.trace(&id).await.map_err(message)?)
    }

    #[tool(description = "Log records, newest first, optionally of one trace or from a level up")]
    async fn list_logs(
        &self,
        Parameters(params): Parameters<LogsParams>,
    ) -> Result<String, String> {
        let query = LogQuery {
            service: params.service,
            level: params.level,
            q: params.search,
            trace_id: params.trace_id.map(|id| id.trim().to_ascii_lowercase()),
            since: since(params.since.as_deref())?,
            run: params.run,
            after: None,
            limit: Some(params.limit.unwrap_or(100)),
            ..LogQuery::default()
        };
        compact(&self.client()?.logs(&query).await.map_err(message)?)
    }

    #[tool(
        description = "Metrics with their latest value (histograms: count, avg, and the sum \
                          as `latest`)"
    )]
    async fn list_metrics(
        &self,
        Parameters(params): Parameters<MetricsParams>,
    ) -> Result<String, String> {
        let query = MetricQuery {
            service: params.service,
            q: params.search,
            ..MetricQuery::default()
        };
        let series = self.client()?.metrics(&query).await.map_err(message)?;
        let latest: Vec<serde_json::Value> = series.iter().map(client::latest_value).collect();
        compact(&latest)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Telemetry {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("cargo-otel", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

impl Telemetry {
    fn client(&self) -> Result<Client, String> {
        Client::locate(&self.dashboard, &self.cwd).map_err(message)
    }
}

/// An error as the tool's answer: every line of it (the `help:` too).
fn message(error: anyhow::Error) -> String {
    format!("{error:#}")
}

fn compact(value: &impl Serialize) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

fn since(age: Option<&str>) -> Result<Option<u64>, String> {
    age.map(|age| client::parse_age(age).map(client::since_unix_nano))
        .transpose()
}
