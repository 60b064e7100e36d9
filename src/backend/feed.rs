//! The terminal feed: one compact line per finished root span and per error,
//! so a developer sees requests go by without opening the browser.

use crate::Shell;

use super::store::{LogRecordEntry, SpanRecord};

#[derive(Debug, Clone, Copy)]
pub struct Feed {
    shell: Shell,
}

impl Feed {
    pub fn new(shell: Shell) -> Self {
        Self { shell }
    }

    pub(crate) fn spans(&self, notable: &[SpanRecord]) {
        for record in notable {
            let span = &record.span;
            let duration = span
                .end_time_unix_nano
                .saturating_sub(span.start_time_unix_nano);
            let failed = span.status.as_ref().filter(|s| s.code == 2);
            match failed {
                Some(status) => {
                    let reason = if status.message.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", status.message)
                    };
                    self.shell.failure_status(
                        "Error",
                        format!(
                            "{} {}{reason} ({})",
                            record.service,
                            span.name,
                            human(duration)
                        ),
                    );
                }
                None => self.shell.status(
                    "Trace",
                    format!("{} {} ({})", record.service, span.name, human(duration)),
                ),
            }
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
            self.shell
                .failure_status("Error", format!("{} {body}", entry.service));
        }
    }
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
    fn durations_read_naturally() {
        assert_eq!(super::human(850_000), "850 µs");
        assert_eq!(super::human(12_345_678), "12.3 ms");
        assert_eq!(super::human(2_410_000_000), "2.41 s");
    }
}
