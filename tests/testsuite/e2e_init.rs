//! End to end: `cargo otel init` instruments plain crates (fixtures under
//! `tests/fixtures/e2e/`), they are built, and the resulting programs export their traces,
//! metrics and logs to the backend's OTLP/gRPC collector and store, in process, when they exit
//! normally.
//!
//! Covered: a standalone crate with a multi-thread Tokio `main`; a workspace with a plain
//! `fn main` member (saved with byte order marks and CRLF line ends) and a current-thread
//! Tokio member; exporting with an API key; a prompt
//! exit when nothing listens on the endpoint; and programs that already set up logging (one
//! crate, a binary per form), run before and after `init` to compare their console output. The programs never flush explicitly: whatever
//! arrives was sent when the guard `init` inserted into `main` was dropped.
//!
//! The crates are built once per test run into one shared `CARGO_TARGET_DIR`, so the
//! OpenTelemetry stack is compiled once (about a minute on 2 cores; seconds afterwards).

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

use cargo_otel::backend::{
    Backend, BackendConfig, Held, SpanRecord,
    model::{LogQuery, MetricQuery, TraceQuery},
};

use crate::support::{
    self,
    collector::{Collector, CollectorConfig},
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
    let collector = start_collector(CollectorConfig::loopback().with_api_key(API_KEY));
    let headers = format!("x-otlp-api-key={API_KEY}");
    let run = app.run(&[
        ("OTLP_GRPC_ENDPOINT", &collector.endpoint()),
        ("OTEL_EXPORTER_OTLP_HEADERS", &headers),
    ]);
    run.assert_success();
    assert_all_signals_correlated(&collector, app, &run);
}

#[test]
fn wrong_api_key_is_rejected_and_the_program_still_exits_promptly() {
    let app = &apps().current;
    let collector = start_collector(CollectorConfig::loopback().with_api_key(API_KEY));
    let run = app.run(&[
        ("OTLP_GRPC_ENDPOINT", &collector.endpoint()),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-otlp-api-key=not-the-key"),
    ]);
    run.assert_success();
    assert!(
        run.elapsed < UNREACHABLE_EXIT_LIMIT,
        "took {:?}\n{run}",
        run.elapsed
    );
    assert!(
        collector.held().is_empty(),
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
    let (output, stderr) = dash_local(&[]);
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

/// `--save` is a flag of the built-in dashboard under `dash` as under `serve`: once the program
/// is done, the file holds the export requests it sent.
#[test]
fn dash_saves_what_the_local_backend_received() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let save = dir.path().join("run.jsonl");
    let (_, stderr) = dash_local(&["--save".as_ref(), save.as_os_str()]);
    assert!(
        stderr.contains(&format!("export requests to {}", save.display())),
        "{stderr}"
    );
    let saved = fs::read_to_string(&save).expect("the --save file");
    for expected in [SPAN_NAME, LOG_BODY, COUNTER_NAME] {
        assert!(saved.contains(expected), "no {expected:?} in:\n{saved}");
    }
}

/// `cargo otel dash --backend local` on free ports, with `args`, run to its successful end;
/// returns its output and stderr.
fn dash_local(args: &[&std::ffi::OsStr]) -> (std::process::Output, String) {
    let apps = apps();
    let output = support::output_one_build_at_a_time(
        support::cargo_otel(&apps.standalone)
            .args(["dash", "--backend", "local"])
            .args(support::backend::FREE_PORTS)
            .args(args)
            .env("CARGO_TARGET_DIR", &apps.target_dir)
            .stdin(Stdio::null()),
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    (output, stderr)
}

/// A crate that does not compile: `dash` says so and exits 1 at once, even with `--keep`
/// (nothing ran, so there is nothing to keep the dashboard up for).
#[test]
fn dash_stops_at_once_when_the_build_fails() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let root = dir.path();
    fs::create_dir(root.join("src")).unwrap();
    fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    fs::write(
        root.join("src/main.rs"),
        "fn main() {\n    let n: u32 = \"not a number\";\n}\n",
    )
    .unwrap();
    let output = support::cargo_otel(root)
        .args(["dash", "--backend", "local", "--keep"])
        .args(support::backend::FREE_PORTS)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .stdin(Stdio::null())
        .output()
        .expect("run cargo otel dash");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("could not build `broken`"), "{stderr}");
    assert!(!stderr.contains("until you press Ctrl-C"), "{stderr}");
}

/// `sync-app` is saved the way Windows editors save files (see [`windows_form`]): `init` kept
/// its byte order marks and line ends, and it built (and exports, see the tests above).
#[test]
fn a_member_with_byte_order_marks_and_crlf_keeps_them() {
    let member = apps().workspace.join("sync-app");
    for path in [member.join("Cargo.toml"), member.join("src/main.rs")] {
        let text = read(&path);
        assert!(text.starts_with('\u{feff}'), "lost its BOM:\n{text}");
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "LF line ends in {}:\n{text:?}",
            path.display()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Assertions

fn assert_exports_arrive(app: &App) {
    let collector = start_collector(CollectorConfig::loopback());
    let run = app.run(&[("OTLP_GRPC_ENDPOINT", &collector.endpoint())]);
    run.assert_success();
    assert!(
        run.stdout.contains(&app.stdout_line),
        "missing stdout line\n{run}"
    );
    assert_all_signals_correlated(&collector, app, &run);
}

/// A span, a log record inside it and the counter, all from `app`'s service, with the log
/// record pointing at the span.
fn assert_all_signals_correlated(collector: &Collector, app: &App, run: &Run) {
    let complete = |t: &Held| {
        t.find_span(SPAN_NAME).is_some()
            && t.find_log(LOG_BODY).is_some()
            && t.find_metric(COUNTER_NAME).is_some()
    };
    let arrived = collector.wait_until(ARRIVAL_TIMEOUT, complete);
    let telemetry = collector.held();
    assert!(
        arrived,
        "incomplete telemetry: {}\n{run}",
        summary(&telemetry)
    );

    let service = Some(app.package);
    let span = telemetry.find_span(SPAN_NAME).expect("checked above");
    assert_eq!(Some(&*span.service), service, "span's service.name");
    assert_eq!(
        span.span.kind, 2,
        "otel.kind = \"server\" -> SPAN_KIND_SERVER"
    );

    let log = telemetry.find_log(LOG_BODY).expect("checked above");
    assert_eq!(Some(&*log.service), service, "log's service.name");
    assert_eq!(
        log.record.trace_id, span.span.trace_id,
        "log carries the span's trace id"
    );
    assert_eq!(
        log.record.span_id, span.span.span_id,
        "log carries the span's span id"
    );

    let counter = telemetry.find_metric(COUNTER_NAME).expect("checked above");
    assert_eq!(
        Some(counter.service.as_str()),
        service,
        "metric's service.name"
    );
    assert_eq!(
        latest_values(&telemetry, COUNTER_NAME),
        [3.0],
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

fn start_collector(config: CollectorConfig) -> Collector {
    Collector::start(config)
}

/// An address that was free a moment ago: bound, read and released again.
fn unused_loopback_port() -> std::net::SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr")
}

/// One line per signal, for failure messages.
fn summary(t: &Held) -> String {
    let spans: Vec<_> = t
        .spans
        .iter()
        .map(|v| (v.span.name.as_str(), &*v.service))
        .collect();
    let logs: Vec<_> = t
        .logs
        .iter()
        .map(|v| (v.body_text(), &*v.service))
        .collect();
    let metrics: Vec<_> = t
        .metrics
        .iter()
        .map(|v| (v.name.as_str(), v.latest))
        .collect();
    format!("\n  spans: {spans:?}\n  logs: {logs:?}\n  metrics: {metrics:?}")
}

/// The current value of every series of the metric called `name` (one per
/// attribute set).
fn latest_values(t: &Held, name: &str) -> Vec<f64> {
    let series = t.metrics.iter().filter(|series| series.name == name);
    series.map(|series| series.latest).collect()
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

    /// Program `name` as built in `dir`, for package `package`.
    fn built(dir: &Path, name: &str, package: &'static str) -> Self {
        let binary = dir.join(format!("{name}{}", env::consts::EXE_SUFFIX));
        assert!(binary.is_file(), "missing {}", binary.display());
        Self {
            package,
            binary,
            stdout_line: String::new(),
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
    /// The instrumented sources of `sync-app` and `current-app`.
    workspace: PathBuf,
    target_dir: PathBuf,
    _sources: tempfile::TempDir,
}

/// Builds all fixtures on first use.
fn apps() -> &'static Apps {
    static APPS: OnceLock<Result<Apps, String>> = OnceLock::new();
    built_once(&APPS, build_apps)
}

/// Shared across runs and fixtures: the OpenTelemetry stack is compiled once.
fn shared_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-init-target")
}

/// `build` run once per test process. A failure is remembered, so the other tests fail at
/// once with the same message instead of each repeating a minute of building.
fn built_once<T>(cell: &'static OnceLock<Result<T, String>>, build: fn() -> T) -> &'static T {
    let built = cell.get_or_init(|| support::setup_once(build));
    match built {
        Ok(built) => built,
        Err(message) => panic!("e2e setup failed: {message}"),
    }
}

fn build_apps() -> Apps {
    let target_dir = shared_target_dir();
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
    for file in ["sync-app/Cargo.toml", "sync-app/src/main.rs"] {
        windows_form(&workspace.join(file));
    }
    init(&workspace, Some("sync-app"));
    init(&workspace, Some("current-app"));
    cargo_build(&workspace, &target_dir, &["--workspace"]);

    Apps {
        multi: App::new("demo-multi", &target_dir),
        current: App::new("current-app", &target_dir),
        sync: App::new("sync-app", &target_dir),
        standalone,
        workspace,
        target_dir,
        _sources: scratch,
    }
}

/// A UTF-8 byte order mark first and CRLF line ends, as Windows editors save files.
fn windows_form(path: &Path) {
    let text = read(path).replace('\n', "\r\n");
    fs::write(path, format!("\u{feff}{text}")).unwrap();
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
    let output = support::output_one_build_at_a_time(
        support::cargo(dir)
            .arg("build")
            .args(args)
            .env("CARGO_TARGET_DIR", target_dir),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "cargo build failed in {}:\n{}",
        dir.display(),
        support::cargo_errors(&stderr)
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

// ---------------------------------------------------------------------------------------------
// Programs that already set up logging (tests/fixtures/e2e/existing-logging): one crate, one
// binary per form, each built and run before and after `init`.

const MERGED_PACKAGE: &str = "existing-logging";
const MERGE_SPAN: &str = "merge.work";
const MERGE_LOG: &str = "merge work done";

#[test]
fn registry_chain_service_keeps_its_console_and_exports() {
    assert_merged(
        "service",
        "request",
        "order shipped",
        &[("RUST_LOG", "info")],
    );
}

#[test]
fn registry_chain_with_try_init_keeps_its_console_and_exports() {
    assert_merged(
        "registry-try-init",
        MERGE_SPAN,
        MERGE_LOG,
        &[("RUST_LOG", "info")],
    );
}

#[test]
fn fmt_builder_keeps_its_console_and_exports() {
    assert_merged("fmt-chain", MERGE_SPAN, MERGE_LOG, &[("RUST_LOG", "info")]);
}

#[test]
fn fmt_init_keeps_its_console_and_exports() {
    assert_merged("fmt-init", MERGE_SPAN, MERGE_LOG, &[("RUST_LOG", "info")]);
}

/// Without `RUST_LOG`, `fmt::init()` (with `env-filter`) shows errors only; so does its
/// replacement, while the export still gets `info`.
#[test]
fn fmt_init_keeps_its_default_filter() {
    assert_merged("fmt-init", MERGE_SPAN, MERGE_LOG, &[]);
}

#[test]
fn fmt_try_init_keeps_its_console_and_exports() {
    assert_merged(
        "fmt-try-init",
        MERGE_SPAN,
        MERGE_LOG,
        &[("RUST_LOG", "info")],
    );
}

/// env_logger keeps the console, including what tracing (with its `log` feature) printed
/// through it before a subscriber existed; its `log` records and `tracing` data are exported.
#[test]
fn env_logger_keeps_its_console_and_tracing_is_exported() {
    assert_merged("env-logger", MERGE_SPAN, MERGE_LOG, &[("RUST_LOG", "info")]);
}

/// Without `RUST_LOG`, env_logger prints errors only, before and after; INFO and above are
/// exported, from `log` and from `tracing`.
#[test]
fn env_logger_without_rust_log_exports_info() {
    let merged = merged();
    let before = merged.before("env-logger").run(&[]);
    before.assert_success();
    let collector = start_collector(CollectorConfig::loopback());
    let endpoint = collector.endpoint();
    let after = merged
        .after("env-logger")
        .run(&[("OTLP_GRPC_ENDPOINT", &endpoint)]);
    after.assert_success();
    assert_eq!(
        console(&after),
        console(&before),
        "before:\n{before}\nafter:\n{after}"
    );
    assert_span_and_log(&collector, MERGE_SPAN, MERGE_LOG, "env-logger", &after);
    // Logged before the span: a record of its own.
    let from_log = "env_logger still formats this line";
    let arrived = collector.wait_until(ARRIVAL_TIMEOUT, |t| t.find_log(from_log).is_some());
    assert!(
        arrived,
        "no {from_log:?}: {}\n{after}",
        summary(&collector.held())
    );
}

/// Class 1 and 2: the setup is in the package's library, the subscriber built in one
/// function (with a global filter) and installed in another after `LogTracer`: `main`
/// starts the providers, the layers go where the subscriber is built.
#[test]
fn setup_in_the_library_keeps_its_console_and_exports() {
    assert_merged("telemetry-lib", MERGE_SPAN, MERGE_LOG, &[]);
    let collector = start_collector(CollectorConfig::loopback());
    let endpoint = collector.endpoint();
    let run = merged()
        .after("telemetry-lib")
        .run(&[("OTLP_GRPC_ENDPOINT", &endpoint)]);
    assert_span_and_log(
        &collector,
        MERGE_SPAN,
        "a `log` record, through LogTracer",
        service_of("telemetry-lib"),
        &run,
    );
}

/// Class 2: a `FmtSubscriber::builder()` in a module, in `#[cfg]` variants: the one a
/// plain build compiles is merged, the other is named in a note.
#[test]
fn setup_in_a_module_with_cfg_variants_keeps_its_console_and_exports() {
    assert_merged("helper-module", MERGE_SPAN, MERGE_LOG, &[]);
    let said = &merged().init_output["helper-module"];
    assert!(
        said.contains("src/bin/helper-module/logging.rs:6` as it is")
            && said.contains("feature = \"fancy\""),
        "{said}"
    );
}

/// Class 4: the program's global filter shows its DEBUG span and event; they are exported
/// with `RUST_LOG` unset, as they are printed.
#[test]
fn a_global_filter_exports_what_it_prints() {
    assert_merged("filters", MERGE_SPAN, MERGE_LOG, &[]);
}

/// Class 5: a command-line tool on `log` alone, its env_logger set up in a helper: stdout
/// and console byte for byte the same, its records exported inside a span for the run.
#[test]
fn log_only_cli_keeps_its_console_and_stdout_and_exports_its_run() {
    let merged = merged();
    let before = merged.before("log-cli").run(&[]);
    before.assert_success();
    let collector = start_collector(CollectorConfig::loopback());
    let endpoint = collector.endpoint();
    let after = merged
        .after("log-cli")
        .run(&[("OTLP_GRPC_ENDPOINT", &endpoint)]);
    after.assert_success();
    assert_eq!(after.stdout, before.stdout, "stdout changed\n{after}");
    assert_eq!(after.stderr, before.stderr, "console changed\n{after}");
    assert_span_and_log(&collector, "log-cli", MERGE_LOG, "log-cli", &after);
    assert_span_and_log(&collector, "log-cli", "counting rows", "log-cli", &after);
}

/// Class 5: a program's own `log::Log`, installed from another module: its console, and
/// its records exported.
#[test]
fn own_logger_keeps_its_console_and_exports() {
    assert_merged("own-logger", "own-logger", MERGE_LOG, &[]);
}

/// A CLI's stdout is its product: byte for byte the same after `init`, whether the collector is
/// up or nothing listens.
#[test]
fn cli_stdout_is_byte_identical_with_and_without_receiver() {
    let merged = merged();
    let before = merged.before("cli").run(&[("RUST_LOG", "debug")]);
    before.assert_success();
    assert!(before.stdout.contains("gamma"), "{before}");

    let collector = start_collector(CollectorConfig::loopback());
    let endpoint = collector.endpoint();
    let up = merged
        .after("cli")
        .run(&[("RUST_LOG", "debug"), ("OTLP_GRPC_ENDPOINT", &endpoint)]);
    up.assert_success();
    assert_eq!(
        up.stdout, before.stdout,
        "stdout changed with the collector up\n{up}"
    );
    assert_span_and_log(&collector, MERGE_SPAN, MERGE_LOG, "cli", &up);

    let nowhere = format!("http://{}", unused_loopback_port());
    let down = merged
        .after("cli")
        .run(&[("RUST_LOG", "debug"), ("OTLP_GRPC_ENDPOINT", &nowhere)]);
    down.assert_success();
    assert_eq!(
        down.stdout, before.stdout,
        "stdout changed with nothing listening\n{down}"
    );
}

/// A subscriber `init` does not recognize: `main` untouched, the lines to add printed with
/// the initializer's file:line, and the program runs as before.
#[test]
fn unrecognized_setup_is_left_alone_with_instructions() {
    let merged = merged();
    let bin = "custom-subscriber";
    let path = format!("src/bin/{bin}.rs");
    let original = read(&support::repo_root().join(MERGE_FIXTURE).join(&path));
    assert_eq!(
        read(&merged.sources.join(&path)),
        original,
        "main was edited"
    );
    let said = &merged.init_output[bin];
    for expected in [
        format!("warning: left `{path}` as it is"),
        format!("`{path}:9`"),
        "let _otel = otel::init_providers()".to_owned(),
        ".with(otel::layers())".to_owned(),
        "is ready to export traces, metrics and logs once".to_owned(),
    ] {
        assert!(
            said.contains(&expected),
            "expected {expected:?} in:\n{said}"
        );
    }
    let before = merged.before(bin).run(&[("RUST_LOG", "info")]);
    let after = merged.after(bin).run(&[("RUST_LOG", "info")]);
    after.assert_success();
    assert_same_console(&before, &after);
}

#[test]
fn init_twice_on_merged_mains_changes_nothing() {
    let merged = merged();
    let before = read_sources(&merged.sources);
    for bin in MERGED_BINS {
        let said = init_bin(&merged.sources, bin);
        // The setup init leaves alone gets the same lines again.
        let expected = match bin {
            "custom-subscriber" => "help: add these lines yourself",
            _ => "nothing to change",
        };
        assert!(said.contains(expected), "second init of {bin}:\n{said}");
    }
    assert_eq!(read_sources(&merged.sources), before);
}

/// Every `.rs` file under `dir/src`, by path.
fn read_sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.join("src")];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).expect("read the sources").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push((path.clone(), read(&path)));
            }
        }
    }
    files.sort();
    files
}

/// The fixture's sources are rustfmt-clean, and a user's `cargo fmt --check` must stay green
/// after the merge.
#[test]
fn merged_mains_stay_rustfmt_clean() {
    let merged = merged();
    for (path, _) in read_sources(&merged.sources) {
        support::assert_rustfmt_clean(&path, "2021");
    }
}

const MERGE_FIXTURE: &str = "tests/fixtures/e2e/existing-logging";
const MERGED_BINS: [&str; 13] = [
    "service",
    "registry-try-init",
    "fmt-chain",
    "fmt-init",
    "fmt-try-init",
    "env-logger",
    "cli",
    "custom-subscriber",
    "helper-module",
    "filters",
    "log-cli",
    "own-logger",
    // Last: it declares the module in the library, which the binaries after it would use.
    "telemetry-lib",
];

/// Before and after `init`: the same console (timestamps aside) on both streams, and after,
/// the span with its log record at the collector.
fn assert_merged(bin: &str, span: &str, log: &str, env: &[(&str, &str)]) {
    let merged = merged();
    let before = merged.before(bin).run(env);
    before.assert_success();
    assert!(
        !console(&before).1.is_empty() || !console(&before).0.is_empty(),
        "{before}"
    );

    let collector = start_collector(CollectorConfig::loopback());
    let endpoint = collector.endpoint();
    let mut env_after = env.to_vec();
    env_after.push(("OTLP_GRPC_ENDPOINT", &endpoint));
    let after = merged.after(bin).run(&env_after);
    after.assert_success();
    assert_same_console(&before, &after);
    assert_span_and_log(&collector, span, log, service_of(bin), &after);
}

/// The `service.name` a merged program reports: its binary's, or the
/// package's where the module is the library's (compiled without a binary).
fn service_of(bin: &str) -> &str {
    match bin {
        "telemetry-lib" => MERGED_PACKAGE,
        _ => bin,
    }
}

/// `span` and `log` arrive from `service`, the log record inside the span's trace.
fn assert_span_and_log(collector: &Collector, span: &str, log: &str, service: &str, run: &Run) {
    let arrived = collector.wait_until(ARRIVAL_TIMEOUT, |t| {
        t.find_span(span).is_some() && t.find_log(log).is_some()
    });
    let telemetry = collector.held();
    assert!(
        arrived,
        "incomplete telemetry: {}\n{run}",
        summary(&telemetry)
    );
    let exported_span = telemetry.find_span(span).expect("checked above");
    assert_eq!(&*exported_span.service, service, "{run}");
    let record = telemetry.find_log(log).expect("checked above");
    assert_eq!(&*record.service, service, "{run}");
    assert_eq!(
        record.record.trace_id, exported_span.span.trace_id,
        "the log record carries its span's trace id"
    );
}

fn assert_same_console(before: &Run, after: &Run) {
    assert_eq!(
        console(after),
        console(before),
        "console output changed\nbefore:\n{before}\nafter:\n{after}"
    );
}

/// stdout and stderr with every RFC 3339 timestamp replaced by `[TIME]`.
fn console(run: &Run) -> (String, String) {
    (
        without_timestamps(&run.stdout),
        without_timestamps(&run.stderr),
    )
}

fn without_timestamps(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match timestamp_len(rest.as_bytes()) {
            Some(len) => {
                out.push_str("[TIME]");
                rest = &rest[len..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// The length of `2026-11-25T01:09:55.758851Z` at the start of `bytes`, if there is one.
fn timestamp_len(bytes: &[u8]) -> Option<usize> {
    let shape = b"dddd-dd-ddTdd:dd:dd";
    let fits = bytes.len() > shape.len()
        && shape.iter().zip(bytes).all(|(s, b)| match s {
            b'd' => b.is_ascii_digit(),
            other => other == b,
        });
    if !fits {
        return None;
    }
    let tail = bytes[shape.len()..]
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'.'))?;
    (bytes[shape.len() + tail] == b'Z').then_some(shape.len() + tail + 1)
}

/// The fixture built as it was (binaries copied aside), then after `init` of every binary.
struct Merged {
    before_dir: PathBuf,
    after_dir: PathBuf,
    sources: PathBuf,
    /// What `init --bin <bin>` printed, per binary.
    init_output: std::collections::BTreeMap<&'static str, String>,
    _scratch: tempfile::TempDir,
}

impl Merged {
    fn before(&self, bin: &str) -> App {
        Self::app(&self.before_dir, bin)
    }

    fn after(&self, bin: &str) -> App {
        Self::app(&self.after_dir, bin)
    }

    fn app(dir: &Path, bin: &str) -> App {
        App::built(dir, bin, MERGED_PACKAGE)
    }
}

fn merged() -> &'static Merged {
    static MERGED: OnceLock<Result<Merged, String>> = OnceLock::new();
    built_once(&MERGED, build_merged)
}

fn build_merged() -> Merged {
    let target_dir = shared_target_dir();
    let scratch = tempfile::tempdir().expect("create a temporary directory");
    let sources = scratch.path().join(MERGED_PACKAGE);
    support::copy_tree(&support::repo_root().join(MERGE_FIXTURE), &sources);

    cargo_build(&sources, &target_dir, &["--bins"]);
    let before_dir = scratch.path().join("before");
    fs::create_dir_all(&before_dir).expect("create the before directory");
    for bin in MERGED_BINS {
        let name = format!("{bin}{}", env::consts::EXE_SUFFIX);
        fs::copy(target_dir.join("debug").join(&name), before_dir.join(&name))
            .unwrap_or_else(|e| panic!("copy {name}: {e}"));
    }

    let init_output = MERGED_BINS
        .into_iter()
        .map(|bin| (bin, init_bin(&sources, bin)))
        .collect();
    cargo_build(&sources, &target_dir, &["--bins"]);
    Merged {
        before_dir,
        after_dir: target_dir.join("debug"),
        sources,
        init_output,
        _scratch: scratch,
    }
}

/// `cargo otel init --bin <bin>`, which must succeed; what it printed.
fn init_bin(dir: &Path, bin: &str) -> String {
    init_with(dir, &["--bin", bin])
}

/// `cargo otel init <args>`, which must succeed; what it printed.
fn init_with(dir: &Path, args: &[&str]) -> String {
    let output = support::cargo_otel(dir)
        .arg("init")
        .args(args)
        .output()
        .expect("run cargo-otel");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "`cargo otel init {}` failed:\n{said}",
        args.join(" ")
    );
    said
}

// ---------------------------------------------------------------------------------------------
// Shapes of real programs (tests/fixtures/shapes, one workspace): a binary whose root is not
// under `src/`, an example of a library, an optional tracing-subscriber, two binaries in one
// package, axum from a path, and an older OpenTelemetry that only `--force` replaces. Each
// program is built and run before and after `init`, with the default environment.

const SHAPES_FIXTURE: &str = "tests/fixtures/shapes";

/// One program of the shapes workspace, and what it must export.
struct Shape {
    package: &'static str,
    /// `init`'s arguments after `-p <package>`.
    init: &'static [&'static str],
    program: &'static str,
    example: bool,
    span: &'static str,
    log: &'static str,
}

const SHAPES: [Shape; 10] = [
    Shape {
        package: "layout",
        init: &[],
        program: "layout",
        example: false,
        span: "shapes.layout",
        log: "layout counted its words",
    },
    Shape {
        package: "shapes-lib",
        init: &["--example", "demo"],
        program: "demo",
        example: true,
        span: "shapes.total",
        log: "the library added its numbers",
    },
    Shape {
        package: "optional-dep",
        init: &[],
        program: "optional-dep",
        example: false,
        span: "shapes.optional",
        log: "optional-dep did its work",
    },
    Shape {
        package: "multi",
        init: &["--bin", "alpha"],
        program: "alpha",
        example: false,
        span: "shapes.alpha",
        log: "alpha did its work",
    },
    Shape {
        package: "multi",
        init: &["--bin", "beta"],
        program: "beta",
        example: false,
        span: "shapes.beta",
        log: "beta did its work",
    },
    Shape {
        package: "routed",
        init: &[],
        program: "routed",
        example: false,
        span: "GET /items/{id}",
        log: "routed found the item",
    },
    Shape {
        package: "hyper-service",
        init: &[],
        program: "hyper-service",
        example: false,
        span: "GET",
        log: "hyper-service answered",
    },
    Shape {
        package: "subcommands",
        init: &[],
        program: "subcommands",
        example: false,
        span: "subcommands",
        log: "subcommands built the book",
    },
    Shape {
        package: "no-unsafe",
        init: &[],
        program: "no-unsafe",
        example: false,
        span: "shapes.no_unsafe",
        log: "no-unsafe did its work",
    },
    Shape {
        package: "old-stack",
        init: &["--force"],
        program: "old-stack",
        example: false,
        span: "shapes.old",
        log: "old-stack did its work",
    },
];

fn shape(program: &str) -> &'static Shape {
    SHAPES
        .iter()
        .find(|s| s.program == program)
        .expect("a shape")
}

/// `[[bin]] path = "crates/core/main.rs"`: the module goes beside the root.
#[test]
fn a_root_outside_src_gets_the_module_beside_it() {
    let shapes = shapes();
    let package = shapes.sources.join("layout");
    assert!(package.join("crates/core/otel.rs").is_file());
    assert!(!package.join("src").exists(), "init created `src/`");
    assert_shape_exports(shape("layout"));
}

/// `init --example demo`: the library's `[dependencies]` stay as they were, the example's
/// crates are dev-dependencies, and the module is not itself taken for an example.
#[test]
fn an_example_of_a_library_is_instrumented_with_dev_dependencies() {
    let shapes = shapes();
    let manifest = read(&shapes.sources.join("shapes-lib/Cargo.toml"));
    let (dependencies, dev) = manifest
        .split_once("[dev-dependencies]")
        .expect("a [dev-dependencies] table");
    assert!(
        dependencies.ends_with("[dependencies]\ntracing = \"0.1\"\n\n"),
        "the library's dependencies changed:\n{manifest}"
    );
    assert!(
        dev.contains("opentelemetry-otlp = { version = \"0.33.1\""),
        "{manifest}"
    );
    assert!(
        shapes
            .sources
            .join("shapes-lib/examples/otel/mod.rs")
            .is_file()
    );
    assert_shape_exports(shape("demo"));
}

/// An optional tracing-subscriber stays optional; the module gets one it can rely on.
#[test]
fn an_optional_dependency_is_not_relied_on() {
    let shapes = shapes();
    let manifest = read(&shapes.sources.join("optional-dep/Cargo.toml"));
    assert!(
        manifest.contains(
            "tracing-subscriber = { version = \"0.3\", optional = true, features = [\"json\"] }"
        ) && manifest.contains("[target.'cfg(all())'.dependencies]\ntracing-subscriber = "),
        "{manifest}"
    );
    assert_shape_exports(shape("optional-dep"));
}

/// Two binaries of one package: each is a service of its own.
#[test]
fn each_binary_reports_its_own_service_name() {
    assert_shape_exports(shape("alpha"));
    assert_shape_exports(shape("beta"));
}

/// axum from a path dependency: request spans are named after the route and carry it, and
/// what the handler logs belongs to the request's trace.
#[test]
fn a_framework_from_a_path_gets_routed_request_spans() {
    let shapes = shapes();
    assert!(
        shapes.init_output["routed"].contains("Detected axum 0.8.9 from path ../../vendor/axum"),
        "{}",
        shapes.init_output["routed"]
    );
    let shape = shape("routed");
    let collector = assert_shape_exports(shape);
    let telemetry = collector.held();
    let span = telemetry.find_span(shape.span).expect("checked above");
    assert_eq!(span.attribute("http.route"), Some("/items/{id}"));
    assert_eq!(span.attribute("http.request.method"), Some("GET"));
    assert_eq!(span.span.kind, 2, "SPAN_KIND_SERVER");
    // The request span is not a `tracing` span: the console with `RUST_LOG` is unchanged too.
    let before = shapes.before(shape).run(&[("RUST_LOG", "info")]);
    let endpoint = collector.endpoint();
    let after = shapes
        .after(shape)
        .run(&[("RUST_LOG", "info"), ("OTLP_GRPC_ENDPOINT", &endpoint)]);
    after.assert_success();
    assert_same_console(&before, &after);
}

/// A server written on hyper 1 itself (a file server's shape), with no framework object to
/// attach a layer to: `init` wraps the service its `service_fn` makes in the module's, whose
/// server spans continue the caller's trace and carry the request's method, path and status;
/// a 5xx marks the span failed. Console, responses and stdout stay as they were.
#[test]
fn a_hyper_service_gets_server_spans() {
    let shapes = shapes();
    let said = &shapes.init_output["hyper-service"];
    assert!(
        said.contains(
            "`let service = otel::hyper_service(service);` after the hyper service at `hyper-service/src/main.rs:34`"
        ),
        "{said}"
    );
    let shape = shape("hyper-service");
    let collector = assert_shape_exports(shape);
    let telemetry = collector.held();
    let request = |path: &str| {
        let span = telemetry
            .spans
            .iter()
            .find(|s| s.span.name == "GET" && s.attribute("url.path") == Some(path));
        span.unwrap_or_else(|| panic!("no span for {path}: {}", summary(&telemetry)))
    };
    let traced = request("/items/7");
    // From the fixture's `traceparent`.
    assert_eq!(
        hex(&traced.span.trace_id),
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(hex(&traced.span.parent_span_id), "b7ad6b7169203331");
    assert_eq!(traced.span.kind, 2, "SPAN_KIND_SERVER");
    assert_eq!(traced.attribute("http.request.method"), Some("GET"));
    assert_eq!(
        int_attribute(traced, "http.response.status_code"),
        Some(200)
    );
    assert_eq!(
        traced.span.status.as_ref().map_or(0, |s| s.code),
        0,
        "unset"
    );
    let failed = request("/fail");
    assert!(failed.span.parent_span_id.is_empty(), "a root span");
    assert_eq!(
        int_attribute(failed, "http.response.status_code"),
        Some(500)
    );
    assert_eq!(
        failed.span.status.as_ref().map(|s| s.code),
        Some(2),
        "error"
    );
    let record = telemetry
        .find_log(shape.log)
        .expect("checked by assert_shape_exports");
    assert_eq!(
        record.record.span_id, traced.span.span_id,
        "logged inside the request's span"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn int_attribute(span: &SpanRecord, key: &str) -> Option<i64> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    let value = span.span.attributes.iter().find(|kv| kv.key == key)?;
    match value.value.as_ref()?.value.as_ref()? {
        Value::IntValue(value) => Some(*value),
        _ => None,
    }
}

/// A command-line program with a server among its subcommands (hyper in its dependencies,
/// `serve` beside `build`): its runs are commands, so a `build` that opens no span of its own
/// still exports a span for the run, with what it logs inside.
#[test]
fn a_program_with_a_serve_subcommand_gets_a_span_for_its_run() {
    let shapes = shapes();
    let said = &shapes.init_output["subcommands"];
    assert!(said.contains("a span for the run"), "{said}");
    let shape = shape("subcommands");
    let collector = assert_shape_exports(shape);
    let telemetry = collector.held();
    let run = telemetry.find_span(shape.span).expect("checked above");
    let record = telemetry.find_log(shape.log).expect("checked above");
    assert_eq!(record.record.span_id, run.span.span_id, "logged in the run");
}

/// An older OpenTelemetry, one of it under `[target.'cfg(unix)'.dependencies]`: `init`
/// refuses and names each, `--force` upgrades them to a manifest that builds and exports.
/// A crate root with `#![forbid(unsafe_code)]`: the module comes without its
/// exit hooks (libc calls no `allow` can permit there), so the crate compiles,
/// keeps its console and exports; `init` says what was left out.
#[test]
fn a_crate_that_forbids_unsafe_code_compiles_and_exports() {
    let shapes = shapes();
    let said = &shapes.init_output["no-unsafe"];
    assert!(said.contains("forbids `unsafe_code`"), "{said}");
    let module = read(&shapes.sources.join("no-unsafe/src/otel.rs"));
    assert!(
        !module.contains("libc::"),
        "the exit hooks are in the module"
    );
    let manifest = read(&shapes.sources.join("no-unsafe/Cargo.toml"));
    assert!(!manifest.contains("libc"), "{manifest}");
    assert_shape_exports(shape("no-unsafe"));
}

#[test]
fn an_older_opentelemetry_is_refused_then_replaced_with_force() {
    let shapes = shapes();
    let refused = &shapes.init_output["old-stack (without --force)"];
    for expected in [
        "opentelemetry = \"0.30\" in [target.'cfg(unix)'.dependencies], needs 0.33.1",
        "opentelemetry-otlp = \"0.30\" in [dependencies], needs 0.33.1",
        "help: `cargo otel init --force` upgrades them",
    ] {
        assert!(
            refused.contains(expected),
            "expected {expected:?} in:\n{refused}"
        );
    }
    let forced = &shapes.init_output["old-stack"];
    assert!(
        forced.contains("Removing feature `tls` of opentelemetry-otlp"),
        "{forced}"
    );
    assert_shape_exports(shape("old-stack"));
}

#[test]
fn init_again_changes_nothing_for_any_shape() {
    let shapes = shapes();
    for shape in &SHAPES {
        let said = init_shape(&shapes.sources, shape);
        assert!(
            said.contains("nothing to change"),
            "second init of {}:\n{said}",
            shape.program
        );
    }
}

/// Runs the program before and after `init` with the default environment: the same exit
/// code, stdout and console, and its span and log record at the collector, from its own
/// service. Returns the collector.
fn assert_shape_exports(shape: &Shape) -> Collector {
    let shapes = shapes();
    let collector = start_collector(CollectorConfig::loopback());
    let endpoint = collector.endpoint();
    let after = shapes
        .after(shape)
        .run(&[("OTLP_GRPC_ENDPOINT", &endpoint)]);
    after.assert_success();
    match shape.package {
        // Not built before: it would compile OpenTelemetry 0.30. It prints one line, and its
        // console (fmt's, errors only) stays empty.
        "old-stack" => assert_eq!(console(&after), ("old-stack done\n".into(), String::new())),
        _ => {
            let before = shapes.before(shape).run(&[]);
            before.assert_success();
            assert_same_console(&before, &after);
        }
    }
    assert_span_and_log(&collector, shape.span, shape.log, shape.program, &after);
    collector
}

struct Shapes {
    sources: PathBuf,
    before_dir: PathBuf,
    after_dir: PathBuf,
    /// What `init` printed, by program (`old-stack (without --force)` for the refusal).
    init_output: std::collections::BTreeMap<String, String>,
    _scratch: tempfile::TempDir,
}

impl Shapes {
    fn before(&self, shape: &Shape) -> App {
        Self::app(&self.before_dir, shape)
    }

    fn after(&self, shape: &Shape) -> App {
        let dir = match shape.example {
            true => self.after_dir.join("examples"),
            false => self.after_dir.clone(),
        };
        Self::app(&dir, shape)
    }

    fn app(dir: &Path, shape: &Shape) -> App {
        App::built(dir, shape.program, shape.package)
    }
}

fn shapes() -> &'static Shapes {
    static SHAPES_BUILT: OnceLock<Result<Shapes, String>> = OnceLock::new();
    built_once(&SHAPES_BUILT, build_shapes)
}

fn build_shapes() -> Shapes {
    let target_dir = shared_target_dir();
    let scratch = tempfile::tempdir().expect("create a temporary directory");
    copy_registry_crate("axum", "0.8.9", &scratch.path().join("vendor/axum"));
    let sources = scratch.path().join("shapes");
    support::copy_tree(&support::repo_root().join(SHAPES_FIXTURE), &sources);

    cargo_build(
        &sources,
        &target_dir,
        &[
            "--workspace",
            "--exclude",
            "old-stack",
            "--bins",
            "--examples",
        ],
    );
    let before_dir = scratch.path().join("before");
    fs::create_dir_all(&before_dir).expect("create the before directory");
    for shape in SHAPES.iter().filter(|s| s.package != "old-stack") {
        let built = match shape.example {
            true => target_dir.join("debug/examples"),
            false => target_dir.join("debug"),
        };
        let name = format!("{}{}", shape.program, env::consts::EXE_SUFFIX);
        fs::copy(built.join(&name), before_dir.join(&name))
            .unwrap_or_else(|e| panic!("copy {name}: {e}"));
    }

    let mut init_output = std::collections::BTreeMap::new();
    let refused = support::cargo_otel(&sources)
        .args(["init", "-p", "old-stack"])
        .output()
        .expect("run cargo-otel");
    assert_eq!(refused.status.code(), Some(1), "init without --force");
    init_output.insert(
        "old-stack (without --force)".to_owned(),
        String::from_utf8_lossy(&refused.stderr).into_owned(),
    );
    for shape in &SHAPES {
        init_output.insert(shape.program.to_owned(), init_shape(&sources, shape));
    }
    cargo_build(
        &sources,
        &target_dir,
        &["--workspace", "--bins", "--examples"],
    );
    Shapes {
        sources,
        before_dir,
        after_dir: target_dir.join("debug"),
        init_output,
        _scratch: scratch,
    }
}

/// `cargo otel init -p <package> <args>`, which must succeed; what it printed.
fn init_shape(dir: &Path, shape: &Shape) -> String {
    init_with(dir, &[&["-p", shape.package], shape.init].concat())
}

/// Copies crate `name` `version` out of cargo's registry cache (fetched first) to `to`: a
/// framework from a path, without committing its code.
fn copy_registry_crate(name: &str, version: &str, to: &Path) {
    let probe = tempfile::tempdir().expect("create a temporary directory");
    fs::create_dir(probe.path().join("src")).expect("create src");
    fs::write(probe.path().join("src/lib.rs"), "").expect("write lib.rs");
    fs::write(
        probe.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{name} = {{ version = \"={version}\", default-features = false }}\n"
        ),
    )
    .expect("write the probe's manifest");
    let output = support::cargo(probe.path())
        .args(["metadata", "--format-version", "1"])
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let manifest = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name && p["version"] == version)
        .and_then(|p| p["manifest_path"].as_str())
        .unwrap_or_else(|| panic!("{name} {version} is not in cargo's registry cache"));
    let source = Path::new(manifest).parent().expect("the crate's directory");
    support::copy_tree(source, to);
}

/// `init` adds crates, and must not move the program's locked versions of the
/// ones it already has: a newer libc (0.2.191) dropped a constant a locked
/// crate used (seen on a real file server), so its build broke after `init`.
/// Resolution only, no build.
#[test]
fn init_keeps_the_locked_libc() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("locked");
    fs::create_dir_all(root.join("src")).unwrap();
    fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"locked\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\ntokio = { version = \"1\", features = [\"rt-multi-thread\", \"net\"] }\n",
    )
    .unwrap();
    fs::write(
        root.join("src/main.rs"),
        "fn main() {\n    println!(\"locked\");\n}\n",
    )
    .unwrap();
    // A program locked to an older tokio (and the mio and libc it allowed).
    let pinned = "0.2.188";
    for args in [
        &["generate-lockfile"][..],
        &["update", "-p", "tokio", "--precise", "1.53.1"],
        &["update", "-p", "mio", "--precise", "1.2.0"],
        &["update", "-p", "libc", "--precise", pinned],
    ] {
        let out = support::cargo(&root).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = support::cargo_otel(&root).arg("init").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = support::cargo(&root)
        .args(["metadata", "--format-version", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lock = read(&root.join("Cargo.lock"));
    let libc: Vec<&str> = lock
        .split("[[package]]")
        .filter(|p| p.contains("name = \"libc\""))
        .collect();
    assert_eq!(libc.len(), 1, "{lock}");
    assert!(
        libc[0].contains(&format!("version = \"{pinned}\"")),
        "{}",
        libc[0]
    );
}

/// A program whose committed `Cargo.lock` (tests/fixtures/e2e/stale-lock) holds tokio 1.34.0
/// and tokio-util 0.7.4. tokio-util 0.7.4 meets what tonic declares but lacks what it uses
/// (`cancelled_owned`, 0.7.5), and cargo keeps it while adding the stack (seen on a real
/// actix-web API); tokio cargo moves by itself. `init` raises tokio-util in the lock and leaves
/// tokio to cargo: the program builds, its span and log record arrive, and `init` again
/// changes nothing.
#[test]
fn a_stale_lock_is_raised_to_what_the_stack_compiles_with() {
    let scratch = tempfile::tempdir().expect("create a temporary directory");
    let dir = scratch.path().join("stale-lock");
    let fixture = support::repo_root().join("tests/fixtures/e2e/stale-lock");
    support::copy_tree(&fixture, &dir);
    let said = init_with(&dir, &[]);
    assert!(said.contains("Updating tokio-util v0.7.4 -> v"), "{said}");
    assert!(!said.contains("Updating tokio v"), "{said}");
    let lock = read(&dir.join("Cargo.lock"));
    assert!(locked(&lock, "tokio-util") >= (0, 7, 5), "{lock}");

    let target_dir = shared_target_dir();
    cargo_build(&dir, &target_dir, &[]);
    let app = App::built(&target_dir.join("debug"), "stale-lock", "stale-lock");
    let collector = start_collector(CollectorConfig::loopback());
    let run = app.run(&[("OTLP_GRPC_ENDPOINT", &collector.endpoint())]);
    run.assert_success();
    assert_eq!(run.stdout, "stale-lock done\n", "{run}");
    assert_span_and_log(
        &collector,
        "stale.work",
        "stale-lock did its work",
        "stale-lock",
        &run,
    );
    let built = read(&dir.join("Cargo.lock"));
    assert!(locked(&built, "tokio") >= (1, 38, 0), "{built}");
    let again = init_with(&dir, &[]);
    assert!(again.contains("nothing to change"), "{again}");
    let after = read(&dir.join("Cargo.lock"));
    assert!(after == built, "the second init moved the lock");
}

/// The one version of `name` in `lock`, as numbers.
fn locked(lock: &str, name: &str) -> (u64, u64, u64) {
    let versions: Vec<&str> = lock
        .split("[[package]]")
        .filter(|p| p.contains(&format!("name = \"{name}\"\n")))
        .filter_map(|p| p.split("version = \"").nth(1)?.split('"').next())
        .collect();
    let [version] = versions[..] else {
        panic!("not one {name} in the lock: {versions:?}");
    };
    let number = |part: Option<&str>| part.and_then(|p| p.parse().ok()).unwrap_or(0);
    let mut parts = version.split('.');
    (
        number(parts.next()),
        number(parts.next()),
        number(parts.next()),
    )
}
