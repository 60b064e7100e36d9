//! A foreign client against the real `cargo otel serve`: the OpenTelemetry
//! Python SDK exporting over OTLP/gRPC, configured as the Aspire dashboard's
//! Python tutorial does (`tests/python/otel_grpc.py`), with nothing but the
//! `export` lines the server printed.
//!
//! The SDK is installed from PyPI into a venv under the target directory
//! (once; later runs reuse it: `tests/support/python.rs`). Without `python3`
//! the test is skipped, unless `CI` is set: then it fails.

#![expect(clippy::print_stdout, reason = "says why the test was skipped")]

use cargo_otel::backend::model::{LogEntry, MetricSeries, TraceDetail, TraceSummary};

use crate::support;
use crate::support::backend::{PATIENCE, Serve, eventually};

const SERVICE: &str = "aspire-python-tutorial";

#[test]
fn the_python_sdk_exports_traces_metrics_and_logs_over_grpc() {
    let Some(python) = support::python::venv_python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required on CI"
        );
        println!("SKIPPED: no python3");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &[]);

    let mut command = support::python::script(&python, "otel_grpc.py", dir.path());
    command.arg(SERVICE);
    // Exactly what the server told programs to set, nothing else.
    command.envs(serve.exports.iter().map(|(k, v)| (k, v)));
    let output = support::python::run(&mut command, PATIENCE);
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
