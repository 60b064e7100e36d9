//! The report as people read it (grouped, coloured) and as programs read it
//! (`--format json`, schema in README.md, versioned by `schema_version`).

use anstyle::{AnsiColor, Effects, Style};
use serde::Serialize;

use super::{Check, Group, Report, Status};

/// Bumped on any change to the JSON that could break a reader (a new
/// optional field is not one).
pub const SCHEMA_VERSION: u32 = 1;

const HEADING: Style = Style::new().effects(Effects::BOLD);
const OK: Style = AnsiColor::BrightGreen.on_default().effects(Effects::BOLD);
const SKIPPED: Style = AnsiColor::BrightBlack.on_default().effects(Effects::BOLD);
const WARNING: Style = AnsiColor::BrightYellow.on_default().effects(Effects::BOLD);
const ERROR: Style = AnsiColor::BrightRed.on_default().effects(Effects::BOLD);
const HELP: Style = AnsiColor::BrightCyan.on_default().effects(Effects::BOLD);

/// The human report. `quiet`: only the warnings and errors, and nothing at
/// all when there are none.
pub fn human(report: &Report, quiet: bool) -> String {
    let mut text = String::new();
    if quiet && report.all_well() {
        return text;
    }
    for group in Group::ALL {
        let shown: Vec<&Check> = report
            .checks
            .iter()
            .filter(|c| c.group == group)
            .filter(|c| !quiet || matches!(c.status, Status::Warning | Status::Error))
            .collect();
        if shown.is_empty() {
            continue;
        }
        text.push_str(&format!("{HEADING}{}{HEADING:#}\n", group.title()));
        for check in shown {
            let style = style(check.status);
            let label = check.status.label();
            text.push_str(&format!(
                "{style}{label:>9}{style:#} {} {}\n",
                check.id, check.finding
            ));
            if let Some(fix) = &check.fix {
                text.push_str(&format!("{:>9} {HELP}help{HELP:#}: {fix}\n", ""));
            }
        }
    }
    text.push_str(&summary(report));
    text.push('\n');
    text
}

fn style(status: Status) -> Style {
    match status {
        Status::Ok => OK,
        Status::Skipped => SKIPPED,
        Status::Warning => WARNING,
        Status::Error => ERROR,
    }
}

/// `31 checks: 27 ok, 2 warnings, 1 error, 1 skipped`.
pub fn summary(report: &Report) -> String {
    let count = |status: Status, one: &str, many: &str| {
        let n = report.count(status);
        format!("{n} {}", if n == 1 { one } else { many })
    };
    format!(
        "{} checks: {}, {}, {}, {}",
        report.checks.len(),
        count(Status::Ok, "ok", "ok"),
        count(Status::Warning, "warning", "warnings"),
        count(Status::Error, "error", "errors"),
        count(Status::Skipped, "skipped", "skipped"),
    )
}

#[derive(Serialize)]
struct Json<'a> {
    schema_version: u32,
    cargo_otel_version: &'static str,
    summary: Summary,
    checks: Vec<JsonCheck<'a>>,
    /// Only with `--fix`: what was changed (or, with `--dry-run`, would be).
    #[serde(skip_serializing_if = "Option::is_none")]
    fixed: Option<&'a [String]>,
    /// Only with `--fix --dry-run`: the unified diff of what would change.
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<&'a str>,
}

#[derive(Serialize)]
struct Summary {
    ok: usize,
    warning: usize,
    error: usize,
    skipped: usize,
}

#[derive(Serialize)]
struct JsonCheck<'a> {
    id: &'a str,
    group: Group,
    title: &'a str,
    status: Status,
    finding: &'a str,
    fix: Option<&'a str>,
    fixable: bool,
}

/// The JSON report, one document, pretty-printed, ending in a newline.
pub fn json(report: &Report, fixed: Option<&[String]>, diff: Option<&str>) -> String {
    let document = Json {
        schema_version: SCHEMA_VERSION,
        cargo_otel_version: env!("CARGO_PKG_VERSION"),
        summary: Summary {
            ok: report.count(Status::Ok),
            warning: report.count(Status::Warning),
            error: report.count(Status::Error),
            skipped: report.count(Status::Skipped),
        },
        checks: report
            .checks
            .iter()
            .map(|c| JsonCheck {
                id: c.id,
                group: c.group,
                title: c.title,
                status: c.status,
                finding: &c.finding,
                fix: c.fix.as_deref(),
                fixable: c.remedy.is_some(),
            })
            .collect(),
        fixed,
        diff,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the report serializes");
    text.push('\n');
    text
}
