//! End to end across services: the `tests/fixtures/services` workspace
//! (`front`, axum, calls `back`, axum, over reqwest on loopback) after a real
//! `cargo otel init` of each member, run by `cargo otel dash --workspace`;
//! and the `tests/fixtures/actix` crate (actix-web) after init, run against
//! the built-in backend.
//!
//! Asserted: one trace holds front's server span, its client span and back's
//! server span with the right parents and both service names (read back
//! through the dashboard's JSON API, from the built-in dashboard and from
//! the Docker stand-in); the merged output carries the service prefixes;
//! actix-web's server span has `http.route`; each lockfile has a single
//! opentelemetry version.
//!
//! All fixtures build into the target directory the other end-to-end tests
//! share, so the OpenTelemetry stack compiles once.

#![allow(clippy::print_stdout, reason = "the merged output is shown on failure")]

use std::{
    io::{BufRead as _, BufReader, Read as _},
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, OnceLock, mpsc},
    thread,
    time::Duration,
};

use cargo_otel::backend::{
    Backend, BackendConfig,
    model::{SpanDetail, TraceDetail, TraceQuery},
};

use crate::support;
use crate::support::http::WebSession;

/// How long a whole `dash` run (build included) may take.
const RUN_LIMIT: Duration = Duration::from_secs(900);

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn one_trace_spans_both_services_in_the_built_in_dashboard() {
    let services = services();
    let port = free_port();
    let mut dash = Dash::start(
        &services.root,
        &["--backend", "local", "--grpc-port", "0", "--http-port", "0"],
        port,
    );
    let stderr = dash.wait_for("    Finished exited: ");
    assert!(
        stderr.contains("    Finished exited: `back` with code 0, `front` with code 0"),
        "{stderr}"
    );
    let session = dash.session();
    assert_connected_trace(&session);
    let (status, stdout, stderr) = dash.interrupt();
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.contains("front | front got: hello, item 42 done"),
        "{stdout}"
    );
    assert!(stdout.contains("back  | back listening on "), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "Ready `back` accepts connections on 127.0.0.1:{port}"
        )),
        "{stderr}"
    );
    println!("--- merged output of `cargo otel dash --workspace`:\n{stdout}{stderr}");
}

#[test]
fn one_trace_spans_both_services_in_the_docker_stand_in() {
    let Some(docker) = support::docker::docker() else {
        return;
    };
    let image = support::docker::stand_in_image(&docker).image.clone();
    let services = services();
    let root = std::fs::canonicalize(&services.root).expect("the workspace root");
    let container = cargo_otel::docker::container::container_name(&root.display().to_string());
    let _cleanup = RemoveContainer(&docker, container);
    let port = free_port();
    let mut dash = Dash::start(
        &services.root,
        &[
            "--backend",
            "docker",
            "--image",
            &image,
            "--grpc-port",
            "0",
            "--http-port",
            "0",
        ],
        port,
    );
    let stderr = dash.wait_for("    Finished exited: ");
    assert!(
        stderr.contains("    Finished exited: `back` with code 0, `front` with code 0"),
        "{stderr}"
    );
    // `--keep`: the container outlives the run, so its API can be asked.
    let (status, _, stderr) = dash.wait();
    drop(dash);
    assert!(status.success(), "{stderr}");
    let session = Dash::session_from(&stderr);
    assert_connected_trace(&session);
}

/// `back` is never ready on the port waited for, so `front` is never
/// started; Ctrl-C stops `back` (the signal passed on after a second), and
/// its 130 is dash's code.
#[test]
fn ctrl_c_while_waiting_stops_the_started_services() {
    let services = services();
    let mut dash = Dash::start_with(
        &services.root,
        &["--backend", "local", "--grpc-port", "0", "--http-port", "0"],
        Some(free_port()),
        free_port(),
    );
    dash.wait_for("     Running ");
    wait_until_listening(&mut dash);
    dash.signal();
    // `--keep`: the dashboard then waits for a second signal; `kill`'s
    // SIGTERM must end it too, not only Ctrl-C.
    dash.wait_for("    Finished exited: ");
    let (status, stdout, stderr) = dash.stop_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("    Stopping the programs"), "{stderr}");
    assert!(
        stderr.contains("      Exited `back` with code 130"),
        "{stderr}"
    );
    assert!(!stdout.contains("front |"), "front was started:\n{stdout}");
}

/// A program that fails while it is waited for ends the run with its code.
#[test]
fn a_failing_service_decides_the_exit_code() {
    let services = services();
    let mut dash = Dash::start_with(
        &services.root,
        &["--backend", "local", "--grpc-port", "0", "--http-port", "0"],
        None,
        free_port(),
    );
    let (status, stdout, stderr) = {
        dash.wait_for("    Finished exited: ");
        dash.interrupt()
    };
    assert_eq!(status.code(), Some(101), "{stderr}");
    assert!(
        stderr.contains("      Exited `back` with code 101"),
        "{stderr}"
    );
    assert!(
        stderr.contains("BACK_PORT"),
        "back's panic is shown:\n{stderr}"
    );
    assert!(!stdout.contains("front |"), "front was started:\n{stdout}");
}

fn wait_until_listening(dash: &mut Dash) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if dash.stdout_so_far().contains("back  | back listening on ") {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("back never said it listens:\n{}", dash.stdout_so_far());
}

#[test]
fn actix_web_exports_a_server_span_with_the_route() {
    let actix = &fixtures().actix;
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    let mut config = BackendConfig::loopback("actix");
    for addr in [&mut config.grpc, &mut config.http, &mut config.ui] {
        addr.set_port(0);
    }
    let backend = runtime
        .block_on(Backend::start(config))
        .expect("start the backend");
    let mut command = Command::new(actix);
    support::hermetic(&mut command).envs(backend.env());
    let output = command.output().expect("run actix-app");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("actix-app got: item 7"));

    let store = backend.store();
    let traces = store.traces(&TraceQuery::default());
    assert_eq!(traces.len(), 1, "{traces:?}");
    let trace = store.trace(&traces[0].trace_id).expect("the trace");
    let span = &trace.spans[0];
    assert_eq!(
        (span.kind.as_str(), span.service.as_str()),
        ("server", "actix-app")
    );
    assert_eq!(
        attribute(span, "http.route"),
        Some("/items/{id}"),
        "{span:?}"
    );
    runtime.block_on(backend.stop()).expect("stop the backend");
}

// ---------------------------------------------------------------------------------------------
// The connected trace

/// front `GET /hello` (server) -> front `GET` (client) -> back `GET /work/{item}` (server).
fn assert_connected_trace(session: &WebSession) {
    session.wait_for(support::docker::PATIENCE, |s| s.held.spans >= 3);
    let traces = session.traces();
    let trace = traces
        .iter()
        .find(|t| t.root_name == "GET /hello")
        .unwrap_or_else(|| panic!("no `GET /hello` trace in {traces:?}"));
    let detail: TraceDetail = session.json(&format!("/api/traces/{}", trace.trace_id));
    let find = |service: &str, kind: &str| -> &SpanDetail {
        detail
            .spans
            .iter()
            .find(|s| s.service == service && s.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} span of {service} in {detail:?}"))
    };
    let front = find("front", "server");
    let call = find("front", "client");
    let back = find("back", "server");
    assert_eq!(front.name, "GET /hello");
    assert_eq!(front.parent_span_id, "", "front's server span is the root");
    assert_eq!(call.parent_span_id, front.span_id, "{detail:?}");
    assert_eq!(back.parent_span_id, call.span_id, "{detail:?}");
    assert_eq!(attribute(back, "http.route"), Some("/work/{item}"));
    assert_eq!(attribute(call, "http.response.status_code"), Some("200"));
    assert_eq!(trace.services.len(), 2, "{trace:?}");
}

fn attribute<'s>(span: &'s SpanDetail, key: &str) -> Option<&'s str> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .map(|a| a.value.as_str())
}

// ---------------------------------------------------------------------------------------------
// Running `dash`

/// A `cargo otel dash --workspace --keep` run, its stderr read as it comes.
struct Dash {
    child: Child,
    stderr: Arc<Mutex<String>>,
    lines: mpsc::Receiver<()>,
    stdout: Option<thread::JoinHandle<String>>,
    stdout_text: Arc<Mutex<String>>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Dash {
    fn start(root: &Path, args: &[&str], back_port: u16) -> Self {
        Self::start_with(root, args, Some(back_port), back_port)
    }

    /// `back_port`: `BACK_PORT` for the programs (`None`: unset, so `back`
    /// fails); `wait_port`: the port `--wait-port back=` waits for.
    fn start_with(root: &Path, args: &[&str], back_port: Option<u16>, wait_port: u16) -> Self {
        let wait = format!("back={wait_port}");
        let mut command = support::cargo_otel(root);
        command
            .args(["dash", "--workspace", "--keep", "--ui-port", "0"])
            .args(["--wait-port", &wait])
            .args(args)
            .env("CARGO_TARGET_DIR", target_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(port) = back_port {
            command.env("BACK_PORT", port.to_string());
        }
        let mut child = command.spawn().expect("run cargo otel dash");
        let mut out = child.stdout.take().expect("piped");
        let stdout_text = Arc::new(Mutex::new(String::new()));
        let shared_out = Arc::clone(&stdout_text);
        let stdout = thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = out.read(&mut buffer) {
                let text = String::from_utf8_lossy(&buffer[..n]);
                shared_out.lock().unwrap().push_str(&text);
            }
            shared_out.lock().unwrap().clone()
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let err = BufReader::new(child.stderr.take().expect("piped"));
        let shared = Arc::clone(&stderr);
        let reader = thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                shared.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(());
            }
        });
        Self {
            child,
            stderr,
            lines,
            stdout: Some(stdout),
            stdout_text,
            reader: Some(reader),
        }
    }

    fn stdout_so_far(&self) -> String {
        self.stdout_text.lock().unwrap().clone()
    }

    /// Waits until stderr contains `text`; returns stderr so far.
    fn wait_for(&mut self, text: &str) -> String {
        let deadline = std::time::Instant::now() + RUN_LIMIT;
        loop {
            let so_far = self.stderr.lock().unwrap().clone();
            if so_far.contains(text) {
                return so_far;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(()) => {}
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no {text:?} from dash:\n{so_far}");
                }
            }
        }
    }

    fn session(&self) -> WebSession {
        Self::session_from(&self.stderr.lock().unwrap())
    }

    fn session_from(stderr: &str) -> WebSession {
        let link = stderr
            .split("Dashboard http://localhost:")
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .unwrap_or_else(|| panic!("no login link in:\n{stderr}"));
        let (port, token) = link.split_once("/login?t=").expect("a login link");
        let ui = SocketAddr::from(([127, 0, 0, 1], port.parse().expect("a port")));
        WebSession::login(ui, Some(token.trim()))
    }

    /// Ctrl-C, as a terminal would send it (the built-in dashboard stays up
    /// with `--keep` until then), repeated until `dash` exits: one that lands
    /// between the programs' end and the dashboard's wait for it would
    /// otherwise be missed.
    fn interrupt(self) -> (std::process::ExitStatus, String, String) {
        self.stop_with(libc::SIGINT)
    }

    fn stop_with(mut self, signal: libc::c_int) -> (std::process::ExitStatus, String, String) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            self.send(signal);
            thread::sleep(Duration::from_millis(500));
        }
        self.wait()
    }

    fn signal(&self) {
        self.send(libc::SIGINT);
    }

    fn send(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: `kill` has no memory-safety preconditions; the child is ours
        // and not yet reaped.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    fn wait(&mut self) -> (std::process::ExitStatus, String, String) {
        let status = self.child.wait().expect("wait for dash");
        if let Some(reader) = self.reader.take() {
            reader.join().expect("stderr reader");
        }
        let stdout = match self.stdout.take() {
            Some(stdout) => stdout.join().expect("stdout reader"),
            None => self.stdout_so_far(),
        };
        let stderr = self.stderr.lock().unwrap().clone();
        (status, stdout, stderr)
    }
}

/// A failed test must not leave `dash` (and its dashboard) running.
impl Drop for Dash {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Removes the stand-in container at the end of the test, however it ends.
struct RemoveContainer<'d>(&'d bollard::Docker, String);

impl Drop for RemoveContainer<'_> {
    fn drop(&mut self) {
        support::docker::remove_container(self.0, &self.1);
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

// ---------------------------------------------------------------------------------------------
// One-time setup: copy, init, check the lockfile

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-init-target")
}

struct Services {
    root: PathBuf,
}

struct Fixtures {
    /// The instrumented `services` workspace (built by `dash` itself).
    services: Services,
    /// The built, instrumented actix-web program.
    actix: PathBuf,
    _scratch: tempfile::TempDir,
}

fn services() -> &'static Services {
    &fixtures().services
}

/// Copies and instruments the fixtures once; a failure is remembered so the
/// other tests fail at once with the same message.
fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Result<Fixtures, String>> = OnceLock::new();
    let fixtures = FIXTURES.get_or_init(|| support::setup_once(prepare));
    match fixtures {
        Ok(fixtures) => fixtures,
        Err(message) => panic!("fixture setup failed: {message}"),
    }
}

fn prepare() -> Fixtures {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let sources = support::repo_root().join("tests/fixtures");

    let root = scratch.path().join("services");
    support::copy_tree(&sources.join("services"), &root);
    let back = init(&root, Some("back"));
    assert!(back.contains("Detected axum ^0.8 (server)"), "{back}");
    // The router is built in a module: the layer goes on what `axum::serve` runs.
    assert!(
        back.contains("`.layer(otel::http_layer())` on the `Router` at `back/src/main.rs:"),
        "{back}"
    );
    let front = init(&root, Some("front"));
    assert!(
        front.contains("Detected axum ^0.8 (server), reqwest ^0.13 (client)"),
        "{front}"
    );
    assert!(
        front.contains("Wiring front/src/main.rs: `mod otel;` and `otel::init()` in `main` and `.layer(otel::http_layer())` on the `Router`"),
        "{front}"
    );
    assert_one_opentelemetry(&root);

    let actix = scratch.path().join("actix");
    support::copy_tree(&sources.join("actix"), &actix);
    let output = init(&actix, None);
    assert!(
        output.contains("Detected actix-web ^4 (server)"),
        "{output}"
    );
    assert!(
        output.contains("`.wrap(otel::actix_tracing())` on the `App` at `src/main.rs:"),
        "{output}"
    );
    assert_one_opentelemetry(&actix);
    let build = support::output_one_build_at_a_time(
        support::cargo(&actix)
            .arg("build")
            .env("CARGO_TARGET_DIR", target_dir()),
    );
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(build.status.success(), "{}", support::cargo_errors(&stderr));
    assert!(!stderr.contains("warning"), "{stderr}");

    Fixtures {
        services: Services { root },
        actix: target_dir().join("debug/actix-app"),
        _scratch: scratch,
    }
}

/// `cargo otel init [-p package]`; returns its stderr.
fn init(dir: &Path, package: Option<&str>) -> String {
    let mut command = support::cargo_otel(dir);
    command.arg("init");
    if let Some(package) = package {
        command.args(["-p", package]);
    }
    let output = command.output().expect("run cargo otel init");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "init failed:\n{stderr}");
    stderr
}

/// The resolved dependency graph (this writes `Cargo.lock`) has exactly one
/// `opentelemetry`: the instrumentation crates agree with the stack.
fn assert_one_opentelemetry(dir: &Path) {
    let output = support::cargo(dir)
        .args(["metadata", "--format-version", "1"])
        .output()
        .expect("cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let versions: Vec<&str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["name"] == "opentelemetry")
        .filter_map(|p| p["version"].as_str())
        .collect();
    assert_eq!(
        versions,
        ["0.33.1"],
        "opentelemetry versions in {}",
        dir.display()
    );
}
