//! `--save FILE`: every export request received, one OTLP/JSON object per
//! line (the collector's file-exporter format), so a run can be kept,
//! diffed and replayed. Written to a temporary file beside FILE while the
//! backend runs (memory stays bounded whatever the store evicts) and renamed
//! into place when it stops.

use std::{
    fs::File,
    io::{BufRead as _, BufReader, BufWriter, Write as _},
    path::{Path, PathBuf},
    sync::Mutex,
};

use anyhow::Context as _;
use serde::Serialize;
use tempfile::NamedTempFile;

use super::Store;

/// `N export requests to FILE`, once the file is in place.
pub fn describe(path: &Path, lines: u64) -> String {
    format!("{lines} export requests to {}", path.display())
}

/// `N export requests from FILE`, once `--load` read it.
pub fn describe_loaded(path: &Path, lines: u64) -> String {
    format!("{lines} export requests from {}", path.display())
}

/// Reads a `--save` file into `store`, one export request a line (blank
/// lines skipped); returns how many it held. The store's caps apply as to
/// anything received.
pub fn load(path: &Path, store: &Store) -> anyhow::Result<u64> {
    let cannot = || format!("failed to read `{}`", path.display());
    let file = File::open(path).with_context(cannot)?;
    let mut lines = 0;
    for (at, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(cannot)?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "`{}` line {} is not an OTLP/JSON export request\n\
                 help: `--load` reads what `--save` wrote: one request a line",
                path.display(),
                at + 1
            )
        };
        let value: serde_json::Value = serde_json::from_str(&line).with_context(bad)?;
        if value.get("resourceSpans").is_some() {
            store.ingest_spans(serde_json::from_value(value).with_context(bad)?, None);
        } else if value.get("resourceMetrics").is_some() {
            store.ingest_metrics(serde_json::from_value(value).with_context(bad)?);
        } else if value.get("resourceLogs").is_some() {
            store.ingest_logs(serde_json::from_value(value).with_context(bad)?);
        } else {
            anyhow::bail!("{}", bad());
        }
        lines += 1;
    }
    Ok(lines)
}

#[derive(Debug)]
pub struct SaveFile {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    writer: BufWriter<NamedTempFile>,
    lines: u64,
    /// The first write error; later writes are skipped and `finish` reports it.
    failed: Option<String>,
}

impl SaveFile {
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = NamedTempFile::new_in(dir)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        let state = State {
            writer: BufWriter::new(temp),
            lines: 0,
            failed: None,
        };
        Ok(Self {
            path: path.to_path_buf(),
            state: Mutex::new(state),
        })
    }

    pub fn write(&self, request: &impl Serialize) {
        // Encoded before taking the lock, so concurrent exports only queue
        // for the (buffered) write itself.
        let line = serde_json::to_vec(request).map(|mut line| {
            line.push(b'\n');
            line
        });
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.failed.is_some() {
            return;
        }
        let result = line
            .map_err(std::io::Error::from)
            .and_then(|line| state.writer.write_all(&line));
        match result {
            Ok(()) => state.lines += 1,
            Err(error) => state.failed = Some(error.to_string()),
        }
    }

    /// Moves the file into place; returns its path and line count.
    pub fn finish(self) -> anyhow::Result<(PathBuf, u64)> {
        let state = self.state.into_inner().unwrap_or_else(|p| p.into_inner());
        let cannot = || format!("failed to save telemetry to `{}`", self.path.display());
        if let Some(error) = state.failed {
            anyhow::bail!("{}: {error}", cannot());
        }
        let temp = state
            .writer
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(cannot)?;
        temp.as_file().sync_all().with_context(cannot)?;
        temp.persist(&self.path)
            .map_err(|e| e.error)
            .with_context(cannot)?;
        Ok((self.path, state.lines))
    }
}
