//! `cargo bench --bench perf`: how fast cargo-otel is, and how cheap the
//! telemetry it generates is, each figure beside a baseline measured in the
//! same run (the machine is shared and noisy, so only same-run ratios count).
//!
//! ```text
//! cargo bench --bench perf -- [--runs N] [--quick] [AREA...]
//! ```
//!
//! Areas (all by default, in this order):
//!
//! * `pipeline`: what the module `init` generates costs a program per span,
//!   event and counter increment, against plain `tracing` and against
//!   opentelemetry-otlp's own example wiring, with the collector up, down
//!   and hung ([`pipeline`]);
//! * `dash`: `cargo otel dash` from invocation to the first span accepted,
//!   against the same steps run one after another ([`dash`]);
//! * `ingest`: spans/s into the local backend and peak RSS ([`ingest`]);
//! * `init`: `cargo otel init` against `cargo add --offline` ([`init`]);
//! * `build`: what `init` adds to a crate's build ([`build`]);
//! * `dashboard`: the built-in dashboard's API and pages with its store full
//!   at the default caps ([`dashboard`]).
//!
//! Each area prints a table (median, min, max over the runs, the baseline's
//! median, the median of the per-run ratios, the target) and writes
//! `target/bench/<area>.json`. See BENCHMARKS.md for the method and figures.

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod build;
mod dash;
mod dashboard;
mod ingest;
mod init;
mod pipeline;
mod report;
#[path = "../../tests/testsuite/support/mod.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "the benches use a few of the integration tests' helpers"
)]
mod support;
mod work;

use report::Row;

/// What every area is told.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Runs per measurement; medians are over these.
    pub(crate) runs: usize,
    /// Smaller workloads and no clean-build variants: a smoke test of the
    /// harness, not figures to quote.
    pub(crate) quick: bool,
}

type Area = (&'static str, fn(&Settings) -> Vec<Row>);

const AREAS: [Area; 6] = [
    ("pipeline", pipeline::run),
    ("dash", dash::run),
    ("ingest", ingest::run),
    ("init", init::run),
    ("build", build::run),
    ("dashboard", dashboard::run),
];

fn main() {
    let (settings, chosen) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            println!(
                "error: {message}\nusage: cargo bench --bench perf -- [--runs N] [--quick] [{}]...",
                names().join("|")
            );
            std::process::exit(2);
        }
    };
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "perf: {} run(s) per figure{}, {cpus} CPUs, areas: {}",
        settings.runs,
        if settings.quick { ", quick mode" } else { "" },
        chosen.join(", ")
    );
    for (name, area) in AREAS {
        if !chosen.contains(&name) {
            continue;
        }
        println!("\n== {name} ==");
        let started = std::time::Instant::now();
        let rows = area(&settings);
        report::print_table(&rows);
        let path = report::write_json(name, &settings, cpus, &rows);
        println!(
            "{name}: {:.0} s, wrote {}",
            started.elapsed().as_secs_f64(),
            path.display()
        );
    }
}

fn names() -> Vec<&'static str> {
    AREAS.iter().map(|(name, _)| *name).collect()
}

/// `--runs N`, `--quick` and area names; `--bench` (which `cargo bench`
/// passes) is ignored.
fn parse_args(args: impl Iterator<Item = String>) -> Result<(Settings, Vec<&'static str>), String> {
    let mut settings = Settings {
        runs: 5,
        quick: false,
    };
    let mut runs = None;
    let mut chosen = Vec::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {}
            "--quick" => settings.quick = true,
            "--runs" => {
                let value = args.next().ok_or("`--runs` needs a number")?;
                let n: usize = value
                    .parse()
                    .map_err(|_| format!("`--runs {value}`: not a number"))?;
                runs = Some(n.max(1));
            }
            other => match names().into_iter().find(|name| *name == other) {
                Some(name) => chosen.push(name),
                None => return Err(format!("unknown area or flag `{other}`")),
            },
        }
    }
    settings.runs = runs.unwrap_or(if settings.quick { 3 } else { 5 });
    if chosen.is_empty() {
        chosen = names();
    }
    Ok((settings, chosen))
}
