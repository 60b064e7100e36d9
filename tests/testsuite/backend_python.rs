//! A foreign client against the real `cargo otel serve`: the OpenTelemetry
//! Python SDK exporting over OTLP/gRPC, configured as the Aspire dashboard's
//! Python tutorial does (`tests/python/otel_grpc.py`), with nothing but the
//! `export` lines the server printed.
//!
//! The SDK is installed from PyPI into a venv under the target directory
//! (once; later runs reuse it). Without `python3` the test is skipped, unless
//! `CI` is set: then it fails.

#![expect(clippy::print_stdout, reason = "says why the test was skipped")]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::mpsc,
    time::Duration,
};

use cargo_otel::backend::model::{LogEntry, MetricSeries, TraceDetail, TraceSummary};

use crate::support;
use crate::support::backend::{PATIENCE, Serve, eventually};

/// Pinned, and released together (the exporter requires the SDK of its own version).
const REQUIREMENTS: [&str; 2] = [
    "opentelemetry-sdk==1.45.2",
    "opentelemetry-exporter-otlp-proto-grpc==1.45.2",
];
const SERVICE: &str = "aspire-python-tutorial";
/// A pip install on a slow network, or the first import of grpcio.
const PYTHON_PATIENCE: Duration = Duration::from_secs(300);

#[test]
fn the_python_sdk_exports_traces_metrics_and_logs_over_grpc() {
    let Some(python) = venv_python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required on CI"
        );
        println!("SKIPPED: no python3");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &[]);

    let script = support::repo_root().join("tests/python/otel_grpc.py");
    let mut command = Command::new(&python);
    support::hermetic(&mut command)
        .current_dir(dir.path())
        .arg(&script)
        .arg(SERVICE);
    for variable in ["PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"] {
        command.env_remove(variable);
    }
    // Exactly what the server told programs to set, nothing else.
    command.envs(serve.exports.iter().map(|(k, v)| (k, v)));
    let output = run(&mut command, PATIENCE);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "otel_grpc.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("flushed=True"),
        "the SDK could not export:\n{stdout}\n{stderr}"
    );
    let trace_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("trace_id="))
        .expect("a trace id")
        .to_owned();

    let web = serve.web();
    let summary = eventually("the Python telemetry", || {
        let summary = web.summary();
        let held = summary.held;
        (held.spans >= 1 && held.logs >= 1 && held.metric_points >= 1).then_some(summary)
    });
    assert_eq!(summary.services, [SERVICE], "{summary:?}");

    let traces: Vec<TraceSummary> = web.json(&format!("/api/traces?service={SERVICE}"));
    assert_eq!(traces.len(), 1, "{traces:?}");
    assert_eq!(
        (traces[0].trace_id.as_str(), traces[0].root_name.as_str()),
        (trace_id.as_str(), "python-work")
    );
    let detail: TraceDetail = web.json(&format!("/api/traces/{trace_id}"));
    let span = &detail.spans[0];
    assert_eq!(
        (span.service.as_str(), span.scope.as_str()),
        (SERVICE, "otel_grpc.tutorial")
    );
    assert!(
        span.attributes
            .iter()
            .any(|a| a.key == "work.kind" && a.value == "tutorial"),
        "{span:?}"
    );

    let series: Vec<MetricSeries> = web.json(&format!("/api/metrics?service={SERVICE}"));
    let counter = series
        .iter()
        .find(|s| s.name == "python.requests")
        .unwrap_or_else(|| panic!("{series:?}"));
    assert_eq!(
        (counter.kind.as_str(), counter.latest, counter.unit.as_str()),
        ("sum", 3.0, "1")
    );
    assert!(
        counter
            .attributes
            .iter()
            .any(|a| a.key == "route" && a.value == "/hello"),
        "{counter:?}"
    );

    let logs: Vec<LogEntry> = web.json(&format!("/api/logs?service={SERVICE}"));
    let log = logs
        .iter()
        .find(|l| l.body == "hello from python")
        .unwrap_or_else(|| panic!("{logs:?}"));
    assert_eq!(log.level, "WARN");
    assert_eq!(
        (log.trace_id.as_str(), log.span_id.as_str()),
        (trace_id.as_str(), span.span_id.as_str()),
        "emitted inside the span"
    );

    let (status, stderr) = serve.interrupt();
    assert!(
        status.success(),
        "cargo otel serve after SIGINT: {status}\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("Trace {SERVICE} python-work")),
        "the terminal feed shows the root span:\n{stderr}"
    );
    assert!(
        stderr.contains("Stopped after receiving 1 traces, 1 log records, 1 metric points"),
        "{stderr}"
    );
}

/// The venv's `python`, with the pinned SDK installed; `None` without `python3`.
fn venv_python() -> Option<PathBuf> {
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

/// Runs `command` to completion, failing the test after `patience`.
fn run(command: &mut Command, patience: Duration) -> Output {
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
