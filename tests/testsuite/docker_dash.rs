//! `cargo otel dash` against a real Docker daemon, with the stand-in for the
//! Aspire dashboard image (this crate's own backend in `--aspire-compat`
//! mode, `FROM scratch`; see `support::docker`). The program is the
//! `demo-multi` fixture after a real `cargo otel init`, built by `dash`
//! itself into one shared target directory.
//!
//! Without a daemon these tests print `SKIPPED: no Docker daemon`, unless
//! `CARGO_OTEL_REQUIRE_DOCKER` is set (CI sets it); the no-daemon tests at
//! the end need none.

#![allow(clippy::print_stdout, reason = "tests report timings and skips")]

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use bollard::Docker;

use crate::support;
use crate::support::docker::{
    PATIENCE, container_exists, docker, inspect_container, local_registry, post_otlp_json,
    published_ports, push_to, remove_container, stand_in_image,
};
use crate::support::http::WebSession;

const SPAN: &str = "e2e.work";
const SHUTDOWN_SPAN: &str = "e2e.shutdown";

/// A fresh copy of `demo-multi`, instrumented by `cargo otel init`; its own
/// directory means its own dashboard container.
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

    /// The name `dash` gives this workspace's container (cargo reports the
    /// workspace root canonicalized).
    fn container(&self) -> String {
        let root = std::fs::canonicalize(self.path()).expect("the project directory");
        cargo_otel::docker::container::container_name(&root.display().to_string())
    }

    /// Removes this project's container when the test ends, however it ends.
    fn cleanup<'d>(&self, docker: &'d Docker) -> Remove<'d> {
        Remove(docker, self.container())
    }

    /// `cargo otel dash ARGS`, with no terminal attached, on free ports
    /// unless the test chose one.
    fn dash(&self, args: &[&str]) -> Command {
        let mut command = support::cargo_otel(self.path());
        command
            .arg("dash")
            .args(args)
            .env("CARGO_TARGET_DIR", target_dir())
            .stdin(Stdio::null());
        if !args.contains(&"--grpc-port") {
            command.args(support::backend::FREE_PORTS);
        }
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        let started = Instant::now();
        let output = self.dash(args).output().expect("run cargo otel dash");
        Run {
            output,
            elapsed: started.elapsed(),
        }
    }
}

/// Shared with the other end-to-end tests, so the OpenTelemetry stack compiles once.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-init-target")
}

struct Run {
    output: Output,
    elapsed: Duration,
}

impl Run {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    fn success(&self) -> &Self {
        assert!(
            self.output.status.success(),
            "dash failed ({}):\n{}",
            self.output.status,
            self.stderr()
        );
        self
    }

    fn login(&self) -> (SocketAddr, String) {
        login_link(&self.stderr())
    }

    /// The container `dash` created or reused, from its status lines.
    fn container(&self) -> String {
        container_name(&self.stderr())
    }
}

fn login_link(stderr: &str) -> (SocketAddr, String) {
    let link = stderr
        .split("Dashboard http://localhost:")
        .nth(1)
        .and_then(|rest| rest.lines().next());
    let (port, token) = link
        .and_then(|l| l.split_once("/login?t="))
        .unwrap_or_else(|| panic!("no login link in:\n{stderr}"));
    (
        SocketAddr::from(([127, 0, 0, 1], port.parse().expect("a port"))),
        token.trim().to_owned(),
    )
}

fn container_name(stderr: &str) -> String {
    let word = stderr
        .split("dashboard container ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next());
    word.unwrap_or_else(|| panic!("no container named in:\n{stderr}"))
        .to_owned()
}

/// Removes the container at the end of a test, whatever happened.
struct Remove<'d>(&'d Docker, String);

impl Drop for Remove<'_> {
    fn drop(&mut self) {
        remove_container(self.0, &self.1);
    }
}

/// Removes an image at the end of a test.
struct RemoveImage<'d>(&'d Docker, String);

impl Drop for RemoveImage<'_> {
    fn drop(&mut self) {
        support::docker::remove_image(self.0, &self.1);
    }
}

fn web(run: &Run) -> WebSession {
    let (ui, token) = run.login();
    WebSession::login(ui, Some(&token))
}

fn has_span(session: &WebSession, name: &str) -> bool {
    session
        .traces()
        .iter()
        .any(|t| t.root_name == name && t.service == "demo-multi")
}

/// The whole flow: the image pulled from a registry, the container up and
/// secure, telemetry in it, reuse with `--keep`, `--stop`, and no container
/// left by a run without `--keep`.
#[test]
fn dash_runs_the_crate_against_the_dashboard_container() {
    let Some(docker) = docker() else { return };
    let stand_in = stand_in_image(&docker);
    let registry = local_registry().expect("Debian's docker-registry (run .ci/install-docker)");
    let image = push_to(&docker, &registry, stand_in);
    let project = Project::new();
    let _cleanup = project.cleanup(&docker);
    let _pulled = RemoveImage(&docker, image.clone());

    let first = project.run(&["--image", &image, "--keep"]);
    let stderr = first.success().stderr();
    let name = first.container();
    assert_eq!(name, project.container());
    for expected in [
        format!("Pulling {image}"),
        format!("Pulled {image}"),
        format!("Creating dashboard container {name}"),
    ] {
        assert!(
            stderr.contains(&expected),
            "expected {expected:?} in:\n{stderr}"
        );
    }
    assert!(String::from_utf8_lossy(&first.output.stdout).contains("demo-multi finished"));

    // Every port on 127.0.0.1 only.
    let info = inspect_container(&docker, &name).expect("the kept container");
    let ports = published_ports(&info);
    assert_eq!(ports.len(), 3, "{ports:?}");
    assert!(
        ports.values().all(|addr| addr.ip().is_loopback()),
        "{ports:?}"
    );

    // The program's span, log and metric arrived; the link carried the token.
    let session = web(&first);
    let summary = session.wait_for(PATIENCE, |s| {
        s.held.spans >= 1 && s.held.logs >= 1 && s.held.metric_points >= 1
    });
    assert!(has_span(&session, SPAN), "{summary:?}");
    // OTLP without the API key is refused.
    let http = ports[&18890];
    let refused = post_otlp_json(http, "logs", None, "{}");
    assert_eq!(refused.status, 401, "{}", refused.text());

    // `--keep` again: the same container, reused.
    let second = project.run(&["--image", &image, "--keep"]);
    let stderr = second.success().stderr();
    assert!(
        stderr.contains(&format!("Reusing dashboard container {name}")),
        "{stderr}"
    );
    println!(
        "first run {:.1}s (pull, create), second {:.1}s (reuse)",
        first.elapsed.as_secs_f64(),
        second.elapsed.as_secs_f64()
    );

    let stopped = project.run(&["--stop"]);
    assert!(
        stopped
            .success()
            .stderr()
            .contains(&format!("Removed dashboard container {name}")),
        "{}",
        stopped.stderr()
    );
    assert!(!container_exists(&docker, &name));

    // Without `--keep`, nothing is left behind.
    let once = project.run(&["--image", &image]);
    assert!(
        once.success()
            .stderr()
            .contains(&format!("Removing dashboard container {name}"))
    );
    assert!(
        !container_exists(&docker, &name),
        "the container outlived the run"
    );
}

/// Ctrl-C while the program runs: it shuts down gracefully, its last span
/// still reaches the dashboard, and (without `--keep`) no container remains.
#[test]
fn ctrl_c_lets_the_program_flush_and_removes_the_container() {
    let Some(docker) = docker() else { return };
    let image = stand_in_image(&docker).image.clone();
    let project = Project::new();
    let _cleanup = project.cleanup(&docker);

    let kept = interrupt_run(&project, &["--image", &image, "--keep"]);
    let name = container_name(&kept);
    let (ui, token) = login_link(&kept);
    let session = WebSession::login(ui, Some(&token));
    session.wait_for(PATIENCE, |s| s.held.traces >= 2);
    assert!(
        has_span(&session, SHUTDOWN_SPAN),
        "the span recorded after Ctrl-C is missing"
    );

    let removed = interrupt_run(&project, &["--image", &image]);
    assert!(
        removed.contains(&format!("Removing dashboard container {name}")),
        "{removed}"
    );
    assert!(
        !container_exists(&docker, &name),
        "a container outlived Ctrl-C"
    );
}

/// Runs `dash` in its own process group, waits for the program to be up,
/// sends SIGINT to the whole group (what a terminal's Ctrl-C does) and
/// returns stderr once `dash` has exited.
fn interrupt_run(project: &Project, args: &[&str]) -> String {
    use std::{io::Read as _, os::unix::process::CommandExt as _};
    let mut child: Child = project
        .dash(args)
        .env("E2E_WAIT_FOR_CTRL_C", "1")
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cargo otel dash");
    let mut stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut buffer = [0_u8; 256];
    while !seen.contains("waiting for Ctrl-C") {
        assert!(Instant::now() < deadline, "the program never came up");
        let n = stdout.read(&mut buffer).expect("read stdout");
        assert!(
            n > 0,
            "dash ended early: {}",
            stderr.join().unwrap_or_default()
        );
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    let group = -libc::pid_t::try_from(child.id()).expect("a pid");
    // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
    unsafe {
        libc::kill(group, libc::SIGINT);
    }
    let status = child.wait().expect("wait for dash");
    let stderr = stderr.join().unwrap_or_default();
    assert!(status.success(), "dash after Ctrl-C: {status}\n{stderr}");
    stderr
}

/// A changed configuration (here `--anonymous`) replaces the kept container.
#[test]
fn a_changed_configuration_recreates_the_container() {
    let Some(docker) = docker() else { return };
    let image = stand_in_image(&docker).image.clone();
    let project = Project::new();
    let _cleanup = project.cleanup(&docker);
    let first = project.run(&["--image", &image, "--keep"]);
    let name = first.success().container();
    let before = inspect_container(&docker, &name)
        .and_then(|i| i.id)
        .expect("an id");

    let second = project.run(&["--image", &image, "--keep", "--anonymous"]);
    let stderr = second.success().stderr();
    assert!(
        stderr.contains(&format!(
            "Replacing dashboard container {name} (its configuration changed)"
        )),
        "{stderr}"
    );
    let after = inspect_container(&docker, &name)
        .and_then(|i| i.id)
        .expect("an id");
    assert_ne!(before, after, "the container was not recreated");
    // Anonymous: the link has no token and OTLP needs no key.
    assert!(
        stderr.contains("Dashboard http://localhost:") && !stderr.contains("/login?t="),
        "{stderr}"
    );
}

/// A container of someone else's under our name is an error and left alone.
#[test]
fn a_foreign_container_with_our_name_is_never_touched() {
    let Some(docker) = docker() else { return };
    let image = stand_in_image(&docker).image.clone();
    let project = Project::new();
    let _cleanup = project.cleanup(&docker);
    let name = project.container();
    let foreign = Command::new("docker")
        .args([
            "create",
            "--name",
            &name,
            "--label",
            "dev.cargo-otel.test=1",
            &image,
        ])
        .output()
        .expect("docker create");
    assert!(
        foreign.status.success(),
        "{}",
        String::from_utf8_lossy(&foreign.stderr)
    );
    let id = inspect_container(&docker, &name)
        .and_then(|i| i.id)
        .expect("an id");

    let run = project.run(&["--backend", "docker", "--image", &image]);
    assert_eq!(run.output.status.code(), Some(1), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("was not created by cargo-otel; it was left alone"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        inspect_container(&docker, &name).and_then(|i| i.id),
        Some(id),
        "the foreign container was touched"
    );
}

/// A host port held by someone else: another port is published, the program
/// is told the real endpoint, and its telemetry still arrives.
#[test]
fn a_busy_host_port_moves_and_the_program_still_exports() {
    let Some(docker) = docker() else { return };
    let image = stand_in_image(&docker).image.clone();
    let project = Project::new();
    let _cleanup = project.cleanup(&docker);
    let held = TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let port = held.local_addr().expect("its address").port().to_string();
    let run = project.run(&[
        "--image",
        &image,
        "--keep",
        "--grpc-port",
        &port,
        "--ui-port",
        "0",
        "--http-port",
        "0",
    ]);
    let stderr = run.success().stderr();
    let name = run.container();
    assert!(
        stderr.contains(&format!("port {port} (OTLP/gRPC) is in use")),
        "{stderr}"
    );
    let info = inspect_container(&docker, &name).expect("the kept container");
    assert_ne!(published_ports(&info)[&18889].port().to_string(), port);
    let session = web(&run);
    session.wait_for(PATIENCE, |s| s.held.spans >= 1);
    assert!(has_span(&session, SPAN));
}

/// No daemon: one note and the built-in dashboard; `--backend docker` fails.
#[test]
fn without_a_daemon_dash_falls_back_or_fails_as_asked() {
    let project = Project::new();
    let missing = "unix:///nonexistent/docker.sock";
    let auto = project
        .dash(&[])
        .env("DOCKER_HOST", missing)
        .output()
        .expect("run dash");
    let stderr = String::from_utf8_lossy(&auto.stderr);
    assert!(auto.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("note: no Docker daemon answered ({missing} (DOCKER_HOST)); using the built-in dashboard")), "{stderr}");
    assert!(stderr.contains("the dashboard received 1 span"), "{stderr}");

    let insisted = project
        .dash(&["--backend", "docker"])
        .env("DOCKER_HOST", missing)
        .output()
        .expect("run dash");
    let stderr = String::from_utf8_lossy(&insisted.stderr);
    assert_eq!(insisted.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: no Docker daemon answered; tried:")
            && stderr.contains("--backend local"),
        "{stderr}"
    );
}

/// A pull that cannot work says why in plain words, and `--backend docker`
/// makes it an error (without `--backend` the built-in dashboard would run).
#[test]
fn pull_failures_say_what_is_wrong() {
    let Some(docker) = docker() else { return };
    let registry = local_registry().expect("Debian's docker-registry (run .ci/install-docker)");
    let project = Project::new();
    let _cleanup = project.cleanup(&docker);
    let unknown = format!("{}/no-such-image:1", registry.host());
    let unreachable = "127.0.0.1:1/aspire-dashboard:13";
    for (image, help) in [
        (unknown.as_str(), "the image or tag does not exist"),
        (unreachable, "cannot be reached (offline?)"),
    ] {
        let run = project.run(&["--backend", "docker", "--image", image]);
        let stderr = run.stderr();
        assert_eq!(run.output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("error: failed to pull `{image}`")) && stderr.contains(help),
            "{stderr}"
        );
    }
}

/// `--detach --print-env` starts the dashboard alone and prints what to
/// export; the image comes from `[package.metadata.otel]`; `--stop` cleans up.
#[test]
fn detach_prints_the_environment_and_metadata_picks_the_image() {
    let Some(docker) = docker() else { return };
    let image = stand_in_image(&docker).image.clone();
    let project = Project::new();
    let _cleanup = project.cleanup(&docker);
    let manifest = project.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("the manifest");
    std::fs::write(
        &manifest,
        format!("{text}\n[package.metadata.otel]\nimage = \"{image}\"\n"),
    )
    .expect("write it");

    let run = project.run(&["--detach", "--print-env"]);
    let stderr = run.success().stderr();
    assert!(stderr.contains(&format!("from {image}")), "{stderr}");
    let stdout = String::from_utf8_lossy(&run.output.stdout).into_owned();
    let exports: Vec<(&str, &str)> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .collect();
    let keys: Vec<&str> = exports.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        [
            "OTLP_GRPC_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_HEADERS"
        ],
        "{stdout}"
    );
    // What it printed works: an export with that endpoint's HTTP sibling and key is accepted.
    let info = inspect_container(&docker, &project.container()).expect("the detached container");
    let key = exports[3]
        .1
        .strip_prefix("x-otlp-api-key=")
        .expect("the key header");
    let accepted = post_otlp_json(published_ports(&info)[&18890], "logs", Some(key), "{}");
    assert_eq!(accepted.status, 200, "{}", accepted.text());

    let stopped = project.run(&["--stop"]);
    assert!(
        stopped
            .success()
            .stderr()
            .contains("Removed dashboard container"),
        "{}",
        stopped.stderr()
    );
    assert!(!container_exists(&docker, &project.container()));
}

/// `--pull never` with the image missing is an error that says how to get it.
#[test]
fn pull_never_refuses_a_missing_image() {
    let Some(docker) = docker() else { return };
    let project = Project::new();
    let _cleanup = project.cleanup(&docker);
    let run = project.run(&[
        "--backend",
        "docker",
        "--pull",
        "never",
        "--image",
        "cargo-otel-test/not-here:1",
    ]);
    assert_eq!(run.output.status.code(), Some(1), "{}", run.stderr());
    assert!(
        run.stderr().contains("`--pull never` forbids pulling it"),
        "{}",
        run.stderr()
    );
}
