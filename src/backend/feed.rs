//! The terminal feed: one compact line per finished root span and per error,
//! so a developer sees requests go by without opening the browser.
//!
//! Lines go through a bounded queue to a thread of their own: a slow or
//! blocked terminal (a full stderr pipe, `| less`) never holds up an export
//! or Ctrl-C. What does not fit in the queue is counted and reported.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
        mpsc::{Receiver, SyncSender, sync_channel},
    },
    time::Duration,
};

use crate::Shell;

use super::store::{LogRecordEntry, SpanRecord};

/// Lines waiting for the terminal; beyond this they are counted, not kept.
const BACKLOG: usize = 1024;
/// Characters of one piece of telemetry text (a name, a message) in a line.
const FEED_TEXT_CHARS: usize = 200;
/// How long [`Feed::flush`] waits for the terminal.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Feed {
    lines: SyncSender<Line>,
    skipped: Arc<AtomicU64>,
    /// The dashboard's address, once its port is bound, for links to traces.
    dashboard: Arc<OnceLock<String>>,
}

#[derive(Debug)]
enum Line {
    Trace(String),
    Error(String),
    Panic(String),
    /// A status line of the command's own (`Stopped ...`).
    Status(&'static str, String),
    /// Answered once every line before it is printed.
    Flush(SyncSender<()>),
}

impl Feed {
    pub fn new(shell: Shell) -> Self {
        let (lines, queue) = sync_channel(BACKLOG);
        let skipped = Arc::new(AtomicU64::new(0));
        let counter = skipped.clone();
        // Without the thread every line counts as skipped: a feed is not
        // worth failing the backend for.
        let _ = std::thread::Builder::new()
            .name("cargo-otel-feed".to_owned())
            .spawn(move || write_lines(shell, queue, &counter));
        Self {
            lines,
            skipped,
            dashboard: Arc::default(),
        }
    }

    /// Where the dashboard is (`http://localhost:PORT/`): panics link to
    /// their trace there.
    pub fn link_to(&self, dashboard: String) {
        let _ = self.dashboard.set(dashboard);
    }

    /// Waits (briefly) until the lines queued so far are printed, so that a
    /// summary printed next comes after them.
    pub fn flush(&self) {
        let (done, wait) = sync_channel(1);
        if self.lines.try_send(Line::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(FLUSH_TIMEOUT);
        }
    }

    /// A status line that must not block either: it waits its turn behind
    /// the feed's lines, and is dropped like them when the terminal is stuck.
    pub fn status(&self, verb: &'static str, message: String) {
        self.send(Line::Status(verb, message));
    }

    fn send(&self, line: Line) {
        if self.lines.try_send(line).is_err() {
            self.skipped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn spans(&self, notable: &[SpanRecord]) {
        for record in notable {
            let span = &record.span;
            let duration = human(
                span.end_time_unix_nano
                    .saturating_sub(span.start_time_unix_nano),
            );
            let (service, name) = (printable(&record.service), printable(&span.name));
            let failed = span.status.as_ref().filter(|s| s.code == 2);
            let line = match failed {
                Some(status) if status.message.is_empty() => {
                    Line::Error(format!("{service} {name} ({duration})"))
                }
                Some(status) => Line::Error(format!(
                    "{service} {name}: {} ({duration})",
                    printable(&status.message)
                )),
                None => Line::Trace(format!("{service} {name} ({duration})")),
            };
            self.send(line);
        }
    }

    pub(crate) fn logs(&self, notable: &[LogRecordEntry]) {
        for entry in notable {
            let body = entry
                .record
                .body
                .as_ref()
                .map(super::store::render_value)
                .unwrap_or_default();
            let service = printable(&entry.service);
            let line = match panic_line(entry, self.dashboard.get()) {
                Some(panic) => Line::Panic(format!("{service} {panic}")),
                None => Line::Error(format!("{service} {}", printable(&body))),
            };
            self.send(line);
        }
    }
}

/// `thread 'main' panicked at src/main.rs:8:5: boom → <link to the span>`
/// for a record of a panic (`exception.type` `panic`, as the module
/// cargo-otel generates records them).
fn panic_line(entry: &LogRecordEntry, dashboard: Option<&String>) -> Option<String> {
    let record = &entry.record;
    let attribute = |key: &str| {
        let kv = record.attributes.iter().find(|kv| kv.key == key)?;
        kv.value.as_ref().map(super::store::render_value)
    };
    if attribute("exception.type").as_deref() != Some("panic") {
        return None;
    }
    let thread = attribute("thread.name").unwrap_or_else(|| "<unnamed>".to_owned());
    let mut line = format!("thread '{}' panicked", printable(&thread));
    if let Some(file) = attribute("code.file.path") {
        let place = [
            attribute("code.line.number"),
            attribute("code.column.number"),
        ];
        let place: Vec<String> = place.into_iter().flatten().collect();
        let at = [vec![file], place].concat().join(":");
        line.push_str(&format!(" at {}", printable(&at)));
    }
    let message = attribute("exception.message").unwrap_or_default();
    line.push_str(&format!(": {}", printable(&message)));
    if let (Some(dashboard), false) = (dashboard, record.trace_id.is_empty()) {
        let trace = super::store::hex(&record.trace_id);
        line.push_str(&format!(" → {dashboard}#/traces/{trace}"));
        if !record.span_id.is_empty() {
            line.push_str(&format!("?span={}", super::store::hex(&record.span_id)));
        }
    }
    Some(line)
}

/// The feed's thread: prints lines as the terminal takes them, and says so
/// when some had to be skipped meanwhile.
fn write_lines(shell: Shell, queue: Receiver<Line>, skipped: &AtomicU64) {
    for line in queue {
        match line {
            Line::Trace(message) => shell.status("Trace", message),
            Line::Error(message) => shell.failure_status("Error", message),
            Line::Panic(message) => shell.failure_status("Panic", message),
            Line::Status(verb, message) => shell.status(verb, message),
            Line::Flush(done) => {
                let _ = done.try_send(());
            }
        }
        let missed = skipped.swap(0, Ordering::Relaxed);
        if missed > 0 {
            shell.note(format!(
                "{missed} more lines skipped: the terminal did not keep up"
            ));
        }
    }
}

/// Telemetry text as it may reach a terminal: control characters (which
/// would move the cursor, retitle the window, clear the screen or start a
/// forged line) and bidirectional overrides (which reorder what is shown)
/// written as escapes, and cut at [`FEED_TEXT_CHARS`] so a line stays a line.
pub(crate) fn printable(text: &str) -> String {
    let mut shown = String::with_capacity(text.len().min(FEED_TEXT_CHARS));
    for (count, c) in text.chars().enumerate() {
        if count == FEED_TEXT_CHARS {
            shown.push('…');
            break;
        }
        match c {
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) => {
                shown.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => shown.push(c),
        }
    }
    shown
}

/// The Unicode characters that change the order text is displayed in.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `850 µs`, `12.3 ms`, `2.41 s`.
pub fn human(nanos: u64) -> String {
    match nanos {
        0..1_000_000 => format!("{} µs", nanos / 1_000),
        1_000_000..1_000_000_000 => format!("{:.1} ms", nanos as f64 / 1e6),
        _ => format!("{:.2} s", nanos as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn telemetry_text_cannot_drive_the_terminal() {
        let hostile = "\u{1b}]0;PWNED\u{7}\u{1b}[2J\nFAKE\r\u{9b}31m\u{202e}txt.exe";
        assert_eq!(
            super::printable(hostile),
            "\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J\\nFAKE\\r\\u{9b}31m\\u{202e}txt.exe"
        );
        assert_eq!(
            super::printable("GET /items/{id} → 200 ✓"),
            "GET /items/{id} → 200 ✓"
        );
        let long = super::printable(&"é".repeat(1000));
        assert_eq!(long.chars().count(), super::FEED_TEXT_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn a_panic_is_one_escaped_line_with_a_link_to_its_span() {
        use std::sync::Arc;

        use opentelemetry_proto::tonic::{
            common::v1::{AnyValue, KeyValue, any_value::Value},
            logs::v1::LogRecord,
        };

        let kv = |key: &str, value: Value| KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        };
        let text = |s: &str| Value::StringValue(s.to_owned());
        let mut record = LogRecord {
            trace_id: vec![0xab; 16],
            span_id: vec![0xcd; 8],
            attributes: vec![
                kv("exception.type", text("panic")),
                kv("exception.message", text("boom\n\u{1b}[2Jforged")),
                kv("thread.name", text("worker")),
                kv("code.file.path", text("src/main.rs")),
                kv("code.line.number", Value::IntValue(8)),
                kv("code.column.number", Value::IntValue(5)),
            ],
            ..Default::default()
        };
        let entry = |record: &LogRecord| super::LogRecordEntry {
            id: 0,
            service: Arc::from("demo"),
            resource: Arc::default(),
            scope: Arc::default(),
            record: record.clone(),
        };
        let dashboard = "http://localhost:18888/".to_owned();
        assert_eq!(
            super::panic_line(&entry(&record), Some(&dashboard)).as_deref(),
            Some(
                "thread 'worker' panicked at src/main.rs:8:5: boom\\n\\u{1b}[2Jforged \
                 → http://localhost:18888/#/traces/abababababababababababababababab?span=cdcdcdcdcdcdcdcd"
            )
        );
        record.attributes[0] = kv("exception.type", text("std::io::Error"));
        assert_eq!(super::panic_line(&entry(&record), Some(&dashboard)), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(super::human(850_000), "850 µs");
        assert_eq!(super::human(12_345_678), "12.3 ms");
        assert_eq!(super::human(2_410_000_000), "2.41 s");
    }
}
