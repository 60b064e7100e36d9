//! Area 4: `cargo otel init` on a hello-world crate, against `cargo add
//! --offline` of the same crates with the same features on the same crate.
//!
//! `cargo add` needs two invocations: the crates `init` adds without their
//! default features, then those it adds with them. Both sides start from a
//! fresh copy of `benches/fixtures/hello`; the copy is not timed.

use std::{path::Path, process::Command};

use cargo_otel::manifest::STACK;

use crate::{
    Settings,
    report::{Row, Target},
    support, work,
};

pub(crate) fn run(settings: &Settings) -> Vec<Row> {
    let (ours, theirs) = (work::work_dir("init/init"), work::work_dir("init/add"));
    // Untimed warm-up: the binary's pages and cargo's index cache (this
    // `cargo add` may go online once; the timed ones may not).
    work::fresh_copy("hello", &ours);
    work::checked(support::cargo_otel(&ours).arg("init"));
    work::fresh_copy("hello", &theirs);
    for mut command in cargo_add(&theirs, false) {
        work::checked(&mut command);
    }

    let (mut init, mut add) = (Vec::new(), Vec::new());
    for run in 0..settings.runs {
        work::fresh_copy("hello", &ours);
        init.push(work::seconds(support::cargo_otel(&ours).arg("init")));
        work::fresh_copy("hello", &theirs);
        add.push(
            cargo_add(&theirs, true)
                .iter_mut()
                .map(work::seconds)
                .sum::<f64>(),
        );
        println!(
            "init: run {}: cargo otel init {:.3} s, cargo add --offline {:.3} s",
            run + 1,
            init[run],
            add[run]
        );
    }
    vec![
        Row::new("cargo otel init, hello world", "s", init)
            .against("cargo add --offline, same crates and features", add)
            .target(Target::RatioAtMost(0.2)),
    ]
}

/// `cargo add` of the pinned stack as `init` adds it: one command for the
/// crates without default features, one for those with them.
fn cargo_add(dir: &Path, offline: bool) -> Vec<Command> {
    [false, true]
        .into_iter()
        .map(|defaults| {
            let mut command = support::cargo(dir);
            command.arg("add").arg("--quiet");
            if offline {
                command.arg("--offline");
            }
            if !defaults {
                command.arg("--no-default-features");
            }
            let group = STACK.iter().filter(|d| d.keep_defaults == defaults);
            for dependency in group.clone() {
                command.arg(format!("{}@{}", dependency.name, dependency.version));
            }
            let features: Vec<String> = group
                .flat_map(|d| {
                    d.features
                        .iter()
                        .map(move |f| format!("{}@{}/{f}", d.name, d.version))
                })
                .collect();
            if !features.is_empty() {
                command.arg("--features").arg(features.join(","));
            }
            command
        })
        .collect()
}
