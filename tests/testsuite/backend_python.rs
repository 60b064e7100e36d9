//! A foreign client against the real `cargo otel serve`: the OpenTelemetry
//! Python SDK exporting over OTLP/gRPC, configured as the Aspire dashboard's
//! Python tutorial does (`tests/python/otel_grpc.py`), with nothing but the
//! `export` lines the server printed.
//!
//! The SDK is installed from PyPI into a venv under the target directory
//! (once; later runs reuse it). Without `python3` the test is skipped, unless
//! `CI` is set: then it fails.

#![expect(
    clippy::print_stdout,
    reason = "says why the test was skipped and where its screenshots are"
)]

use std::path::{Path, PathBuf};

use cargo_otel::backend::model::{LogEntry, MetricSeries, TraceDetail, TraceSummary};

use crate::support;
use crate::support::backend::{PATIENCE, Serve, eventually};
use crate::support::chromium::{artifacts_dir, chromium};

const SERVICE: &str = "aspire-python-tutorial";
const V2_SERVICE: &str = "python-dashboard-v2";

#[test]
fn the_python_sdk_exports_traces_metrics_and_logs_over_grpc() {
    let Some(python) = python_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &[]);
    let stdout = run_script(&python, dir.path(), &serve, "otel_grpc.py", SERVICE);
    let trace_id = printed(&stdout, "trace_id").to_owned();

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

/// The Python SDK's histograms read as percentiles, and its span links and
/// resource attributes reach the span's detail: through the API and in the
/// browser (`tests/python/dashboard_v2.py` records 1..=100 ms in the default
/// explicit buckets, so P50 lies in (25, 50], P90 and P99 in (75, 100]).
#[test]
fn python_histograms_show_percentiles_and_spans_their_links_and_resource() {
    let Some(python) = python_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &[]);
    let stdout = run_script(&python, dir.path(), &serve, "dashboard_v2.py", V2_SERVICE);
    let (origin, linked) = (printed(&stdout, "origin"), printed(&stdout, "linked"));

    let web = serve.web();
    let series: Vec<MetricSeries> = eventually("the Python histograms", || {
        let series: Vec<MetricSeries> = web.json(&format!("/api/metrics?service={V2_SERVICE}"));
        (series.len() >= 2).then_some(series)
    });
    let find = |name: &str| {
        let found = series.iter().find(|s| s.name == name);
        found.unwrap_or_else(|| panic!("no {name} in {series:?}"))
    };
    let latency = find("python.latency");
    let stats = latency.histogram.expect("percentiles of python.latency");
    assert_eq!((stats.count, stats.sum), (100, 5050.0), "{stats:?}");
    for (what, value, low, high) in [
        ("p50", stats.p50, 25.0, 50.0),
        ("p90", stats.p90, 75.0, 100.0),
        ("p99", stats.p99, 75.0, 100.0),
    ] {
        assert!(value > low && value <= high, "{what} {value} in {stats:?}");
    }
    assert_eq!(
        (latency.scope.as_str(), latency.scope_version.as_str()),
        ("dashboard_v2.meter", "0.9.1")
    );
    let exemplars = &latency.points.last().expect("a point").exemplars;
    assert!(
        exemplars.iter().any(|e| e.trace_id == linked),
        "exemplars from the span: {exemplars:?}"
    );
    let payload = find("python.payload");
    assert_eq!(payload.kind, "exponential_histogram");
    let stats = payload.histogram.expect("percentiles of python.payload");
    assert!(stats.p50 > 400.0 && stats.p50 < 600.0, "{stats:?}");

    let held = |id: &str| web.get(&format!("/api/traces/{id}")).status == 200;
    eventually("both traces", || {
        (held(origin) && held(linked)).then_some(())
    });
    let detail: TraceDetail = web.json(&format!("/api/traces/{linked}"));
    let span = &detail.spans[0];
    assert_eq!(span.scope_version, "0.9.1");
    let resource: Vec<_> = span
        .resource
        .iter()
        .map(|a| (a.key.as_str(), a.value.as_str()))
        .collect();
    for pair in [("service.version", "1.2.3"), ("host.name", "test-host")] {
        assert!(resource.contains(&pair), "{pair:?} in {resource:?}");
    }
    let link = span.links.first().expect("the span's link");
    assert_eq!((link.trace_id.as_str(), link.held), (origin, true));

    let Some(chromium) = chromium() else { return };
    let page = |hash: &str| {
        let return_url = hash
            .replace('#', "%23")
            .replace('/', "%2F")
            .replace('?', "%3F")
            .replace('=', "%3D");
        format!(
            "http://{}/login?t={}&returnUrl=%2F{return_url}",
            serve.ui, serve.token
        )
    };
    let metrics = chromium.dump_dom(&page("#/metrics"));
    for needle in [
        "P50",
        "P90",
        "P99",
        "data-p50=",
        "dashboard_v2.meter",
        "50 ms",
    ] {
        assert!(
            metrics.contains(needle),
            "{needle} on the metrics page:\n{metrics}"
        );
    }
    let span_hash = format!("#/traces/{linked}?span={}", span.span_id);
    let detail_dom = chromium.dump_dom(&page(&span_hash));
    for needle in [
        "service.version",
        "test-host",
        "0.9.1",
        "Links (1)",
        &format!(r##"href="#/traces/{origin}?span={}""##, link.span_id),
    ] {
        assert!(
            detail_dom.contains(needle),
            "{needle} in the span detail:\n{detail_dom}"
        );
    }
    let dir = artifacts_dir();
    for (file, hash) in [
        ("issue-17-python-metrics.png", "#/metrics".to_owned()),
        (
            "issue-17-python-instrument.png",
            format!("#/metrics/{V2_SERVICE}/python.latency"),
        ),
        ("issue-17-python-span-detail.png", span_hash),
    ] {
        let path = dir.join(file);
        chromium.screenshot(&page(&hash), &path, &[]);
        println!("screenshot: {}", path.display());
    }
}

/// Runs `tests/python/<script> <service>` with exactly the environment the
/// server told programs to set; fails unless it exported; returns its stdout.
fn run_script(python: &Path, dir: &Path, serve: &Serve, script: &str, service: &str) -> String {
    let mut command = support::python::script(python, script, dir);
    command.arg(service);
    command.envs(serve.exports.iter().map(|(k, v)| (k, v)));
    let output = support::python::run(&mut command, PATIENCE);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("flushed=True"),
        "the SDK could not export:\n{stdout}\n{stderr}"
    );
    stdout
}

/// The value after `key=` on a line of `stdout`.
fn printed<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no `{key}=` in:\n{stdout}"))
}

/// The venv's `python`, or `None` after saying the test is skipped (only
/// off CI).
fn python_or_skip() -> Option<PathBuf> {
    let python = support::python::venv_python();
    if python.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required on CI"
        );
        println!("SKIPPED: no python3");
    }
    python
}
