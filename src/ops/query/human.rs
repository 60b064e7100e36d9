//! The query commands' text: one line per record, telemetry's own text
//! escaped (it never drives the terminal), cut to the terminal's width when
//! stdout is one.

use std::{collections::HashMap, fmt::Write as _, io::IsTerminal as _};

use anstyle::{AnsiColor, Effects, Style};

use crate::backend::{
    feed::{human as duration, printable},
    model::{LogEntry, MetricSeries, SpanDetail, StatusCode, TraceDetail, TraceSummary},
};

const OK: Style = AnsiColor::Green.on_default();
const ERROR: Style = AnsiColor::BrightRed.on_default().effects(Effects::BOLD);
const WARN: Style = AnsiColor::Yellow.on_default();
const DIM: Style = Style::new().effects(Effects::DIMMED);
const SERVICE: Style = AnsiColor::Cyan.on_default();
const NAME: Style = Style::new().effects(Effects::BOLD);

/// The terminal's columns when stdout is a terminal (`COLUMNS` first, as
/// shells set it); `None` when the output goes elsewhere, which gets whole lines.
pub(super) fn width() -> Option<usize> {
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    if columns.is_some() {
        return columns;
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` to the pointer, which is valid.
    let read = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (read == 0 && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// A line of styled pieces, cut at `width` visible characters.
struct Line {
    text: String,
    visible: usize,
    width: Option<usize>,
}

impl Line {
    fn new(width: Option<usize>) -> Self {
        Self {
            text: String::new(),
            visible: 0,
            width,
        }
    }

    /// Appends `piece` (already printable) in `style`, as much as fits.
    fn push(&mut self, style: Style, piece: &str) -> &mut Self {
        let room = self
            .width
            .map_or(usize::MAX, |w| w.saturating_sub(self.visible));
        let count = piece.chars().count();
        let shown: String = if count > room {
            let mut cut: String = piece.chars().take(room.saturating_sub(1)).collect();
            if room > 0 {
                cut.push('…');
            }
            cut
        } else {
            piece.to_owned()
        };
        self.visible += shown.chars().count();
        if !shown.is_empty() {
            let _ = write!(self.text, "{style}{shown}{style:#}");
        }
        self
    }

    fn plain(&mut self, piece: &str) -> &mut Self {
        self.push(Style::new(), piece)
    }

    fn end(&mut self) -> String {
        let mut text = std::mem::take(&mut self.text);
        text.push('\n');
        text
    }
}

/// `12:01:02.345` in local time, from Unix nanoseconds as the API writes them.
fn clock(unix_nano: &str) -> String {
    let nanos: u64 = unix_nano.parse().unwrap_or_default();
    let Ok(seconds) = libc::time_t::try_from(nanos / 1_000_000_000) else {
        return "--:--:--.---".to_owned();
    };
    // SAFETY: `tm` is plain data, and localtime_r writes only into it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is thread-safe.
    if unsafe { libc::localtime_r(&seconds, &mut tm) }.is_null() {
        return "--:--:--.---".to_owned();
    }
    let millis = nanos / 1_000_000 % 1_000;
    format!(
        "{:02}:{:02}:{:02}.{millis:03}",
        tm.tm_hour, tm.tm_min, tm.tm_sec
    )
}

fn span_count(count: usize) -> String {
    match count {
        1 => "1 span".to_owned(),
        n => format!("{n} spans"),
    }
}

fn status_mark(status: StatusCode) -> (Style, &'static str) {
    match status {
        StatusCode::Error => (ERROR, "✗"),
        StatusCode::Ok | StatusCode::Unset => (OK, "✓"),
    }
}

/// `12:01:02.345 ✗ <trace id>   12.3 ms  3 spans  service  root  exception`.
pub(super) fn trace_line(trace: &TraceSummary, width: Option<usize>) -> String {
    let (style, mark) = status_mark(trace.status);
    let spans = span_count(trace.span_count);
    let mut line = Line::new(width);
    line.push(DIM, &clock(&trace.start_unix_nano))
        .plain(" ")
        .push(style, mark)
        .plain(" ")
        .plain(&trace.trace_id)
        .plain(&format!(
            " {:>9}  {spans:>8}  ",
            duration(trace.duration_ns)
        ))
        .push(SERVICE, &printable(&trace.service))
        .plain("  ")
        .push(NAME, &printable(&trace.root_name));
    if !trace.exception.is_empty() {
        line.plain("  ")
            .push(ERROR, &printable(first_line(&trace.exception)));
    }
    line.end()
}

/// The trace's header line, then its spans as a tree: each with its start
/// (from the trace's), its duration, its name, service and status, and
/// below it the exceptions it recorded.
pub(super) fn trace_tree(trace: &TraceDetail, width: Option<usize>) -> String {
    let start = |span: &SpanDetail| span.start_unix_nano.parse::<u64>().unwrap_or_default();
    let first = trace.spans.iter().map(start).min().unwrap_or_default();
    let end = trace
        .spans
        .iter()
        .map(|s| start(s) + s.duration_ns)
        .max()
        .unwrap_or_default();
    let failed = trace.spans.iter().any(|s| s.status == StatusCode::Error);
    let (style, mark) = status_mark(if failed {
        StatusCode::Error
    } else {
        StatusCode::Ok
    });
    let mut text = Line::new(width)
        .push(style, mark)
        .plain(" trace ")
        .push(NAME, &trace.trace_id)
        .plain(&format!(
            "  {}  {}  started {}",
            duration(end.saturating_sub(first)),
            span_count(trace.spans.len()),
            clock(&first.to_string())
        ))
        .end();
    let ids: Vec<&str> = trace.spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&SpanDetail>> = HashMap::new();
    let mut roots = Vec::new();
    for span in &trace.spans {
        // A span whose parent has not arrived is shown as a root.
        if ids.contains(&span.parent_span_id.as_str()) {
            children.entry(&span.parent_span_id).or_default().push(span);
        } else {
            roots.push(span);
        }
    }
    let mut stack: Vec<(&SpanDetail, String, bool)> = Vec::new();
    for (i, root) in roots.iter().enumerate().rev() {
        stack.push((root, String::new(), i + 1 == roots.len()));
    }
    while let Some((span, indent, last)) = stack.pop() {
        let is_root = indent.is_empty() && !ids.contains(&span.parent_span_id.as_str());
        let branch = match (is_root, last) {
            (true, _) => "",
            (false, true) => "└─ ",
            (false, false) => "├─ ",
        };
        let offset = start(span).saturating_sub(first);
        text.push_str(&span_lines(span, offset, &indent, branch, width));
        let below = match (is_root, last) {
            (true, _) => indent.clone(),
            (false, true) => format!("{indent}   "),
            (false, false) => format!("{indent}│  "),
        };
        let kids = children
            .get(span.span_id.as_str())
            .map_or(&[][..], Vec::as_slice);
        for (i, child) in kids.iter().enumerate().rev() {
            stack.push((child, below.clone(), i + 1 == kids.len()));
        }
    }
    text
}

/// `  +1.2 ms   3.4 ms  ├─ name  service  ✗ message`, then one line per
/// exception event.
fn span_lines(
    span: &SpanDetail,
    offset: u64,
    indent: &str,
    branch: &str,
    width: Option<usize>,
) -> String {
    let timing = format!(
        "+{:<9} {:>9}  ",
        duration(offset),
        duration(span.duration_ns)
    );
    let mut line = Line::new(width);
    line.push(DIM, &timing)
        .plain(&format!("{indent}{branch}"))
        .push(NAME, &printable(&span.name))
        .plain("  ")
        .push(SERVICE, &printable(&span.service));
    if span.kind != "internal" && span.kind != "unspecified" {
        line.push(DIM, &format!(" {}", span.kind));
    }
    if span.status == StatusCode::Error {
        line.plain("  ").push(ERROR, "✗");
        if !span.status_message.is_empty() {
            line.plain(" ")
                .push(ERROR, &printable(first_line(&span.status_message)));
        }
    }
    let mut text = line.end();
    for event in span.events.iter().filter(|e| e.name == "exception") {
        let field = |key: &str| {
            let found = event.attributes.iter().find(|a| a.key == key);
            found.map_or("", |a| a.value.as_str())
        };
        let (kind, message) = (field("exception.type"), field("exception.message"));
        let pad = " ".repeat(timing.chars().count());
        let mut line = Line::new(width);
        line.plain(&format!("{pad}{indent}   "))
            .push(ERROR, "exception")
            .plain(": ");
        if !kind.is_empty() {
            line.push(ERROR, &printable(kind)).plain(": ");
        }
        text.push_str(&line.plain(&printable(first_line(message))).end());
    }
    text
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn level_style(level: &str) -> Style {
    match level {
        "ERROR" | "FATAL" => ERROR,
        "WARN" => WARN,
        "INFO" => OK,
        _ => DIM,
    }
}

/// `12:01:02.345 WARN  service  body  trace=<id>`.
pub(super) fn log_line(log: &LogEntry, width: Option<usize>) -> String {
    let trace = match log.trace_id.as_str() {
        "" => String::new(),
        id => format!("  trace={id}"),
    };
    // The body gets what the trace id leaves, so the id stays whole.
    let body_width = width.map(|w| w.saturating_sub(trace.chars().count()));
    let mut line = Line::new(body_width);
    line.push(DIM, &clock(&log.time_unix_nano))
        .plain(" ")
        .push(
            level_style(&log.level),
            &format!("{:<5}", printable(&log.level)),
        )
        .plain(" ")
        .push(SERVICE, &printable(&log.service))
        .plain("  ")
        .plain(&printable(&log.body));
    line.width = width;
    line.push(DIM, &trace).end()
}

/// `service  name  value unit  kind  {attributes}`; histograms and
/// summaries as `count=N avg=X`.
pub(super) fn metric_line(series: &MetricSeries, width: Option<usize>) -> String {
    let count = series.points.last().and_then(|p| p.count);
    let unit = match series.unit.as_str() {
        "" | "1" => String::new(),
        unit => format!(" {}", printable(unit)),
    };
    let value = match (series.histogram, count) {
        (_, Some(0)) => "count=0".to_owned(),
        (Some(h), _) => format!(
            "count={} avg={}{unit} p50={}{unit} p90={}{unit} p99={}{unit}",
            h.count,
            figure(h.avg),
            figure(h.p50),
            figure(h.p90),
            figure(h.p99)
        ),
        (None, Some(count)) => format!(
            "count={count} avg={}{unit}",
            figure(series.latest / count as f64)
        ),
        (None, None) => format!("{}{unit}", figure(series.latest)),
    };
    let mut line = Line::new(width);
    line.push(SERVICE, &printable(&series.service))
        .plain("  ")
        .push(NAME, &printable(&series.name))
        .plain("  ")
        .plain(&value)
        .plain("  ")
        .push(DIM, &series.kind);
    if !series.attributes.is_empty() {
        let attributes: Vec<String> = series
            .attributes
            .iter()
            .map(|a| format!("{}={}", printable(&a.key), printable(&a.value)))
            .collect();
        line.plain("  ")
            .push(DIM, &format!("{{{}}}", attributes.join(", ")));
    }
    line.end()
}

/// A measured value to three decimals at most: `12.5`, not `12.500000001`.
fn figure(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_to_the_width() {
        let mut line = Line::new(Some(10));
        line.plain("12345").plain("67890abc");
        assert_eq!(line.end(), "123456789…\n");
        let mut whole = Line::new(None);
        assert_eq!(whole.plain("x".repeat(300).as_str()).end().len(), 301);
    }

    #[test]
    fn telemetry_text_is_escaped() {
        let log = LogEntry {
            id: 1,
            time_unix_nano: "0".to_owned(),
            level: "INFO".to_owned(),
            severity_number: 9,
            body: "boom\u{1b}[2J\nforged".to_owned(),
            service: "svc".to_owned(),
            trace_id: String::new(),
            span_id: String::new(),
            attributes: Vec::new(),
            resource: Vec::new(),
            scope: String::new(),
            run: None,
        };
        let line = anstream::adapter::strip_str(&log_line(&log, None)).to_string();
        assert!(line.ends_with("svc  boom\\u{1b}[2J\\nforged\n"), "{line:?}");
    }
}
