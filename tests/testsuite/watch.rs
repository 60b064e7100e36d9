//! `cargo otel dash --watch` end to end: the `demo-multi` fixture after a
//! real `cargo otel init`, run by `dash --backend local --watch --save FILE`
//! (and once against the Docker stand-in), its sources edited while it runs.
//!
//! Asserted: an edit that renames the span rebuilds and reruns the program
//! (the running one stopped gracefully, its shutdown span still arriving),
//! and both spans are in FILE, each with its own `cargo_otel.run`; an edit
//! that breaks the build leaves the dashboard up and the fix runs; Ctrl-C
//! during a build (to the process group, as a terminal sends it) and during
//! a run (to `cargo-otel` alone) ends everything with code 0 and leaves no
//! process of the group behind.
//!
//! The fixture builds into the target directory the other end-to-end tests
//! share, so the OpenTelemetry stack compiles once; the tests of this file
//! take turns, since two cargo builds into one target directory can break
//! each other (see `support::output_one_build_at_a_time`).

#![allow(clippy::print_stdout, reason = "dash's output is shown on failure")]

use std::{
    io::{BufRead as _, BufReader, Read},
    net::SocketAddr,
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, ExitStatus, Stdio},
    sync::{Arc, Mutex, MutexGuard, mpsc},
    thread,
    time::{Duration, Instant},
};

use crate::support::{self, docker as docker_support, http::WebSession};
use cargo_otel::backend::model::TraceSummary;

const SPAN: &str = "e2e.work";
const RENAMED: &str = "e2e.renamed";
const SHUTDOWN_SPAN: &str = "e2e.shutdown";
const WAITING: &str = "demo-multi waiting for Ctrl-C";
/// How long a build and run may take (the first one compiles the
/// OpenTelemetry stack on 2 shared cores).
const PATIENCE: Duration = Duration::from_secs(900);
const FREE_PORTS: [&str; 6] = ["--ui-port", "0", "--grpc-port", "0", "--http-port", "0"];

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn a_renamed_span_is_rebuilt_and_rerun_with_its_own_run_label() {
    let _turn = one_at_a_time();
    let project = Project::new();
    let mut dash = project.watch(&["--backend", "local"], true);
    dash.wait_stdout(WAITING, 1);
    project.edit(|main| main.replace(&quoted(SPAN), &quoted(RENAMED)));
    let stderr = dash.wait_stderr("Finished run 1");
    assert!(stderr.contains("     Changed src/main.rs"), "{stderr}");
    dash.wait_stdout(WAITING, 2);
    let (status, stderr) = dash.interrupt_group();
    assert!(status.success(), "dash after Ctrl-C: {status}\n{stderr}");
    assert!(stderr.contains("Finished run 2"), "{stderr}");
    let spans = saved_spans(&project.saved());
    assert_eq!(run_of(&spans, SPAN), Some(1), "{spans:?}");
    assert_eq!(run_of(&spans, SHUTDOWN_SPAN), Some(1), "{spans:?}");
    assert_eq!(run_of(&spans, RENAMED), Some(2), "{spans:?}");
    assert_no_process_left(&dash);
}

#[test]
fn a_broken_build_keeps_the_dashboard_up_and_the_fix_runs() {
    let _turn = one_at_a_time();
    let project = Project::new();
    let mut dash = project.watch(&["--backend", "local"], false);
    let stderr = dash.wait_stderr("Finished run 1");
    assert!(stderr.contains("the dashboard received 1 span"), "{stderr}");
    project.edit(|main| format!("{main}\ncompile_error!(\"broken on purpose\");\n"));
    let stderr = dash.wait_stderr("the next change builds again");
    assert!(stderr.contains("broken on purpose"), "{stderr}");
    assert!(
        stderr.contains("error: could not build `demo-multi`"),
        "{stderr}"
    );
    let session = dash.session();
    assert!(has_span(&session.traces(), SPAN), "run 1 is gone");
    project.edit(|main| {
        main.replace("\ncompile_error!(\"broken on purpose\");\n", "")
            .replace(&quoted(SPAN), &quoted(RENAMED))
    });
    dash.wait_stderr("Finished run 2");
    let second: Vec<TraceSummary> = session.json("/api/traces?run=2");
    assert!(has_span(&second, RENAMED), "{second:?}");
    assert!(!has_span(&second, SPAN), "{second:?}");
    let (status, stderr) = dash.interrupt_group();
    assert!(status.success(), "dash after Ctrl-C: {status}\n{stderr}");
    assert_no_process_left(&dash);
}

#[test]
fn ctrl_c_during_a_build_stops_it_and_ends_dash() {
    let _turn = one_at_a_time();
    let project = Project::new();
    let mut dash = project.watch(&["--backend", "local"], false);
    dash.wait_stderr("Finished run 1");
    project.edit(|main| main.replace(&quoted(SPAN), &quoted(RENAMED)));
    dash.wait_stderr("     Changed src/main.rs");
    let (status, stderr) = dash.interrupt_group();
    assert!(status.success(), "dash after Ctrl-C: {status}\n{stderr}");
    assert!(stderr.contains("Interrupted"), "{stderr}");
    assert!(!stderr.contains("Finished run 2"), "{stderr}");
    assert_no_process_left(&dash);
}

#[test]
fn ctrl_c_during_a_run_lets_the_program_flush_and_ends_dash() {
    let _turn = one_at_a_time();
    let project = Project::new();
    let mut dash = project.watch(&["--backend", "local"], true);
    dash.wait_stdout(WAITING, 1);
    // To `cargo-otel` alone (`kill -INT`): it passes the signal on.
    dash.signal(libc::SIGINT);
    let (status, stderr) = dash.wait();
    assert!(status.success(), "dash after Ctrl-C: {status}\n{stderr}");
    assert!(stderr.contains("Finished run 1"), "{stderr}");
    let spans = saved_spans(&project.saved());
    assert_eq!(run_of(&spans, SHUTDOWN_SPAN), Some(1), "{spans:?}");
    assert_no_process_left(&dash);
}

/// The Docker stand-in: the rerun's span is found by its run.
#[test]
fn the_container_sees_each_run_under_its_own_label() {
    let Some(docker) = docker_support::docker() else {
        return;
    };
    let _turn = one_at_a_time();
    let image = docker_support::stand_in_image(&docker).image.clone();
    let project = Project::new();
    let root = std::fs::canonicalize(project.path()).expect("the project directory");
    let container = cargo_otel::docker::container::container_name(&root.display().to_string());
    let _cleanup = RemoveContainer(&docker, container);
    let mut dash = project.watch(&["--backend", "docker", "--image", &image], false);
    dash.wait_stderr("Finished run 1");
    project.edit(|main| main.replace(&quoted(SPAN), &quoted(RENAMED)));
    dash.wait_stderr("Finished run 2");
    let session = dash.session();
    let deadline = Instant::now() + docker_support::PATIENCE;
    loop {
        let second: Vec<TraceSummary> = session.json("/api/traces?run=2");
        if has_span(&second, RENAMED) {
            assert!(!has_span(&second, SPAN), "{second:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no {RENAMED} in run 2: {second:?}"
        );
        thread::sleep(Duration::from_millis(100));
    }
    let (status, stderr) = dash.interrupt_group();
    assert!(status.success(), "dash after Ctrl-C: {status}\n{stderr}");
    assert_no_process_left(&dash);
}

// ---------------------------------------------------------------------------------------------
// The fixture

/// A fresh copy of `demo-multi`, instrumented by `cargo otel init`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let dir = support::instrumented_copy("e2e/demo-multi");
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn saved(&self) -> PathBuf {
        self.path().join("telemetry.jsonl")
    }

    /// Rewrites `src/main.rs` as a save from an editor would.
    fn edit(&self, change: impl FnOnce(&str) -> String) {
        let main = self.path().join("src/main.rs");
        let text = std::fs::read_to_string(&main).expect("read main.rs");
        let changed = change(&text);
        assert_ne!(changed, text, "the edit changed nothing");
        std::fs::write(&main, changed).expect("write main.rs");
    }

    /// `cargo otel dash --watch --save FILE ARGS` in a process group of its
    /// own; with `wait`, the program waits for Ctrl-C after its span.
    fn watch(&self, args: &[&str], wait: bool) -> Dash {
        let saved = self.saved();
        let mut command = support::cargo_otel(self.path());
        command
            .args(["dash", "--watch"])
            .args(args)
            .args(FREE_PORTS)
            .env("CARGO_TARGET_DIR", target_dir())
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if args.contains(&"local") {
            command.arg("--save").arg(&saved);
        }
        if wait {
            command.env("E2E_WAIT_FOR_CTRL_C", "1");
        }
        Dash::start(command.spawn().expect("start cargo otel dash"))
    }
}

/// Shared with the other end-to-end tests, so the OpenTelemetry stack compiles once.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-init-target")
}

/// The tests of this file one after another (each builds into the shared
/// target directory while it runs).
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

// ---------------------------------------------------------------------------------------------
// Running `dash --watch`

/// A running `dash --watch`, its output collected as it comes.
struct Dash {
    child: Child,
    stdout: Output,
    stderr: Output,
}

/// One stream of `dash`, read by a thread of its own.
#[derive(Clone)]
struct Output {
    text: Arc<Mutex<String>>,
    lines: Arc<Mutex<mpsc::Receiver<()>>>,
}

impl Output {
    fn read(stream: impl Read + Send + 'static) -> Self {
        let text = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let shared = Arc::clone(&text);
        thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                shared.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(());
            }
        });
        Self {
            text,
            lines: Arc::new(Mutex::new(lines)),
        }
    }

    fn so_far(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Waits until `text` appears `times` times; returns the output so far.
    fn wait_for(&self, text: &str, times: usize) -> Result<String, String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let so_far = self.so_far();
            if so_far.matches(text).count() >= times {
                return Ok(so_far);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if self.lines.lock().unwrap().recv_timeout(left).is_err() {
                return Err(so_far);
            }
        }
    }
}

impl Dash {
    fn start(mut child: Child) -> Self {
        let stdout = Output::read(child.stdout.take().expect("piped"));
        let stderr = Output::read(child.stderr.take().expect("piped"));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    fn wait_stderr(&mut self, text: &str) -> String {
        match self.stderr.wait_for(text, 1) {
            Ok(stderr) => stderr,
            Err(stderr) => self.fail(&format!("no {text:?} on stderr"), &stderr),
        }
    }

    fn wait_stdout(&mut self, text: &str, times: usize) {
        if let Err(stdout) = self.stdout.wait_for(text, times) {
            let stderr = self.stderr.so_far();
            self.fail(
                &format!("no {times}x {text:?} on stdout"),
                &format!("{stdout}\n{stderr}"),
            );
        }
    }

    fn fail(&mut self, what: &str, output: &str) -> ! {
        self.signal_group(libc::SIGKILL);
        let _ = self.child.wait();
        panic!("{what}:\n{output}");
    }

    /// The dashboard, signed in with the link `dash` printed.
    fn session(&self) -> WebSession {
        let stderr = self.stderr.so_far();
        let link = stderr
            .split("Dashboard http://localhost:")
            .nth(1)
            .and_then(|rest| rest.lines().next());
        let (port, token) = link
            .and_then(|l| l.split_once("/login?t="))
            .unwrap_or_else(|| panic!("no login link in:\n{stderr}"));
        let ui = SocketAddr::from(([127, 0, 0, 1], port.parse().expect("a port")));
        WebSession::login(ui, Some(token.trim()))
    }

    /// Ctrl-C as a terminal sends it: to the whole process group.
    fn interrupt_group(&mut self) -> (ExitStatus, String) {
        self.signal_group(libc::SIGINT);
        self.wait()
    }

    fn pid(&self) -> libc::pid_t {
        libc::pid_t::try_from(self.child.id()).expect("a pid")
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) has no memory-safety preconditions; the pid is our
        // child's, not yet reaped.
        unsafe {
            libc::kill(self.pid(), signal);
        }
    }

    fn signal_group(&self, signal: libc::c_int) {
        // SAFETY: as above; a negative pid names the child's process group.
        unsafe {
            libc::kill(-self.pid(), signal);
        }
    }

    /// Waits for `dash` to exit (killing the group if it takes too long);
    /// returns its status and stderr.
    fn wait(&mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for dash") {
                // The output threads end with the pipes.
                thread::sleep(Duration::from_millis(100));
                let stderr = self.stderr.so_far();
                println!("--- stderr of dash:\n{stderr}");
                return (status, stderr);
            }
            if Instant::now() > deadline {
                let stderr = self.stderr.so_far();
                self.fail("dash did not exit within 60 s of Ctrl-C", &stderr);
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Dash {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.signal_group(libc::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// Nothing of `dash`'s process group (the program, cargo, rustc) outlives it.
fn assert_no_process_left(dash: &Dash) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // SAFETY: signal 0 only checks whether the group has a process.
        let alive = unsafe { libc::kill(-dash.pid(), 0) } == 0;
        if !alive {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "a process of dash's group is still running"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// What arrived

/// Every span in the `--save` file, with the run its resource names.
fn saved_spans(path: &Path) -> Vec<(String, Option<u32>)> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut spans = Vec::new();
    for line in text.lines() {
        let request: serde_json::Value = serde_json::from_str(line).expect("an OTLP/JSON line");
        let resources = request["resourceSpans"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for resource in resources {
            let run = resource["resource"]["attributes"]
                .as_array()
                .and_then(|list| list.iter().find(|kv| kv["key"] == "cargo_otel.run"))
                .and_then(|kv| kv["value"]["stringValue"].as_str())
                .and_then(|run| run.parse().ok());
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    let name = span["name"].as_str().unwrap_or_default().to_owned();
                    spans.push((name, run));
                }
            }
        }
    }
    spans
}

fn run_of(spans: &[(String, Option<u32>)], name: &str) -> Option<u32> {
    spans
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, run)| *run)
}

fn has_span(traces: &[TraceSummary], name: &str) -> bool {
    traces.iter().any(|t| t.root_name == name)
}

/// Removes the container at the end of the Docker test, whatever happened.
struct RemoveContainer<'d>(&'d bollard::Docker, String);

impl Drop for RemoveContainer<'_> {
    fn drop(&mut self) {
        docker_support::remove_container(self.0, &self.1);
    }
}
