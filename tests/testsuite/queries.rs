//! `cargo otel traces|trace|logs|metrics` and `cargo otel mcp` against the
//! real `cargo otel serve`, fed by Python's OpenTelemetry SDK
//! (`tests/python/otel_grpc.py`) and by a Rust program that `cargo otel
//! init` instrumented (`tests/fixtures/queries`: a run that fails), each
//! with nothing but the `export` lines the server printed.
//!
//! Every command finds the dashboard through the state file `serve` (or
//! `dash --backend local`) wrote into a temporary `XDG_STATE_HOME`, run from
//! another directory than the server's (or from inside `dash`'s workspace). Output is compared after masking what changes from run to run
//! (times, ids, durations). Without `python3` the Python half is skipped,
//! unless `CI` is set: then it fails.

#![expect(clippy::print_stdout, reason = "says why a part was skipped")]

use crate::support;

use std::{
    io::{BufRead as _, BufReader, Write as _},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Output, Stdio},
    sync::{Arc, Mutex, OnceLock, mpsc},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// How long any single wait may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);
const PYTHON_SERVICE: &str = "python-queries";
const FIXTURE: &str = "queries-app";

// ---------------------------------------------------------------------------------------------
// Tests

/// From a second terminal: the failed run's trace among the traces, alone
/// with `--errors`, as a tree with its exception, its log and its
/// histogram; the Python program's telemetry beside it; text and JSON lines.
#[test]
fn the_commands_show_what_python_and_a_failed_rust_run_sent() {
    let world = World::start();
    let python = world.feed_python();
    let failed = world.feed_fixture();
    let elsewhere = tempfile::tempdir().unwrap();
    let query = |args: &[&str]| world.query(elsewhere.path(), args);

    // traces: oldest first, one line each.
    let text = query(&["traces"]);
    let mut expected = String::new();
    if python.is_some() {
        expected.push_str(&format!(
            "[TIME] ✓ [TRACE] [DURATION] 1 span {PYTHON_SERVICE} python-work\n"
        ));
    }
    expected.push_str(&format!(
        "[TIME] ✗ [TRACE] [DURATION] 1 span {FIXTURE} {FIXTURE} \
         alloc::boxed::Box<dyn core::error::Error>: invalid port in config\n"
    ));
    assert_eq!(mask(&text), expected);
    assert!(text.contains(&failed), "{text}");

    let errors = query(&["traces", "--errors"]);
    assert_eq!(errors.lines().count(), 1, "{errors}");
    assert!(errors.contains(&failed), "{errors}");
    let lines = json_lines(&query(&["traces", "--errors", "--json"]));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let trace = &lines[0];
    assert_eq!(trace["trace_id"], failed.as_str());
    assert_eq!(trace["service"], FIXTURE);
    assert_eq!(trace["root_name"], FIXTURE);
    assert_eq!(trace["status"], "error");
    assert_eq!(trace["span_count"], 1);
    assert!(trace["duration_ns"].is_u64() && trace["start_unix_nano"].is_string());
    assert!(query(&["traces", "--since", "10m"]).contains(&failed));
    let grep = query(&["traces", "--grep", "QUERIES-APP"]);
    assert_eq!(grep.lines().count(), 1, "{grep}");

    // trace ID: the tree (the run's span, which `init` opened), with the
    // exception under the span that recorded it.
    let tree = query(&["trace", &failed]);
    assert_eq!(
        mask(&tree),
        format!(
            "✗ trace [TRACE] [DURATION] 1 span started [TIME]\n\
             +[DURATION] [DURATION] {FIXTURE} {FIXTURE} ✗ invalid port in config\n\
             [PAD] exception: alloc::boxed::Box<dyn core::error::Error>: invalid port in config\n"
        ),
        "{tree}"
    );
    let spans = json_lines(&query(&["trace", &failed, "--json"]));
    assert_eq!(spans.len(), 1, "{spans:?}");
    let span = &spans[0];
    assert_eq!(
        (
            &span["trace_id"],
            &span["name"],
            &span["status"],
            &span["parent_span_id"]
        ),
        (&json!(failed), &json!(FIXTURE), &json!("error"), &json!(""))
    );
    let exception = &span["events"][0];
    assert_eq!(exception["name"], "exception", "{span}");
    let kind =
        json!({"key": "exception.type", "value": "alloc::boxed::Box<dyn core::error::Error>"});
    assert!(
        exception["attributes"].as_array().unwrap().contains(&kind),
        "{span}"
    );

    // logs: the warning in the failed trace, found by trace and by level.
    let in_trace = query(&["logs", "--trace", &failed, "--level", "warn"]);
    assert_eq!(
        mask(&in_trace).lines().next(),
        Some(format!("[TIME] WARN {FIXTURE} the port is not a number trace=[TRACE]").as_str()),
        "{in_trace}"
    );
    let logs = json_lines(&query(&["logs", "--trace", &failed, "--json"]));
    let warning = logs
        .iter()
        .find(|l| l["body"] == "the port is not a number")
        .unwrap_or_else(|| panic!("{logs:?}"));
    assert_eq!(warning["level"], "WARN");
    assert_eq!(warning["trace_id"], failed.as_str());
    assert_eq!(warning["service"], FIXTURE);
    assert_eq!(
        warning["span_id"], span["span_id"],
        "logged in the run's span"
    );
    assert!(
        logs.iter().all(|l| l["trace_id"] == failed.as_str()),
        "{logs:?}"
    );
    if python.is_some() {
        let warnings = query(&["logs", "--service", PYTHON_SERVICE]);
        assert_eq!(
            mask(&warnings),
            format!("[TIME] WARN {PYTHON_SERVICE} hello from python trace=[TRACE]\n")
        );
    }

    // metrics: the histogram's count, mean and percentiles (7.5 and 12.5 ms in the default
    // buckets (5, 10] and (10, 25], closed by the recorded min and max); Python's counter.
    let histogram = query(&["metrics", "--grep", "queries.latency"]);
    assert_eq!(
        histogram,
        format!(
            "{FIXTURE}  queries.latency  count=2 avg=10 ms p50=10 ms p90=12 ms p99=12.45 ms  histogram\n"
        )
    );
    let series = json_lines(&query(&["metrics", "--service", FIXTURE, "--json"]));
    let latency = series
        .iter()
        .find(|s| s["name"] == "queries.latency")
        .unwrap_or_else(|| panic!("{series:?}"));
    assert_eq!(
        (
            &latency["kind"],
            &latency["count"],
            &latency["avg"],
            &latency["latest"]
        ),
        (&json!("histogram"), &json!(2), &json!(10.0), &json!(20.0))
    );
    assert!(latency.get("points").is_none() && latency["time_unix_nano"].is_string());
    if python.is_some() {
        let counter = query(&["metrics", "--service", PYTHON_SERVICE]);
        assert_eq!(
            counter,
            format!("{PYTHON_SERVICE}  python.requests  3  sum  {{route=/hello}}\n")
        );
    }

    // The login link names the dashboard as well as the state file does.
    let by_url = world.query_without_state(elsewhere.path(), &["traces", "--url", &world.login]);
    assert_eq!(by_url, text);
    let refused = world
        .command(elsewhere.path(), &["traces", "--token", "wrong"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("wants its browser token, and this one is not it"),
        "{refused:?}"
    );
}

/// `--follow` prints what arrives after it started, and the records that
/// were there before it once.
#[test]
fn logs_follow_prints_a_record_sent_after_it_started() {
    let world = World::start();
    world.post_log("before following");
    let elsewhere = tempfile::tempdir().unwrap();
    let mut follow = world
        .command(elsewhere.path(), &["logs", "--follow", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = lines_of(follow.stdout.take().unwrap());
    let first = lines
        .recv_timeout(PATIENCE)
        .expect("the record sent before");
    assert_eq!(json_lines(&first)[0]["body"], "before following");
    world.post_log("after following");
    let next = lines.recv_timeout(PATIENCE).expect("the record sent after");
    let _ = follow.kill();
    let _ = follow.wait();
    let record = &json_lines(&next)[0];
    assert_eq!(
        (&record["body"], &record["service"]),
        (&json!("after following"), &json!("follower"))
    );
    assert!(
        lines.recv_timeout(Duration::from_millis(100)).is_err(),
        "printed twice"
    );
}

/// An agent's view: initialize, the tool list, and each tool, returning the
/// failed run's trace, span, log and histogram.
#[test]
fn the_mcp_server_answers_each_tool_with_the_fixture_s_telemetry() {
    let world = World::start();
    let failed = world.feed_fixture();
    let elsewhere = tempfile::tempdir().unwrap();
    let mut mcp = Mcp::start(world.command(elsewhere.path(), &["mcp"]));

    let init = mcp.request(
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "queries-test", "version": "1.0"}
        }),
    );
    assert_eq!(init["serverInfo"]["name"], "cargo-otel", "{init}");
    assert!(init["capabilities"]["tools"].is_object(), "{init}");
    mcp.notify("notifications/initialized");
    let tools = mcp.request("tools/list", json!({}));
    let mut names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "get_trace",
            "list_logs",
            "list_metrics",
            "list_services",
            "list_traces"
        ]
    );

    let services = mcp.tool("list_services", json!({}));
    assert!(
        services.as_array().unwrap().contains(&json!(FIXTURE)),
        "{services}"
    );
    let traces = mcp.tool("list_traces", json!({"errors": true, "since": "10m"}));
    assert_eq!(traces.as_array().unwrap().len(), 1, "{traces}");
    assert_eq!(traces[0]["trace_id"], failed.as_str());
    assert!(
        traces[0]["exception"]
            .as_str()
            .unwrap()
            .contains("invalid port in config"),
        "{traces}"
    );
    let searched = mcp.tool("list_traces", json!({"search": FIXTURE}));
    assert_eq!(searched[0]["trace_id"], failed.as_str(), "{searched}");
    let trace = mcp.tool("get_trace", json!({"trace_id": failed}));
    let spans = trace["spans"].as_array().unwrap();
    assert_eq!(spans[0]["name"], FIXTURE, "{trace}");
    assert_eq!(spans[0]["status"], "error", "{trace}");
    let logs = mcp.tool("list_logs", json!({"trace_id": failed, "level": "warn"}));
    let bodies: Vec<&Value> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["body"])
        .collect();
    assert!(
        bodies.contains(&&json!("the port is not a number")),
        "{logs}"
    );
    assert!(
        logs.as_array()
            .unwrap()
            .iter()
            .all(|l| l["trace_id"] == failed.as_str()),
        "{logs}"
    );
    let metrics = mcp.tool("list_metrics", json!({"search": "latency"}));
    assert_eq!(
        (&metrics[0]["count"], &metrics[0]["avg"]),
        (&json!(2), &json!(10.0)),
        "{metrics}"
    );

    // A failure is the tool's answer, not the session's end.
    let (error, is_error) = mcp.call("get_trace", json!({"trace_id": "0".repeat(32)}));
    assert!(is_error && error.contains("no trace"), "{error}");
    world.stop();
    let (gone, is_error) = mcp.call("list_services", json!({}));
    assert!(is_error && gone.contains("cargo otel serve"), "{gone}");
    mcp.close();
}

/// `cargo otel dash --backend local --keep` is found the same way: from
/// inside its workspace, with no flags, until it stops.
#[test]
fn the_dashboard_of_dash_is_found_from_its_workspace() {
    let fixture = fixture();
    let state = tempfile::tempdir().unwrap();
    let mut dash = Killed(
        support::cargo_otel(&fixture.sources)
            .env("XDG_STATE_HOME", state.path())
            .env("CARGO_TARGET_DIR", &fixture.target_dir)
            .args(["dash", "--backend", "local", "--keep"])
            .args(["--grpc-port", "0", "--http-port", "0", "--ui-port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let dash = &mut dash.0;
    let stderr = drain(dash.stderr.take().unwrap());
    let inside = fixture.sources.join("src");
    let errors = eventually("the failed run in the dashboard of dash", || {
        let output = support::cargo_otel(&inside)
            .env("XDG_STATE_HOME", state.path())
            .args(["traces", "--errors"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.contains(FIXTURE).then_some(text)
    });
    assert_eq!(errors.lines().count(), 1, "{errors}");
    let files = state.path().join("cargo-otel/dashboards");
    let file = files.join(format!("{}.json", dash.id()));
    let running: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(running["command"], "cargo otel dash", "{running}");
    let sent = Command::new("kill")
        .args(["-INT", &dash.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = eventually("cargo otel dash to stop", || dash.try_wait().unwrap());
    assert!(
        !file.exists(),
        "removed at stop:\n{}",
        stderr.lock().unwrap()
    );
    assert!(status.code().is_some(), "{status}");
}

/// With none running, the commands say how to start one; a state file of a
/// killed server is removed, one whose port is closed ignored.
#[test]
fn without_a_running_dashboard_the_commands_name_the_one_to_start() {
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = state.path().join("cargo-otel/dashboards");
    std::fs::create_dir_all(&files).unwrap();
    let dead_pid = dead_pid();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let alive_pid = std::process::id();
    for (pid, url) in [
        (dead_pid, closed_url.as_str()),
        (alive_pid, closed_url.as_str()),
    ] {
        let file = json!({"pid": pid, "dir": dir.path(), "url": url, "token": "t", "command": "cargo otel serve"});
        std::fs::write(files.join(format!("{pid}.json")), file.to_string()).unwrap();
    }
    for args in [
        &["traces"][..],
        &["trace", &"a".repeat(32)],
        &["logs"],
        &["metrics"],
    ] {
        let output = support::cargo_otel(dir.path())
            .env("XDG_STATE_HOME", state.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "error: no built-in dashboard is running\n\
             help: start one with `cargo otel serve` (or `cargo otel dash --backend local`), \
             or name one with `--url`\n",
            "{args:?}"
        );
    }
    assert!(
        !files.join(format!("{dead_pid}.json")).exists(),
        "the dead one is removed"
    );
    assert!(
        files.join(format!("{alive_pid}.json")).exists(),
        "the live one is left"
    );

    let nothing = support::cargo_otel(dir.path())
        .args(["traces", "--url", &closed_url])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&nothing.stderr)
            .starts_with(&format!("error: no dashboard answers at {closed_url}\n")),
        "{nothing:?}"
    );
}

/// Two servers: each workspace reads its own, from any directory inside it;
/// from elsewhere, the choice is the user's. A stopped server's file is gone.
#[test]
fn each_workspace_finds_its_own_dashboard() {
    let state = tempfile::tempdir().unwrap();
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // A server that was killed left its file behind.
    let files = state.path().join("cargo-otel/dashboards");
    std::fs::create_dir_all(&files).unwrap();
    let killed = files.join(format!("{}.json", dead_pid()));
    let file = json!({"pid": dead_pid(), "dir": one.path(), "url": "http://127.0.0.1:1", "token": null, "command": "cargo otel serve"});
    std::fs::write(&killed, file.to_string()).unwrap();
    let first = World::start_in(one.path(), state.path());
    assert!(
        !killed.exists(),
        "a new server removes the files of dead ones"
    );
    let second = World::start_in(two.path(), state.path());
    first.post_log("from the first");
    second.post_log("from the second");
    let inner = one.path().join("src/bin");
    std::fs::create_dir_all(&inner).unwrap();
    assert!(first.query(&inner, &["logs"]).contains("from the first"));
    assert!(
        second
            .query(two.path(), &["logs"])
            .contains("from the second")
    );

    let elsewhere = tempfile::tempdir().unwrap();
    let output = first.command(elsewhere.path(), &["logs"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: 2 built-in dashboards are running, none for this directory:\n")
            && stderr
                .contains("help: run this in the workspace of one, or choose one with `--url`"),
        "{stderr}"
    );

    let file = second.state_file();
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "only the user reads the token");
    second.stop();
    assert!(!file.exists(), "removed at stop");
    assert!(
        first
            .query(elsewhere.path(), &["logs"])
            .contains("from the first")
    );
}

// ---------------------------------------------------------------------------------------------
// A running `cargo otel serve`

/// `cargo otel serve` on free ports, its state file in a temporary
/// `XDG_STATE_HOME`, killed on drop unless stopped.
struct World {
    child: Child,
    state: PathBuf,
    exports: Vec<(String, String)>,
    http: SocketAddr,
    /// The login link it printed.
    login: String,
    stderr: Arc<Mutex<String>>,
    _dirs: Vec<tempfile::TempDir>,
}

impl World {
    fn start() -> Self {
        let (dir, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut world = Self::start_in(dir.path(), state.path());
        world._dirs = vec![dir, state];
        world
    }

    fn start_in(dir: &Path, state: &Path) -> Self {
        let mut child = support::cargo_otel(dir)
            .env("XDG_STATE_HOME", state)
            .args([
                "serve",
                "--grpc-port",
                "0",
                "--http-port",
                "0",
                "--ui-port",
                "0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        let exports = eventually("the `export` lines", || {
            let text = stdout.lock().unwrap().clone();
            let done = text
                .lines()
                .any(|l| l.starts_with("export OTEL_EXPORTER_OTLP_HEADERS="));
            done.then_some(text)
        });
        let exports: Vec<(String, String)> = exports
            .lines()
            .filter_map(|line| line.strip_prefix("export ")?.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        let announced = eventually("the dashboard line", || {
            let text = stderr.lock().unwrap().clone();
            let line = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Dashboard "))?;
            Some((text.clone(), line.to_owned()))
        });
        let (text, login) = announced;
        let http = text
            .split("OTLP/HTTP on http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no OTLP/HTTP address in:\n{text}"));
        let world = Self {
            child,
            state: state.to_owned(),
            exports,
            http,
            login,
            stderr,
            _dirs: Vec::new(),
        };
        eventually("the state file", || {
            world.state_file().exists().then_some(())
        });
        world
    }

    fn state_file(&self) -> PathBuf {
        let pid = self.child.id();
        self.state.join(format!("cargo-otel/dashboards/{pid}.json"))
    }

    /// `cargo otel <args>` in `dir`, finding the dashboard through the state files.
    fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut command = support::cargo_otel(dir);
        command
            .env("XDG_STATE_HOME", &self.state)
            .env("TZ", "UTC")
            .args(args);
        command
    }

    /// Its stdout; it must succeed.
    fn query(&self, dir: &Path, args: &[&str]) -> String {
        checked(self.command(dir, args).output().unwrap(), args)
    }

    /// The same without the state files.
    fn query_without_state(&self, dir: &Path, args: &[&str]) -> String {
        let empty = tempfile::tempdir().unwrap();
        let mut command = self.command(dir, args);
        checked(
            command
                .env("XDG_STATE_HOME", empty.path())
                .output()
                .unwrap(),
            args,
        )
    }

    /// Runs `tests/python/otel_grpc.py`; `None` without python3 (off CI).
    fn feed_python(&self) -> Option<String> {
        let Some(python) = support::python::venv_python() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "python3 is required on CI"
            );
            println!("SKIPPED: the Python half (no python3)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut command = support::python::script(&python, "otel_grpc.py", dir.path());
        command.arg(PYTHON_SERVICE).envs(self.exports());
        let output = support::python::run(&mut command, PATIENCE);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "otel_grpc.py: {output:?}");
        let trace_id = stdout.lines().find_map(|l| l.strip_prefix("trace_id="));
        let trace_id = trace_id.expect("a trace id").to_owned();
        self.wait_for(&trace_id, 1);
        Some(trace_id)
    }

    /// Runs the fixture, which fails; returns its trace's id.
    fn feed_fixture(&self) -> String {
        let run = support::program::run(&fixture().binary, &self.exports_ref());
        assert_eq!(run.status.code(), Some(1), "{run}");
        let trace_id = eventually("the failed run's trace", || {
            let traces = self.query_json(&["traces", "--errors", "--json"]);
            let trace = traces.into_iter().find(|t| t["service"] == FIXTURE)?;
            trace["trace_id"].as_str().map(str::to_owned)
        });
        self.wait_for(&trace_id, 1);
        trace_id
    }

    /// Waits until `count` log records of `trace_id` are held.
    fn wait_for(&self, trace_id: &str, count: usize) {
        eventually("the trace's log records", || {
            let logs = self.query_json(&["logs", "--trace", trace_id, "--json"]);
            (logs.len() >= count).then_some(())
        });
    }

    fn query_json(&self, args: &[&str]) -> Vec<Value> {
        let dir = tempfile::tempdir().unwrap();
        json_lines(&self.query(dir.path(), args))
    }

    fn exports(&self) -> impl Iterator<Item = (&str, &str)> {
        self.exports.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn exports_ref(&self) -> Vec<(&str, &str)> {
        self.exports().collect()
    }

    /// One INFO record of service `follower` over OTLP/HTTP JSON.
    fn post_log(&self, body: &str) {
        let key = self
            .exports()
            .find(|(k, _)| *k == "OTEL_EXPORTER_OTLP_HEADERS")
            .and_then(|(_, v)| v.strip_prefix("x-otlp-api-key="))
            .expect("the API key");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            .to_string();
        let request = json!({"resourceLogs": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "follower"}}]},
            "scopeLogs": [{"logRecords": [{
                "timeUnixNano": now, "severityNumber": 9, "body": {"stringValue": body}
            }]}]
        }]});
        let response = support::http::http(
            self.http,
            "POST",
            "/v1/logs",
            &[
                ("Content-Type", "application/json"),
                ("x-otlp-api-key", key),
            ],
            request.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(response.status, 200, "{}", response.text());
    }

    /// Ctrl-C, as a user would; waits for the exit.
    fn stop(&self) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let pid = self.child.id();
        eventually("cargo otel serve to stop", || {
            let alive = Path::new(&format!("/proc/{pid}")).exists();
            let status = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // A zombie (state Z) has exited; its parent reaps it on drop.
            (!alive || status.split_whitespace().nth(2) == Some("Z")).then_some(())
        });
        let stderr = self.stderr.lock().unwrap().clone();
        assert!(stderr.contains("Stopped"), "{stderr}");
    }
}

/// A child killed on drop, so a failing test leaves nothing running.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(mut pipe: impl std::io::Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut buffer) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
    text
}

/// The pid of a process that has exited.
fn dead_pid() -> u32 {
    static DEAD: OnceLock<u32> = OnceLock::new();
    *DEAD.get_or_init(|| {
        let mut child = Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        child.id()
    })
}

fn checked(output: Output, args: &[&str]) -> String {
    assert!(
        output.status.success(),
        "cargo otel {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// Each stdout line as it comes.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// The text with what changes from run to run masked: clock times as
/// `[TIME]`, 32-digit ids as `[TRACE]`, durations as `[DURATION]`, runs of
/// spaces as one, and the indent before an exception as `[PAD]`.
fn mask(text: &str) -> String {
    let words: Vec<String> = text
        .lines()
        .map(|line| {
            let mut out: Vec<String> = Vec::new();
            let mut words = line.split_whitespace().peekable();
            if line.starts_with(' ') && line.trim_start().starts_with("exception:") {
                out.push("[PAD]".to_owned());
            }
            while let Some(word) = words.next() {
                let unit = words.peek().copied();
                let masked = if is_clock(word) {
                    "[TIME]".to_owned()
                } else if word.strip_prefix("trace=").is_some_and(is_id) {
                    "trace=[TRACE]".to_owned()
                } else if is_id(word) {
                    "[TRACE]".to_owned()
                } else if is_number(word.trim_start_matches('+'))
                    && matches!(unit, Some("µs" | "ms" | "s"))
                {
                    words.next();
                    let plus = if word.starts_with('+') { "+" } else { "" };
                    format!("{plus}[DURATION]")
                } else {
                    word.to_owned()
                };
                out.push(masked);
            }
            out.join(" ") + "\n"
        })
        .collect();
    words.concat()
}

fn is_clock(word: &str) -> bool {
    word.len() == 12
        && word.chars().enumerate().all(|(i, c)| {
            if [2, 5].contains(&i) {
                c == ':'
            } else if i == 8 {
                c == '.'
            } else {
                c.is_ascii_digit()
            }
        })
}

fn is_id(word: &str) -> bool {
    word.len() == 32 && word.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_number(word: &str) -> bool {
    !word.is_empty() && word.parse::<f64>().is_ok()
}

// ---------------------------------------------------------------------------------------------
// The MCP server, driven over stdio

struct Mcp {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    next_id: u64,
}

impl Mcp {
    fn start(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let lines = lines_of(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            lines,
            next_id: 1,
        }
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str) {
        self.send(&json!({"jsonrpc": "2.0", "method": method}));
    }

    /// A request's `result`; it must not be a JSON-RPC error.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self
                .lines
                .recv_timeout(PATIENCE)
                .expect("an answer from cargo otel mcp");
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == id {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
        }
    }

    /// A tool's text, and whether it is an error.
    fn call(&mut self, name: &str, arguments: Value) -> (String, bool) {
        let result = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        let text = result["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (text, result["isError"] == true)
    }

    /// A tool's answer, which is compact JSON.
    fn tool(&mut self, name: &str, arguments: Value) -> Value {
        let (text, is_error) = self.call(name, arguments);
        assert!(!is_error, "{name}: {text}");
        assert!(!text.contains('\n'), "compact: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}: {text}"))
    }

    /// Closes stdin: the server ends the session and exits.
    fn close(self) {
        let Self {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("cargo otel mcp did not exit when its input closed");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status}");
    }
}

// ---------------------------------------------------------------------------------------------
// The fixture: copied, initialized, built once

struct Fixture {
    binary: PathBuf,
    /// The initialized sources, for `cargo otel dash`.
    sources: PathBuf,
    target_dir: PathBuf,
    _scratch: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();
    match FIXTURE.get_or_init(|| support::setup_once(build_fixture)) {
        Ok(fixture) => fixture,
        Err(message) => panic!("fixture setup failed: {message}"),
    }
}

fn build_fixture() -> Fixture {
    // Shared with the other end-to-end tests: the stack is compiled once.
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-init-target");
    let scratch = tempfile::tempdir().unwrap();
    let sources = scratch.path().join("queries");
    support::copy_tree(
        &support::repo_root().join("tests/fixtures/queries"),
        &sources,
    );
    let init = support::cargo_otel(&sources).arg("init").output().unwrap();
    assert!(init.status.success(), "cargo otel init: {init:?}");
    let build = support::output_one_build_at_a_time(
        support::cargo(&sources)
            .arg("build")
            .env("CARGO_TARGET_DIR", &target_dir),
    );
    assert!(
        build.status.success(),
        "cargo build:\n{}",
        support::cargo_errors(&String::from_utf8_lossy(&build.stderr))
    );
    Fixture {
        binary: support::program::binary(&target_dir.join("debug"), FIXTURE),
        sources,
        target_dir,
        _scratch: scratch,
    }
}
