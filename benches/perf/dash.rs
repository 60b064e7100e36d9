//! Area 2: time to first span. From invoking `cargo otel dash` to the first
//! span accepted by its dashboard, against the same steps run one after
//! another: the dashboard up (`cargo otel serve`, or `cargo otel dash
//! --detach` for the container), then `cargo build`, then the program run
//! with the dashboard's environment.
//!
//! The program is `bench-generated` (area 1's instrumented crate, a debug
//! build as `dash` makes it) with the argument `first-span`: one span, then
//! exit. Its guard waits for the export to be answered, and an `atexit`
//! handler then prints the wall-clock time: that is "first span accepted".
//! That the span really arrived is checked too: the local backend's feed
//! line for it (on the stderr of `dash`/`serve`), and, for the Docker
//! stand-in image (`tests/testsuite/support/docker`), no export error from the program.
//! No container runs at the start of a run.
//!
//! Warm: the crate is built. Cold: the crate's own code is rebuilt
//! (`cargo clean -p bench-generated` before the run; its dependencies stay
//! built), which shows what overlapping the build with the start-up buys.
//!
//! Rerun after an edit: `cargo otel dash --watch` is up and the program has
//! run once; a comment is appended to its source, and the time is taken from
//! that write to the rerun's first span accepted. Against: the same edit
//! with `cargo otel serve` up, then `cargo run` again by hand (the program
//! of the first run has exited, so there is nothing left to kill).

use std::{
    io::{BufRead as _, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use bollard::Docker;

use crate::{
    Settings,
    report::{Row, Target},
    support, work,
};

const PACKAGE: &str = "bench-generated";
const SPAN: &str = "first span";
/// Longest a run may take before the benchmark gives up.
const PATIENCE: Duration = Duration::from_secs(300);

struct Bench<'a> {
    workspace: &'a Path,
    target_dir: PathBuf,
    /// The stand-in image, if a Docker daemon answers.
    image: Option<String>,
}

pub(crate) fn run(settings: &Settings) -> Vec<Row> {
    let bench = Bench {
        workspace: work::pipeline_workspace(),
        target_dir: work::work_dir("dash-target"),
        image: support::docker::docker().map(|docker| stand_in(&docker)),
    };
    bench.build();
    let mut rows = Vec::new();
    let temperatures: &[bool] = if settings.quick {
        &[false]
    } else {
        &[false, true]
    };
    for &cold in temperatures {
        let mut series: [Vec<f64>; 4] = Default::default();
        for run in 0..settings.runs {
            let local = [bench.local_dash(cold), bench.local_sequential(cold)];
            let docker = bench.image.as_deref().map(|image| {
                [
                    bench.docker_dash(image, cold),
                    bench.docker_sequential(image, cold),
                ]
            });
            println!(
                "dash: run {}, {}: local {:.2} s vs {:.2} s sequential{}",
                run + 1,
                temperature(cold),
                local[0],
                local[1],
                docker.map_or(String::new(), |[d, s]| format!(
                    "; Docker stand-in {d:.2} s vs {s:.2} s sequential"
                ))
            );
            for (series, value) in series
                .iter_mut()
                .zip(local.into_iter().chain(docker.into_iter().flatten()))
            {
                series.push(value);
            }
        }
        bench.prepare(false);
        let [local, local_seq, docker, docker_seq] = series;
        let target = |row: Row| {
            if cold {
                row
            } else {
                row.target(Target::RatioAtMost(0.6))
            }
        };
        rows.push(target(
            Row::new(
                format!("dash to first span, local backend, {}", temperature(cold)),
                "s",
                local,
            )
            .against("serve, then build, then run", local_seq),
        ));
        if !docker.is_empty() {
            rows.push(target(
                Row::new(
                    format!("dash to first span, Docker stand-in, {}", temperature(cold)),
                    "s",
                    docker,
                )
                .against("dash --detach, then build, then run", docker_seq),
            ));
        }
    }
    rows.push(bench.reruns(settings));
    rows
}

/// The tests' stand-in for the Aspire image (this build of cargo-otel,
/// static, `FROM scratch`), imported under the benchmark's own name and
/// label: the tests remove stand-ins of other builds with their label, and
/// another checkout's tests may run meanwhile on a shared daemon.
fn stand_in(docker: &Docker) -> String {
    let binary = support::docker::stand_in_binary();
    let bytes = std::fs::read(binary)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", binary.display()));
    let image = "cargo-otel-bench/aspire-stand-in:latest";
    // The previous run's image, which would be left untagged otherwise.
    support::docker::remove_image(docker, image);
    support::docker::import(docker, &bytes, image, "dev.cargo-otel.bench=1");
    image.to_owned()
}

/// The source file the rerun figures edit.
const EDITED: &str = "generated/src/workload.rs";

fn temperature(cold: bool) -> &'static str {
    if cold { "crate rebuilt" } else { "warm" }
}

impl Bench<'_> {
    fn cargo(&self) -> Command {
        work::cargo(self.workspace, &self.target_dir)
    }

    fn cargo_otel(&self) -> Command {
        let mut command = support::cargo_otel(self.workspace);
        command.env("CARGO_TARGET_DIR", &self.target_dir);
        command
    }

    fn build(&self) {
        let started = Instant::now();
        work::checked(self.cargo().args(["build", "--quiet", "-p", PACKAGE]));
        println!(
            "dash: built {PACKAGE} (debug) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    /// `cargo otel dash` on the Docker backend with the stand-in image.
    fn docker_dash_command(&self, image: &str) -> Command {
        let mut command = self.cargo_otel();
        command.args([
            "dash",
            "-p",
            PACKAGE,
            "--backend",
            "docker",
            "--image",
            image,
        ]);
        command
    }

    /// Untimed: the state a run starts from.
    fn prepare(&self, cold: bool) {
        if cold {
            work::checked(self.cargo().args(["clean", "--quiet", "-p", PACKAGE]));
        }
        if let Some(image) = &self.image {
            // No container from an earlier run (nothing to remove is fine).
            let _ = self.docker_dash_command(image).arg("--stop").output();
        }
    }

    fn local_dash(&self, cold: bool) -> f64 {
        self.prepare(cold);
        let started = SystemTime::now();
        let mut child = self
            .cargo_otel()
            .args(["dash", "-p", PACKAGE, "--backend", "local"])
            .args(support::backend::FREE_PORTS)
            .args(["--", "first-span"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cargo otel dash");
        let seen = watch_feed(child.stderr.take().expect("piped"));
        let stdout = child.stdout.take().expect("piped");
        let exported = exported_at(stdout);
        wait_success(&mut child, "cargo otel dash");
        seen.recv_timeout(PATIENCE)
            .expect("the first span in dash's feed");
        seconds_since(started, exported)
    }

    fn local_sequential(&self, cold: bool) -> f64 {
        self.prepare(cold);
        let started = SystemTime::now();
        let mut serve = self
            .cargo_otel()
            .arg("serve")
            .args(support::backend::FREE_PORTS)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cargo otel serve");
        let seen = watch_feed(serve.stderr.take().expect("piped"));
        let env = exports(serve.stdout.take().expect("piped"));
        work::checked(self.cargo().args(["build", "-p", PACKAGE]));
        let exported = self.run_program(&env);
        seen.recv_timeout(PATIENCE)
            .expect("the first span in serve's feed");
        interrupt(&mut serve);
        seconds_since(started, exported)
    }

    fn docker_dash(&self, image: &str, cold: bool) -> f64 {
        self.prepare(cold);
        let started = SystemTime::now();
        let output = work::checked(
            self.docker_dash_command(image)
                .args(support::backend::FREE_PORTS)
                .args(["--", "first-span"])
                .stdin(Stdio::null()),
        );
        assert_exported(&output.stderr);
        seconds_since(started, exported_at(&output.stdout[..]))
    }

    fn docker_sequential(&self, image: &str, cold: bool) -> f64 {
        self.prepare(cold);
        let started = SystemTime::now();
        let output = work::checked(
            self.docker_dash_command(image)
                .args(["--detach", "--print-env"])
                .args(support::backend::FREE_PORTS)
                .stdin(Stdio::null()),
        );
        let env = exports(&output.stdout[..]);
        work::checked(self.cargo().args(["build", "-p", PACKAGE]));
        let exported = self.run_program(&env);
        seconds_since(started, exported)
    }

    /// Edit to first span: `dash --watch` against `cargo run` again by hand.
    fn reruns(&self, settings: &Settings) -> Row {
        let (mut watch, mut by_hand) = (Vec::new(), Vec::new());
        for run in 0..settings.runs {
            let pair = [self.watch_rerun(), self.rerun_by_hand()];
            println!(
                "dash: rerun {}: dash --watch {:.2} s vs {:.2} s cargo run again",
                run + 1,
                pair[0],
                pair[1]
            );
            watch.push(pair[0]);
            by_hand.push(pair[1]);
        }
        Row::new(
            "edit to first span, dash --watch, local backend",
            "s",
            watch,
        )
        .against("edit, then cargo run again (serve up)", by_hand)
    }

    /// Appends a comment to the program's source (a change cargo rebuilds
    /// for); returns when that was written.
    fn edit(&self) -> SystemTime {
        use std::io::Write as _;
        let path = self.workspace.join(EDITED);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let edited = SystemTime::now();
        writeln!(file, "// edited for a rerun").expect("append to the source");
        edited
    }

    fn watch_rerun(&self) -> f64 {
        use std::os::unix::process::CommandExt as _;
        let mut child = self
            .cargo_otel()
            .args(["dash", "--watch", "-p", PACKAGE, "--backend", "local"])
            .args(support::backend::FREE_PORTS)
            .args(["--", "first-span"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cargo otel dash --watch");
        let exports = exports_over_time(child.stdout.take().expect("piped"));
        exports
            .recv_timeout(PATIENCE)
            .expect("the first run's span");
        let edited = self.edit();
        let exported = exports.recv_timeout(PATIENCE).expect("the rerun's span");
        let group = -libc::pid_t::try_from(child.id()).expect("a pid");
        // SAFETY: kill(2) with a negative pid signals that process group.
        unsafe {
            libc::kill(group, libc::SIGINT);
        }
        wait_success(&mut child, "cargo otel dash --watch");
        seconds_since(edited, exported)
    }

    fn rerun_by_hand(&self) -> f64 {
        let mut serve = self
            .cargo_otel()
            .arg("serve")
            .args(support::backend::FREE_PORTS)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cargo otel serve");
        let env = exports(serve.stdout.take().expect("piped"));
        let run = || {
            let output = work::checked(
                self.cargo()
                    .args(["run", "--quiet", "-p", PACKAGE, "--", "first-span"])
                    .envs(env.iter().map(|(k, v)| (k, v)))
                    .stdin(Stdio::null()),
            );
            assert_exported(&output.stderr);
            exported_at(&output.stdout[..])
        };
        run();
        let edited = self.edit();
        let exported = run();
        interrupt(&mut serve);
        seconds_since(edited, exported)
    }

    /// Runs the built program and returns when it says its span was exported.
    fn run_program(&self, env: &[(String, String)]) -> SystemTime {
        let program = self.target_dir.join("debug").join(PACKAGE);
        let output = work::checked(
            Command::new(program)
                .arg("first-span")
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null()),
        );
        assert_exported(&output.stderr);
        exported_at(&output.stdout[..])
    }
}

/// Each time the program printed at exit, as it comes.
fn exports_over_time(stdout: impl Read + Send + 'static) -> mpsc::Receiver<SystemTime> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = parse_exported(&line) {
                let _ = tx.send(at);
            }
        }
    });
    rx
}

fn parse_exported(line: &str) -> Option<SystemTime> {
    let nanos: u64 = line
        .strip_prefix("first span exported at ")?
        .trim()
        .parse()
        .ok()?;
    Some(UNIX_EPOCH + Duration::from_nanos(nanos))
}

/// The time the program printed at exit (`first span exported at <ns>`).
fn exported_at(stdout: impl Read) -> SystemTime {
    BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| parse_exported(&line))
        .expect("the program's exit line")
}

fn seconds_since(started: SystemTime, then: SystemTime) -> f64 {
    then.duration_since(started)
        .expect("the export after the start")
        .as_secs_f64()
}

/// The generated module reports a failed export (or shutdown) on stderr.
fn assert_exported(stderr: &[u8]) {
    let stderr = String::from_utf8_lossy(stderr);
    assert!(
        !stderr.contains("failed to shut down OpenTelemetry") && !stderr.contains("ExportError"),
        "the program could not export:\n{stderr}"
    );
}

/// When the feed on `stderr` shows the first span.
fn watch_feed(stderr: impl Read + Send + 'static) -> mpsc::Receiver<Instant> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent && is_feed_line(&line) {
                sent = tx.send(Instant::now()).is_ok();
            }
        }
    });
    rx
}

/// `       Trace bench-generated first span (1.2 ms)`.
fn is_feed_line(line: &str) -> bool {
    line.trim_start().starts_with("Trace ") && line.contains(SPAN)
}

/// The `export KEY=VALUE` lines a dashboard prints on stdout, all in one
/// write: read up to the endpoint, then whatever came with it.
fn exports(stdout: impl Read) -> Vec<(String, String)> {
    let mut reader = BufReader::new(stdout);
    let mut env = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader.read_line(&mut line).expect("read the environment");
        if read == 0 {
            break;
        }
        if let Some((key, value)) = line
            .trim()
            .strip_prefix("export ")
            .and_then(|kv| kv.split_once('='))
        {
            env.push((key.to_owned(), value.to_owned()));
        }
        let has_endpoint = env.iter().any(|(k, _)| k == "OTEL_EXPORTER_OTLP_ENDPOINT");
        if has_endpoint && reader.buffer().is_empty() {
            break;
        }
    }
    assert!(!env.is_empty(), "no environment printed");
    env
}

fn wait_success(child: &mut Child, what: &str) {
    let status = child
        .wait()
        .unwrap_or_else(|e| panic!("wait for {what}: {e}"));
    assert!(status.success(), "{what}: {status}");
}

/// Ctrl-C, as a user stops `cargo otel serve`.
fn interrupt(child: &mut Child) {
    let pid = child.id().to_string();
    work::checked(Command::new("kill").args(["-INT", &pid]));
    wait_success(child, "cargo otel serve");
}
