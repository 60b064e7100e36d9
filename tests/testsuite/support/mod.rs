//! Helpers shared by the integration tests: hermetic commands, fixture copies,
//! a raw HTTP/1.1 client ([`http`]), a real `cargo otel serve` ([`backend`]),
//! the product's collector in process ([`collector`]) and a Docker daemon's
//! test images and containers ([`docker`]).

pub(crate) mod backend;
pub(crate) mod chromium;
pub(crate) mod collector;
pub(crate) mod docker;
pub(crate) mod http;
pub(crate) mod program;
pub(crate) mod python;
pub(crate) mod tls;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::Mutex,
};

/// Environment prefixes that would leak the outer cargo, Docker or OpenTelemetry
/// configuration into a test (cargo sets many `CARGO_*` for the test process).
const LEAKY_ENV_PREFIXES: [&str; 4] = ["CARGO_", "DOCKER_", "OTEL_", "OTLP_"];

/// Removes every variable that could make a test depend on the machine it runs on.
/// The state files of the dashboards a test starts go under the target directory,
/// not the user's: a query never finds the user's own dashboard, and a server a
/// test kills leaves nothing behind in their home.
pub(crate) fn hermetic(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if LEAKY_ENV_PREFIXES.iter().any(|p| key.starts_with(p)) || key == "RUST_LOG" {
            cmd.env_remove(key.as_ref());
        }
    }
    let state = Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-state");
    cmd.env("XDG_STATE_HOME", state)
        .env("CARGO_TERM_COLOR", "never")
}

/// The real `cargo-otel` binary, invoked the way cargo invokes it (`cargo-otel otel ...`),
/// with a hermetic environment and `dir` as its working directory.
pub(crate) fn cargo_otel(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-otel"));
    hermetic(&mut cmd).current_dir(dir).arg("otel");
    cmd
}

/// `cargo` itself, hermetic, in `dir`.
pub(crate) fn cargo(dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    hermetic(&mut cmd).current_dir(dir);
    cmd
}

/// Runs `command` (a cargo build into the shared fixture target directory, or a
/// `cargo otel dash` that builds there) while no other such command of this test
/// process runs. Two cargo processes building into one target directory can
/// break each other's build since cargo 1.93's build-directory layout
/// (rust-lang/cargo#16384), and on two cores they gain nothing from overlapping.
pub(crate) fn output_one_build_at_a_time(command: &mut Command) -> Output {
    static BUILDS: Mutex<()> = Mutex::new(());
    let _turn = BUILDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    command.output().expect("run cargo")
}

/// What a failed cargo command said, without its progress lines (a fresh
/// build prints hundreds), so that the error is what a CI log shows.
pub(crate) fn cargo_errors(stderr: &str) -> String {
    const PROGRESS: [&str; 11] = [
        "Adding ",
        "Blocking ",
        "Checking ",
        "Compiling ",
        "Downgrading ",
        "Downloaded ",
        "Downloading ",
        "Finished ",
        "Locking ",
        "Updating ",
        "Unpacking ",
    ];
    stderr
        .lines()
        .filter(|line| !PROGRESS.iter().any(|p| line.trim_start().starts_with(p)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Copies the directory tree `from` into `to` (created if missing).
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh copy of the fixture crate `tests/fixtures/<fixture>` in a
/// temporary directory, instrumented by a real `cargo otel init -q`.
pub(crate) fn instrumented_copy(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    copy_tree(
        &repo_root().join("tests/fixtures").join(fixture),
        dir.path(),
    );
    let init = cargo_otel(dir.path())
        .args(["init", "-q"])
        .output()
        .expect("run init");
    assert!(
        init.status.success(),
        "init: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    dir
}

/// Runs a one-time `setup`, turning a panic into its message, so that a
/// `OnceLock` can remember the failure and every test reports it at once.
pub(crate) fn setup_once<T>(setup: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(setup)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "non-string panic".to_owned())
    })
}

/// Root of this repository (for fixtures under `tests/`).
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Fails unless `rustfmt --check --edition <edition>` leaves `path` as it is.
pub(crate) fn assert_rustfmt_clean(path: &Path, edition: &str) {
    let output = Command::new("rustfmt")
        .args(["--check", "--edition", edition])
        .arg(path)
        .output()
        .expect("rustfmt is installed with the toolchain");
    assert!(
        output.status.success(),
        "rustfmt --edition {edition} would change {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&output.stdout)
    );
}
