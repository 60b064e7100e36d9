//! One row per figure: its runs, the baseline measured beside it in the same
//! runs, and the target it is held to; printed as a table and saved as JSON.

use std::{fmt::Write as _, path::PathBuf};

use crate::Settings;

/// What a figure is held to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// The median of the per-run ratios to the baseline is at most this.
    RatioAtMost(f64),
    /// The median itself is at most this (in the row's unit).
    AtMost(f64),
    /// The median itself is at least this (in the row's unit).
    AtLeast(f64),
}

#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) unit: &'static str,
    pub(crate) runs: Vec<f64>,
    /// What the figure is compared with, and its runs, paired by index.
    pub(crate) baseline: Option<(String, Vec<f64>)>,
    pub(crate) target: Option<Target>,
}

impl Row {
    pub(crate) fn new(name: impl Into<String>, unit: &'static str, runs: Vec<f64>) -> Self {
        Self {
            name: name.into(),
            unit,
            runs,
            baseline: None,
            target: None,
        }
    }

    pub(crate) fn against(mut self, name: impl Into<String>, runs: Vec<f64>) -> Self {
        self.baseline = Some((name.into(), runs));
        self
    }

    pub(crate) fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    pub(crate) fn median(&self) -> f64 {
        median(&self.runs)
    }

    /// The median of the run-by-run ratios (figure / baseline): a slow spell
    /// of the machine hits both sides of a pair alike.
    pub(crate) fn ratio(&self) -> Option<f64> {
        let (_, baseline) = self.baseline.as_ref()?;
        let ratios: Vec<f64> = self
            .runs
            .iter()
            .zip(baseline)
            .map(|(value, base)| value / base)
            .collect();
        (!ratios.is_empty()).then(|| median(&ratios))
    }

    /// `None` without a target (or without the baseline a ratio needs).
    pub(crate) fn met(&self) -> Option<bool> {
        match self.target? {
            Target::RatioAtMost(limit) => self.ratio().map(|r| r <= limit),
            Target::AtMost(limit) => Some(self.median() <= limit),
            Target::AtLeast(limit) => Some(self.median() >= limit),
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            None => String::new(),
            Some(Target::RatioAtMost(limit)) => format!("ratio <= {limit}"),
            Some(Target::AtMost(limit)) => format!("<= {}", self.show(limit)),
            Some(Target::AtLeast(limit)) => format!(">= {}", self.show(limit)),
        }
    }

    fn show(&self, value: f64) -> String {
        if value.abs() >= 1000.0 {
            format!("{value:.0}")
        } else if value.abs() >= 10.0 {
            format!("{value:.1}")
        } else {
            format!("{value:.3}")
        }
    }
}

pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[middle],
        _ => (sorted[middle - 1] + sorted[middle]) / 2.0,
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

const HEADER: [&str; 10] = [
    "measurement",
    "unit",
    "median",
    "min",
    "max",
    "baseline",
    "baseline median",
    "ratio",
    "target",
    "met",
];

pub(crate) fn print_table(rows: &[Row]) {
    let cells: Vec<[String; 10]> = rows.iter().map(cells).collect();
    let mut widths = HEADER.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut text = String::from("|");
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            // Names left-aligned, numbers right-aligned.
            if matches!(i, 0 | 1 | 5 | 8) {
                let _ = write!(text, " {cell:<width$} |");
            } else {
                let _ = write!(text, " {cell:>width$} |");
            }
        }
        text
    };
    println!();
    println!("{}", line(&HEADER.map(str::to_owned)));
    let rule: String = widths
        .iter()
        .map(|w| format!("|{}", "-".repeat(w + 2)))
        .collect();
    println!("{rule}|");
    for row in &cells {
        println!("{}", line(row));
    }
    println!();
}

fn cells(row: &Row) -> [String; 10] {
    let (baseline, baseline_median) = match &row.baseline {
        Some((name, runs)) => (name.clone(), row.show(median(runs))),
        None => (String::new(), String::new()),
    };
    [
        row.name.clone(),
        row.unit.to_owned(),
        row.show(row.median()),
        row.show(min(&row.runs)),
        row.show(max(&row.runs)),
        baseline,
        baseline_median,
        row.ratio().map(|r| format!("{r:.2}")).unwrap_or_default(),
        row.target_text(),
        match row.met() {
            Some(true) => "yes".to_owned(),
            Some(false) => "NO".to_owned(),
            None => String::new(),
        },
    ]
}

/// `target/bench/<area>.json` (`$CARGO_TARGET_DIR/bench/…` if that is set).
pub(crate) fn write_json(area: &str, settings: &Settings, cpus: usize, rows: &[Row]) -> PathBuf {
    let dir = crate::work::bench_dir();
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let figures: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            serde_json::json!({
                "name": row.name,
                "unit": row.unit,
                "median": row.median(),
                "min": min(&row.runs),
                "max": max(&row.runs),
                "runs": row.runs,
                "baseline": row.baseline.as_ref().map(|(name, runs)| serde_json::json!({
                    "name": name,
                    "median": median(runs),
                    "runs": runs,
                })),
                "ratio": row.ratio(),
                "target": row.target.map(|_| row.target_text()),
                "met": row.met(),
            })
        })
        .collect();
    let unix_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let report = serde_json::json!({
        "area": area,
        "unix_time": unix_time,
        "cpus": cpus,
        "runs": settings.runs,
        "quick": settings.quick,
        "results": figures,
    });
    let path = dir.join(format!("{area}.json"));
    let mut text = serde_json::to_string_pretty(&report).expect("JSON");
    text.push('\n');
    std::fs::write(&path, text)
        .unwrap_or_else(|e| panic!("failed to write {}: {e}", path.display()));
    path
}
