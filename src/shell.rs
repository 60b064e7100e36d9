//! All user-facing output: cargo-style status lines on stderr, data on stdout.

use std::{
    borrow::Cow,
    fmt,
    io::{IsTerminal as _, Write as _},
};

use anstyle::{AnsiColor, Effects, Style};

const STATUS: Style = AnsiColor::BrightGreen.on_default().effects(Effects::BOLD);
const WARNING: Style = AnsiColor::BrightYellow.on_default().effects(Effects::BOLD);
const ERROR: Style = AnsiColor::BrightRed.on_default().effects(Effects::BOLD);
const NOTE: Style = AnsiColor::BrightCyan.on_default().effects(Effects::BOLD);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Where messages go and how loud they are. `--quiet` hides status lines,
/// notes and warnings, never errors.
#[derive(Debug, Clone, Copy)]
pub struct Shell {
    verbosity: Verbosity,
}

impl Shell {
    pub fn new(color: colorchoice::ColorChoice, verbosity: Verbosity) -> Self {
        // anstream reads this global, and also honours NO_COLOR and CLICOLOR_FORCE.
        color.write_global();
        Self { verbosity }
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// `      Adding opentelemetry v0.33.1 to dependencies`: the verb right-aligned
    /// in twelve columns, like cargo.
    pub fn status(&self, verb: &str, message: impl fmt::Display) {
        if self.verbosity >= Verbosity::Normal {
            self.stderr_line(&format!("{STATUS}{verb:>12}{STATUS:#} {message}"));
        }
    }

    /// A status line in error colours, for a failure that is news rather than
    /// the command's own error (a failed request in the telemetry feed).
    pub fn failure_status(&self, verb: &str, message: impl fmt::Display) {
        if self.verbosity >= Verbosity::Normal {
            self.stderr_line(&format!("{ERROR}{verb:>12}{ERROR:#} {message}"));
        }
    }

    /// A status line shown only with `--verbose`.
    pub fn verbose_status(&self, verb: &str, message: impl fmt::Display) {
        if self.verbosity >= Verbosity::Verbose {
            self.status(verb, message);
        }
    }

    pub fn warn(&self, message: impl fmt::Display) {
        if self.verbosity >= Verbosity::Normal {
            self.labelled(WARNING, "warning", &message.to_string());
        }
    }

    pub fn note(&self, message: impl fmt::Display) {
        if self.verbosity >= Verbosity::Normal {
            self.labelled(NOTE, "note", &message.to_string());
        }
    }

    /// `error: <message>`, then each cause under `Caused by:`.
    pub fn error(&self, error: &anyhow::Error) {
        self.labelled(ERROR, "error", &error.to_string());
        for cause in error.chain().skip(1) {
            self.stderr_line(&format!(
                "\nCaused by:\n  {}",
                indent_tail(&cause.to_string())
            ));
        }
    }

    /// `url` as a clickable link (OSC 8) where stderr is a terminal that gets
    /// colours, else as plain text.
    pub fn link(&self, url: &str) -> String {
        let styled = colorchoice::ColorChoice::global() != colorchoice::ColorChoice::Never;
        if styled && std::io::stderr().is_terminal() {
            format!("\x1b]8;;{url}\x1b\\{url}\x1b]8;;\x1b\\")
        } else {
            url.to_owned()
        }
    }

    /// Data the user asked for (a diff, an environment to export): stdout,
    /// whatever the verbosity.
    pub fn data(&self, text: &str) {
        let mut out = anstream::stdout().lock();
        // A closed pipe (`| head`) is not worth an error.
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// `label: first line`, later lines as they are, with `help:` lines styled.
    fn labelled(&self, style: Style, label: &str, message: &str) {
        let mut lines = message.lines();
        let first = lines.next().unwrap_or_default();
        let mut text = format!("{style}{label}{style:#}: {first}");
        for line in lines {
            match line.strip_prefix("help: ") {
                Some(help) => text.push_str(&format!("\n{NOTE}help{NOTE:#}: {help}")),
                None => text.push_str(&format!("\n{line}")),
            }
        }
        self.stderr_line(&text);
    }

    /// The whole line in one write: `dash` runs `cargo build` beside its own
    /// status lines, and a line written in pieces (anstream writes the text
    /// between colour codes separately) gets cargo's output in its middle.
    fn stderr_line(&self, line: &str) {
        let styled = matches!(
            anstream::stderr().current_choice(),
            anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi
        );
        let line = format!("{line}\n");
        let text = match styled {
            true => line,
            false => anstream::adapter::strip_str(&line).to_string(),
        };
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// `export KEY=VALUE` lines for `eval` in a POSIX shell. A value with
/// anything a shell acts on (`$`, quotes, spaces, newlines) goes in single
/// quotes, where nothing is special but the quote itself.
pub fn export_lines(vars: &[(&str, String)]) -> String {
    vars.iter()
        .map(|(key, value)| format!("export {key}={}\n", shell_quote(value)))
        .collect()
}

fn shell_quote(value: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(format!("'{}'", value.replace('\'', r"'\''")))
}

fn indent_tail(text: &str) -> String {
    text.replace('\n', "\n  ")
}

#[cfg(test)]
mod tests {
    use super::export_lines;

    /// What `sh` makes of the lines: each value exactly as given, and no
    /// command substitution, expansion or second line run.
    #[test]
    fn export_lines_evaluate_to_the_values_as_given() {
        let values = [
            "http://127.0.0.1:4317",
            "x-otlp-api-key=0123abcd",
            "$(touch pwned)",
            "`touch pwned`",
            "it's",
            "\"double\" and 'single'",
            "line\nexport PWNED=1",
            "$HOME ${HOME} ~ * ? [a] ; | & > <",
            "",
            "\\'\\\\",
        ];
        let dir = tempfile::tempdir().unwrap();
        for value in values {
            let lines = export_lines(&[("VALUE", value.to_owned())]);
            let script = format!("{lines}printf '%s|%s' \"$VALUE\" \"${{PWNED:-}}\"");
            let output = std::process::Command::new("sh")
                .args(["-c", &script])
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(output.status.success(), "{lines}: {output:?}");
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                format!("{value}|"),
                "{lines}"
            );
            assert!(!dir.path().join("pwned").exists(), "{lines}");
        }
        // Plain values stay as they were printed before.
        assert_eq!(
            export_lines(&[("A", "http://127.0.0.1:4317".to_owned())]),
            "export A=http://127.0.0.1:4317\n"
        );
    }
}
