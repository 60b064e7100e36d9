//! Python's OpenTelemetry SDK for the tests: a venv under the target
//! directory with the pinned SDK and its OTLP/gRPC exporter, installed from
//! PyPI once (later runs reuse it), and the scripts under `tests/python/`.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{OnceLock, mpsc},
    time::Duration,
};

/// Pinned, and released together (the exporter requires the SDK of its own version).
const REQUIREMENTS: [&str; 2] = [
    "opentelemetry-sdk==1.45.2",
    "opentelemetry-exporter-otlp-proto-grpc==1.45.2",
];
/// A pip install on a slow network, or the first import of grpcio.
const PYTHON_PATIENCE: Duration = Duration::from_secs(300);

/// The venv's `python`, with the pinned SDK installed; `None` without `python3`.
/// Made once per test process: the tests run in parallel and share the venv.
pub(crate) fn venv_python() -> Option<PathBuf> {
    static VENV: OnceLock<Option<PathBuf>> = OnceLock::new();
    VENV.get_or_init(make_venv).clone()
}

fn make_venv() -> Option<PathBuf> {
    match Command::new("python3").arg("--version").output() {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => panic!("failed to run python3: {error}"),
        Ok(_) => {}
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-otel-venv");
    let python = venv.join("bin/python");
    let marker = venv.join("cargo-otel-requirements.txt");
    let wanted = REQUIREMENTS.join("\n");
    if std::fs::read_to_string(&marker).is_ok_and(|installed| installed == wanted)
        && python.exists()
    {
        return Some(python);
    }
    let created = run(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        PYTHON_PATIENCE,
    );
    assert!(
        created.status.success(),
        "python3 -m venv failed (on Debian or Ubuntu: apt-get install python3-venv):\n{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let pip = [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
    ];
    let installed = run(
        Command::new(&python).args(pip).args(REQUIREMENTS),
        PYTHON_PATIENCE,
    );
    assert!(
        installed.status.success(),
        "pip install {} failed:\n{}",
        REQUIREMENTS.join(" "),
        String::from_utf8_lossy(&installed.stderr)
    );
    std::fs::write(&marker, wanted).unwrap();
    Some(python)
}

/// `python tests/python/<name>` in `dir`, hermetic, without the variables
/// that would make Python load code from elsewhere.
pub(crate) fn script(python: &Path, name: &str, dir: &Path) -> Command {
    let mut command = Command::new(python);
    super::hermetic(&mut command)
        .current_dir(dir)
        .arg(super::repo_root().join("tests/python").join(name));
    for variable in ["PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"] {
        command.env_remove(variable);
    }
    command
}

/// Runs `command` to completion, failing the test after `patience`.
pub(crate) fn run(command: &mut Command, patience: Duration) -> Output {
    let shown = format!("{command:?}");
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let child = child.unwrap_or_else(|e| panic!("failed to start {shown}: {e}"));
    let pid = child.id();
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match outcome.recv_timeout(patience) {
        Ok(output) => output.unwrap_or_else(|e| panic!("{shown}: {e}")),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("{shown} did not finish within {patience:?}");
        }
    }
}
