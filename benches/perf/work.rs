//! Where the benchmarks work (`target/bench/work`), the fixture crates they
//! copy there, and running commands that must succeed.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
    time::Instant,
};

use crate::support;

/// `target/bench` (beside this build's `tmp` directory).
pub(crate) fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("bench")
}

/// `target/bench/work/<name>`.
pub(crate) fn work_dir(name: &str) -> PathBuf {
    bench_dir().join("work").join(name)
}

/// `benches/fixtures`, copied to `target/bench/work/fixtures` once per
/// process. Earlier copies are overwritten, not removed, so their lock files
/// (and the target directories beside them) keep later runs warm.
pub(crate) fn fixtures() -> &'static Path {
    static FIXTURES: OnceLock<PathBuf> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let to = work_dir("fixtures");
        support::copy_tree(&support::repo_root().join("benches/fixtures"), &to);
        to
    })
}

/// The pipeline workspace with `generated` made afresh: a copy of `plain`
/// renamed `bench-generated` and instrumented by this build's
/// `cargo otel init`, so it always carries the current template and stack.
pub(crate) fn pipeline_workspace() -> &'static Path {
    static WORKSPACE: OnceLock<PathBuf> = OnceLock::new();
    WORKSPACE.get_or_init(|| {
        let workspace = fixtures().join("pipeline");
        let generated = workspace.join("generated");
        if generated.exists() {
            std::fs::remove_dir_all(&generated).expect("remove the old generated crate");
        }
        support::copy_tree(&workspace.join("plain"), &generated);
        let manifest = generated.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("read plain's manifest");
        let renamed = text.replace("name = \"bench-plain\"", "name = \"bench-generated\"");
        std::fs::write(&manifest, renamed).expect("write generated's manifest");
        checked(support::cargo_otel(&workspace).args(["init", "-p", "bench-generated"]));
        workspace.to_owned()
    })
}

/// Runs `command` to completion; panics with its output if it fails.
pub(crate) fn checked(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("failed to run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Seconds `command` took, which must succeed.
pub(crate) fn seconds(command: &mut Command) -> f64 {
    let started = Instant::now();
    checked(command);
    started.elapsed().as_secs_f64()
}

/// Hermetic `cargo` in `dir` building into `target_dir`.
pub(crate) fn cargo(dir: &Path, target_dir: &Path) -> Command {
    let mut command = support::cargo(dir);
    command.env("CARGO_TARGET_DIR", target_dir);
    command
}

/// Copies `fixture` (a directory of `benches/fixtures`) to `to`, replacing
/// whatever was there.
pub(crate) fn fresh_copy(fixture: &str, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to)
            .unwrap_or_else(|e| panic!("failed to remove {}: {e}", to.display()));
    }
    support::copy_tree(&fixtures().join(fixture), to);
}
