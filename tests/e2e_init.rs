//! End to end: `cargo otel init` instruments plain crates (fixtures under
//! `tests/fixtures/e2e/`), they are built, and the resulting programs export their traces,
//! metrics and logs to an in-process OTLP/gRPC receiver when they exit normally.
//!
//! Covered: a standalone crate with a multi-thread Tokio `main`; a workspace with a plain
//! `fn main` member and a current-thread Tokio member; exporting with an API key; and a prompt
//! exit when nothing listens on the endpoint. The programs never flush explicitly: whatever
//! arrives was sent when the guard `init` inserted into `main` was dropped.
//!
//! The crates are built once per test run into one shared `CARGO_TARGET_DIR`, so the
//! OpenTelemetry stack is compiled once (about a minute on 2 cores; seconds afterwards).

mod support;

use std::{
    env, fs,
    io::Read,
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    sync::OnceLock,
    thread,
    time::{Duration, Instant},
};

use cargo_otel::{
    backend::{
        Backend, BackendConfig,
        model::{LogQuery, MetricQuery, TraceQuery},
    },
    receiver::{OtlpReceiver, PointValue, ReceiverConfig, Telemetry},
};

/// How long telemetry may take to show up after the program has exited. It has normally all
/// arrived already (the guard waits for the exports), so this only absorbs scheduling noise.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(10);
/// A program whose endpoint is unreachable must still exit within this time.
const UNREACHABLE_EXIT_LIMIT: Duration = Duration::from_secs(6);
/// Hard limit for any run of an instrumented program, so a hang fails instead of blocking CI.
const RUN_KILL_AFTER: Duration = Duration::from_secs(60);

const SPAN_NAME: &str = "e2e.work";
const LOG_BODY: &str = "e2e work done";
const COUNTER_NAME: &str = "e2e.requests";
const API_KEY: &str = "e2e-api-key-1234";

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn multi_thread_main_exports_all_signals() {
    assert_exports_arrive(&apps().multi);
}

#[test]
fn current_thread_main_exports_all_signals() {
    assert_exports_arrive(&apps().current);
}

#[test]
fn sync_main_exports_all_signals() {
    assert_exports_arrive(&apps().sync);
}

#[test]
fn multi_thread_main_exits_promptly_without_receiver() {
    assert_exits_promptly_without_receiver(&apps().multi);
}

#[test]
fn current_thread_main_exits_promptly_without_receiver() {
    assert_exits_promptly_without_receiver(&apps().current);
}

#[test]
fn sync_main_exits_promptly_without_receiver() {
    assert_exits_promptly_without_receiver(&apps().sync);
}

/// Aspire's ApiKey mode: the key comes from `OTEL_EXPORTER_OTLP_HEADERS`.
#[test]
fn api_key_from_otel_exporter_otlp_headers_is_accepted() {
    let app = &apps().multi;
    let receiver = start_receiver(ReceiverConfig::loopback().with_api_key(API_KEY));
    let headers = format!("x-otlp-api-key={API_KEY}");
    let run = app.run(&[
        ("OTLP_GRPC_ENDPOINT", &receiver.endpoint()),
        ("OTEL_EXPORTER_OTLP_HEADERS", &headers),
    ]);
    run.assert_success();
    assert_all_signals_correlated(&receiver, app, &run);
}

#[test]
fn wrong_api_key_is_rejected_and_the_program_still_exits_promptly() {
    let app = &apps().current;
    let receiver = start_receiver(ReceiverConfig::loopback().with_api_key(API_KEY));
    let run = app.run(&[
        ("OTLP_GRPC_ENDPOINT", &receiver.endpoint()),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-otlp-api-key=not-the-key"),
    ]);
    run.assert_success();
    assert!(
        run.elapsed < UNREACHABLE_EXIT_LIMIT,
        "took {:?}\n{run}",
        run.elapsed
    );
    assert!(
        receiver.snapshot().is_empty(),
        "rejected telemetry was stored\n{run}"
    );
}

/// The same program against the built-in backend: what it exports is what the web view shows.
#[test]
fn sync_main_exports_to_the_local_backend() {
    let app = &apps().sync;
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    let mut config = BackendConfig::loopback("e2e");
    for addr in [&mut config.grpc, &mut config.http, &mut config.ui] {
        addr.set_port(0);
    }
    config.api_key = Some(API_KEY.to_owned());
    let backend = runtime
        .block_on(Backend::start(config))
        .expect("start the backend");
    let env: Vec<(&str, String)> = backend.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.run(&env).assert_success();

    let store = backend.store();
    let traces = store.traces(&TraceQuery::default());
    assert_eq!(traces.len(), 1, "{traces:?}");
    assert_eq!(
        (traces[0].root_name.as_str(), traces[0].service.as_str()),
        (SPAN_NAME, "sync-app")
    );
    let logs = store.logs(&LogQuery {
        q: Some(LOG_BODY.to_owned()),
        ..LogQuery::default()
    });
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(
        logs[0].trace_id, traces[0].trace_id,
        "the log is correlated with its span"
    );
    let metrics = store.metrics(&MetricQuery {
        q: Some(COUNTER_NAME.to_owned()),
        ..MetricQuery::default()
    });
    assert_eq!(metrics.len(), 1, "{metrics:?}");
    assert_eq!(metrics[0].latest, 3.0);
    runtime.block_on(backend.stop()).expect("stop the backend");
}

/// `cargo otel dash` builds and runs the crate against the built-in backend and exits with the
/// program's code once it is done (stdin is not a terminal, so the dashboard does not linger).
#[test]
fn dash_runs_the_crate_against_the_local_backend() {
    let apps = apps();
    let output = support::cargo_otel(&apps.standalone)
        .args([
            "dash",
            "--backend",
            "local",
            "--grpc-port",
            "0",
            "--http-port",
            "0",
            "--ui-port",
            "0",
        ])
        .env("CARGO_TARGET_DIR", &apps.target_dir)
        .stdin(Stdio::null())
        .output()
        .expect("run cargo otel dash");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("demo-multi finished"));
    for expected in [
        "   Dashboard http://localhost:",
        "/login?t=",
        "       Trace demo-multi e2e.work (",
        "    Finished `demo-multi` exited with code 0; the dashboard received 1 span, 1 log record and 1 metric point",
    ] {
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in:\n{stderr}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Assertions

fn assert_exports_arrive(app: &App) {
    let receiver = start_receiver(ReceiverConfig::loopback());
    let run = app.run(&[("OTLP_GRPC_ENDPOINT", &receiver.endpoint())]);
    run.assert_success();
    assert!(
        run.stdout.contains(&app.stdout_line),
        "missing stdout line\n{run}"
    );
    assert_all_signals_correlated(&receiver, app, &run);
}

/// A span, a log record inside it and the counter, all from `app`'s service, with the log
/// record pointing at the span.
fn assert_all_signals_correlated(receiver: &OtlpReceiver, app: &App, run: &Run) {
    let complete = |t: &Telemetry| {
        t.find_span(SPAN_NAME).is_some()
            && t.find_log(LOG_BODY).is_some()
            && t.find_metric(COUNTER_NAME).is_some()
    };
    let arrived = receiver.wait_until(ARRIVAL_TIMEOUT, complete);
    let telemetry = receiver.snapshot();
    assert!(
        arrived,
        "incomplete telemetry: {}\n{run}",
        summary(&telemetry)
    );

    let service = Some(app.package);
    let span = telemetry.find_span(SPAN_NAME).expect("checked above");
    assert_eq!(span.service_name(), service, "span's service.name");
    assert_eq!(
        span.span.kind, 2,
        "otel.kind = \"server\" -> SPAN_KIND_SERVER"
    );

    let log = telemetry.find_log(LOG_BODY).expect("checked above");
    assert_eq!(log.service_name(), service, "log's service.name");
    assert_eq!(
        log.record.trace_id, span.span.trace_id,
        "log carries the span's trace id"
    );
    assert_eq!(
        log.record.span_id, span.span.span_id,
        "log carries the span's span id"
    );

    let counter = telemetry.find_metric(COUNTER_NAME).expect("checked above");
    assert_eq!(counter.service_name(), service, "metric's service.name");
    assert_eq!(
        counter.points(),
        [PointValue::Int(3)],
        "{COUNTER_NAME} data points"
    );
}

fn assert_exits_promptly_without_receiver(app: &App) {
    let endpoint = format!("http://{}", unused_loopback_port());
    let run = app.run(&[("OTLP_GRPC_ENDPOINT", &endpoint)]);
    run.assert_success();
    assert!(
        run.elapsed < UNREACHABLE_EXIT_LIMIT,
        "exit took {:?} with nothing listening\n{run}",
        run.elapsed
    );
}

fn start_receiver(config: ReceiverConfig) -> OtlpReceiver {
    OtlpReceiver::start(config).expect("start the OTLP receiver")
}

/// An address that was free a moment ago: bound, read and released again.
fn unused_loopback_port() -> std::net::SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr")
}

/// One line per signal, for failure messages.
fn summary(t: &Telemetry) -> String {
    let spans: Vec<_> = t
        .spans()
        .map(|v| (v.span.name.as_str(), v.service_name()))
        .collect();
    let logs: Vec<_> = t
        .log_records()
        .map(|v| (v.body_text(), v.service_name()))
        .collect();
    let metrics: Vec<_> = t
        .metrics()
        .map(|v| (v.metric.name.as_str(), v.points()))
        .collect();
    format!("\n  spans: {spans:?}\n  logs: {logs:?}\n  metrics: {metrics:?}")
}

// ---------------------------------------------------------------------------------------------
// Running an instrumented program

/// A built, instrumented fixture program.
struct App {
    package: &'static str,
    binary: PathBuf,
    stdout_line: String,
}

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl App {
    fn new(package: &'static str, target_dir: &Path) -> Self {
        let binary = target_dir
            .join("debug")
            .join(format!("{package}{}", env::consts::EXE_SUFFIX));
        assert!(binary.is_file(), "missing {}", binary.display());
        Self {
            package,
            binary,
            stdout_line: format!("{package} finished"),
        }
    }

    /// Runs the program in a hermetic environment plus `envs`, killing it after
    /// [`RUN_KILL_AFTER`].
    fn run(&self, envs: &[(&str, &str)]) -> Run {
        let mut command = Command::new(&self.binary);
        support::hermetic(&mut command)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command.spawn().expect("spawn the instrumented program");
        // Drained on threads so a chatty program cannot block on a full pipe.
        let stdout = drain(child.stdout.take().expect("piped stdout"));
        let stderr = drain(child.stderr.take().expect("piped stderr"));
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll the program") {
                break status;
            }
            if started.elapsed() > RUN_KILL_AFTER {
                // Best effort: the assertion below reports the hang either way.
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} still running after {RUN_KILL_AFTER:?}", self.package);
            }
            thread::sleep(Duration::from_millis(10));
        };
        let elapsed = started.elapsed();
        let stdout = stdout.join().expect("stdout reader");
        let stderr = stderr.join().expect("stderr reader");
        Run {
            status,
            stdout,
            stderr,
            elapsed,
        }
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        // A read error only truncates the diagnostics.
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

impl Run {
    fn assert_success(&self) {
        assert!(self.status.success(), "program failed\n{self}");
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- {} after {:?}\n--- stdout:\n{}--- stderr:\n{}",
            self.status, self.elapsed, self.stdout, self.stderr
        )
    }
}

// ---------------------------------------------------------------------------------------------
// One-time setup: copy, init, build

struct Apps {
    multi: App,
    current: App,
    sync: App,
    /// The instrumented sources of `demo-multi`, for running it through `cargo otel dash`.
    standalone: PathBuf,
    target_dir: PathBuf,
    _sources: tempfile::TempDir,
}

/// Builds all fixtures on first use. A failure is remembered, so the other tests fail at once
/// with the same message instead of each repeating a minute of building.
fn apps() -> &'static Apps {
    static APPS: OnceLock<Result<Apps, String>> = OnceLock::new();
    let apps = APPS.get_or_init(|| support::setup_once(build_apps));
    match apps {
        Ok(apps) => apps,
        Err(message) => panic!("e2e setup failed: {message}"),
    }
}

fn build_apps() -> Apps {
    // Shared across runs and fixtures: the OpenTelemetry stack is compiled once.
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-init-target");
    // A temporary directory outside this repository, so cargo cannot mistake an enclosing
    // manifest for the fixtures' workspace root. It lives as long as the test process.
    let scratch = tempfile::tempdir().expect("create a temporary directory");
    let fixtures = support::repo_root().join("tests/fixtures/e2e");

    let standalone = scratch.path().join("demo-multi");
    support::copy_tree(&fixtures.join("demo-multi"), &standalone);
    init(&standalone, None);
    cargo_build(&standalone, &target_dir, &[]);

    let workspace = scratch.path().join("workspace");
    support::copy_tree(&fixtures.join("workspace"), &workspace);
    init(&workspace, Some("sync-app"));
    init(&workspace, Some("current-app"));
    cargo_build(&workspace, &target_dir, &["--workspace"]);

    Apps {
        multi: App::new("demo-multi", &target_dir),
        current: App::new("current-app", &target_dir),
        sync: App::new("sync-app", &target_dir),
        standalone,
        target_dir,
        _sources: scratch,
    }
}

/// `cargo otel init [-p package]` in `dir`, then a sanity check of its visible effects.
fn init(dir: &Path, package: Option<&str>) {
    cargo_otel_init(dir, package);
    let package_dir = package.map_or_else(|| dir.to_owned(), |p| dir.join(p));
    assert!(
        package_dir.join("src/otel.rs").is_file(),
        "init wrote no src/otel.rs"
    );
    let main = read(&package_dir.join("src/main.rs"));
    assert!(
        main.contains("mod otel;") && main.contains("otel::init()"),
        "main.rs:\n{main}"
    );
}

fn cargo_otel_init(dir: &Path, package: Option<&str>) {
    let mut command = support::cargo_otel(dir);
    command.arg("init");
    if let Some(package) = package {
        command.args(["-p", package]);
    }
    let output = command.output().expect("run cargo-otel");
    assert!(
        output.status.success(),
        "`cargo otel init` failed in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn cargo_build(dir: &Path, target_dir: &Path, args: &[&str]) {
    let output = support::cargo(dir)
        .arg("build")
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .expect("run cargo build");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "cargo build failed in {}:\n{stderr}",
        dir.display()
    );
    // The generated code must not add warnings to the user's build.
    assert!(
        !stderr.contains("warning"),
        "cargo build warned in {}:\n{stderr}",
        dir.display()
    );
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}
