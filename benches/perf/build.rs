//! Area 5: the build cost `init` adds to a hello-world crate: a clean debug
//! build (empty target directory, crates already downloaded, `--offline`)
//! and the rebuild after a one-line change to `main.rs`, against
//!
//! * the floor: a crate that depends only on the gRPC transport stack
//!   (tokio, tonic, prost; `benches/fixtures/floor`), and
//! * opentelemetry-otlp with its default features, wired as its own example
//!   (`benches/fixtures/otlp-default`).
//!
//! The three clean builds of a run follow one another, so a busy spell of
//! the machine hits neighbours alike; ratios are taken run by run.

use std::path::{Path, PathBuf};

use crate::{
    Settings,
    report::{Row, Target},
    support, work,
};

struct Variant {
    name: &'static str,
    dir: PathBuf,
    target_dir: PathBuf,
    clean: Vec<f64>,
    incremental: Vec<f64>,
}

pub(crate) fn run(settings: &Settings) -> Vec<Row> {
    let instrumented = work::work_dir("build/hello-init");
    work::fresh_copy("hello", &instrumented);
    work::checked(support::cargo_otel(&instrumented).arg("init"));
    let mut variants: Vec<Variant> = [
        ("floor", work::fixtures().join("floor")),
        ("hello + init", instrumented),
        (
            "otlp default features",
            work::fixtures().join("otlp-default"),
        ),
    ]
    .into_iter()
    .map(|(name, dir)| Variant {
        name,
        target_dir: work::work_dir(&format!("build-target/{}", name.replace([' ', '+'], "-"))),
        dir,
        clean: Vec::new(),
        incremental: Vec::new(),
    })
    .collect();
    for variant in &variants {
        // Downloads (and the lock file) are not part of the figure.
        work::checked(work::cargo(&variant.dir, &variant.target_dir).args(["fetch", "--quiet"]));
    }
    let runs = if settings.quick { 1 } else { settings.runs };
    for run in 0..runs {
        for variant in &mut variants {
            if variant.target_dir.exists() {
                std::fs::remove_dir_all(&variant.target_dir).expect("empty the target directory");
            }
            let build = || {
                let mut command = work::cargo(&variant.dir, &variant.target_dir);
                command.args(["build", "--offline", "--quiet"]);
                command
            };
            let clean = work::seconds(&mut build());
            edit_main(&variant.dir, run);
            let incremental = work::seconds(&mut build());
            println!(
                "build: run {}, {}: clean {clean:.1} s ({} units), one-line change {incremental:.2} s",
                run + 1,
                variant.name,
                units(&variant.target_dir)
            );
            variant.clean.push(clean);
            variant.incremental.push(incremental);
        }
    }
    let [floor, init, default] = <[Variant; 3]>::try_from(variants).ok().expect("three");
    vec![
        Row::new("hello + init, clean debug build", "s", init.clean.clone())
            .against("floor: tokio, tonic, prost", floor.clean.clone())
            .target(Target::RatioAtMost(1.15)),
        Row::new("hello + init, clean debug build", "s", init.clean.clone())
            .against("opentelemetry-otlp default features", default.clean.clone())
            .target(Target::RatioAtMost(1.0)),
        Row::new(
            "hello + init, rebuild after a one-line change",
            "s",
            init.incremental,
        )
        .against("floor, same change", floor.incremental.clone())
        .target(Target::AtMost(2.0)),
        Row::new(
            "opentelemetry-otlp default features, rebuild after a one-line change",
            "s",
            default.incremental,
        )
        .against("floor, same change", floor.incremental),
    ]
}

/// Changes the greeting: a one-line edit to `main.rs`, different every run.
fn edit_main(dir: &Path, run: usize) {
    let main = dir.join("src/main.rs");
    let text = std::fs::read_to_string(&main).expect("read main.rs");
    let start = text.find("Hello, world!").expect("the greeting");
    let end = start + text[start..].find('"').expect("the closing quote");
    let edited = format!(
        "{}Hello, world! (edit {run}){}",
        &text[..start],
        &text[end..]
    );
    std::fs::write(&main, edited).expect("write main.rs");
}

/// Compilation units built (fingerprint directories).
fn units(target_dir: &Path) -> usize {
    std::fs::read_dir(target_dir.join("debug/.fingerprint")).map_or(0, Iterator::count)
}
