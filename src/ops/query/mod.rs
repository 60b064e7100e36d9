//! `cargo otel traces`, `trace`, `logs` and `metrics`: what the built-in
//! dashboard holds, read through its web API and printed for a terminal
//! (one line per record, coloured, cut to its width) or as JSON lines
//! (`--json`, the API's field names).

mod human;

use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use crate::{
    Shell,
    backend::{
        client::{Choice, Client, latest_value, since_unix_nano},
        model::{LogQuery, MetricQuery, SpanDetail, TraceQuery},
    },
};

/// How often `logs --follow` asks for new records.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(500);

/// What every query command takes.
#[derive(Debug, Default, Clone)]
pub struct Common {
    pub dashboard: Choice,
    /// JSON lines instead of text.
    pub json: bool,
}

#[derive(Debug, Default, Clone)]
pub struct TracesOptions {
    pub common: Common,
    pub service: Option<String>,
    /// Only traces with an error.
    pub errors: bool,
    /// Only traces that started this long ago or later.
    pub since: Option<Duration>,
    /// Text to find in span names and attribute values.
    pub grep: Option<String>,
    /// Only this run of `dash --watch`.
    pub run: Option<u32>,
    pub limit: usize,
}

#[derive(Debug, Default, Clone)]
pub struct TraceOptions {
    pub common: Common,
    pub trace_id: String,
}

#[derive(Debug, Default, Clone)]
pub struct LogsOptions {
    pub common: Common,
    pub service: Option<String>,
    /// The lowest level shown: trace, debug, info, warn, error, fatal.
    pub level: Option<String>,
    pub trace_id: Option<String>,
    pub grep: Option<String>,
    pub since: Option<Duration>,
    /// Only this run of `dash --watch`.
    pub run: Option<u32>,
    pub limit: usize,
    /// Keep printing records as they arrive.
    pub follow: bool,
}

#[derive(Debug, Default, Clone)]
pub struct MetricsOptions {
    pub common: Common,
    pub service: Option<String>,
    /// Text to find in metric names.
    pub grep: Option<String>,
}

pub fn traces(shell: &Shell, options: &TracesOptions) -> anyhow::Result<()> {
    let query = TraceQuery {
        service: options.service.clone(),
        q: options.grep.clone(),
        errors: options.errors.then_some(true),
        since: options.since.map(since_unix_nano),
        run: options.run,
        limit: Some(options.limit),
        ..TraceQuery::default()
    };
    let (client, traces) = block_on(&options.common, async |client| client.traces(&query).await)?;
    if options.common.json {
        return json_lines(shell, &traces);
    }
    if traces.is_empty() {
        shell.note(format!("no traces match at {}", client.url));
    }
    // Oldest first, so the newest is next to the prompt.
    let width = human::width();
    let lines: String = traces
        .iter()
        .rev()
        .map(|trace| human::trace_line(trace, width))
        .collect();
    shell.data(&lines);
    Ok(())
}

pub fn trace(shell: &Shell, options: &TraceOptions) -> anyhow::Result<()> {
    let trace_id = options.trace_id.trim().to_ascii_lowercase();
    if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        anyhow::bail!(
            "`{}` is not a trace id: those are 32 hex digits\nhelp: `cargo otel traces` lists them",
            options.trace_id
        );
    }
    let (_, detail) = block_on(&options.common, async |client| {
        client.trace(&trace_id).await
    })?;
    if options.common.json {
        /// A span as a JSON line: its trace's id, then its own fields.
        #[derive(Serialize)]
        struct Line<'a> {
            trace_id: &'a str,
            #[serde(flatten)]
            span: &'a SpanDetail,
        }
        let lines: Vec<Line<'_>> = detail
            .spans
            .iter()
            .map(|span| Line {
                trace_id: &detail.trace_id,
                span,
            })
            .collect();
        return json_lines(shell, &lines);
    }
    shell.data(&human::trace_tree(&detail, human::width()));
    Ok(())
}

pub fn logs(shell: &Shell, options: &LogsOptions) -> anyhow::Result<()> {
    let mut query = LogQuery {
        service: options.service.clone(),
        level: options.level.clone(),
        q: options.grep.clone(),
        trace_id: options.trace_id.clone(),
        since: options.since.map(since_unix_nano),
        run: options.run,
        after: None,
        limit: Some(options.limit),
        ..LogQuery::default()
    };
    let common = &options.common;
    let runtime = runtime()?;
    runtime.block_on(async {
        let client = locate(common)?;
        let mut seen = false;
        loop {
            let mut logs = client.logs(&query).await?;
            if let Some(newest) = logs.first() {
                query.after = Some(newest.id);
            }
            // Oldest first, in the order they happened: exporters send
            // records in batches, so arrival (the API's order) may differ.
            logs.reverse();
            logs.sort_by_key(|log| log.time_unix_nano.parse::<u64>().unwrap_or_default());
            if common.json {
                json_lines(shell, &logs)?;
            } else {
                if logs.is_empty() && !seen && !options.follow {
                    shell.note(format!("no log records match at {}", client.url));
                }
                let width = human::width();
                let lines: String = logs.iter().map(|l| human::log_line(l, width)).collect();
                shell.data(&lines);
            }
            if !options.follow {
                return Ok(());
            }
            seen = true;
            // Every new record from here on, however many.
            query.limit = None;
            tokio::time::sleep(FOLLOW_INTERVAL).await;
        }
    })
}

pub fn metrics(shell: &Shell, options: &MetricsOptions) -> anyhow::Result<()> {
    let query = MetricQuery {
        service: options.service.clone(),
        q: options.grep.clone(),
        ..MetricQuery::default()
    };
    let (client, series) = block_on(&options.common, async |client| client.metrics(&query).await)?;
    if options.common.json {
        let lines: Vec<serde_json::Value> = series.iter().map(latest_value).collect();
        return json_lines(shell, &lines);
    }
    if series.is_empty() {
        shell.note(format!("no metrics match at {}", client.url));
    }
    let width = human::width();
    let lines: String = series
        .iter()
        .map(|s| human::metric_line(s, width))
        .collect();
    shell.data(&lines);
    Ok(())
}

/// One JSON object per line.
fn json_lines<T: Serialize>(shell: &Shell, records: &[T]) -> anyhow::Result<()> {
    let mut text = String::new();
    for record in records {
        text.push_str(&serde_json::to_string(record).context("failed to encode JSON")?);
        text.push('\n');
    }
    shell.data(&text);
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")
}

/// The dashboard `common` names, else the one for the current directory.
fn locate(common: &Common) -> anyhow::Result<Client> {
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    Client::locate(&common.dashboard, &cwd)
}

/// The dashboard `common` names, and what `ask` read from it.
fn block_on<T>(
    common: &Common,
    ask: impl AsyncFnOnce(&Client) -> anyhow::Result<T>,
) -> anyhow::Result<(Client, T)> {
    let client = locate(common)?;
    let answer = runtime()?.block_on(ask(&client))?;
    Ok((client, answer))
}
