//! Area 2: time to first span. From invoking `cargo otel dash` to the first
//! span accepted by its dashboard, against the same steps run one after
//! another: the dashboard up (`cargo otel serve`, or `cargo otel dash
//! --detach` for the container), then `cargo build`, then the program run
//! with the dashboard's environment.
//!
//! The program is `bench-generated` (area 1's instrumented crate, a debug
//! build as `dash` makes it) with the argument `first-span`: one span, then
//! exit. "Accepted" is the dashboard's terminal feed line for that span: on
//! the stderr of `dash`/`serve` for the local backend, and, timestamped by
//! the daemon, in the container's log for the Docker stand-in image
//! (`tests/docker_support`). No container runs at the start of a run.
//!
//! Warm: the crate is built. Cold: the crate's own code is rebuilt
//! (`cargo clean -p bench-generated` before the run; its dependencies stay
//! built), which shows what overlapping the build with the start-up buys.

use std::{
    io::{BufRead as _, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use bollard::{Docker, query_parameters::LogsOptionsBuilder};
use futures_util::TryStreamExt as _;

use crate::{
    Settings, docker_support,
    report::{Row, Target},
    support, work,
};

const PACKAGE: &str = "bench-generated";
const SPAN: &str = "first span";
/// Longest a run may take before the benchmark gives up.
const PATIENCE: Duration = Duration::from_secs(300);
const ANY_PORT: [&str; 6] = ["--grpc-port", "0", "--http-port", "0", "--ui-port", "0"];

struct Bench<'a> {
    workspace: &'a Path,
    target_dir: PathBuf,
    docker: Option<(Docker, String)>,
}

pub(crate) fn run(settings: &Settings) -> Vec<Row> {
    let bench = Bench {
        workspace: work::pipeline_workspace(),
        target_dir: work::work_dir("dash-target"),
        docker: docker_support::docker().map(|docker| {
            let image = stand_in(&docker);
            (docker, image)
        }),
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
            let docker = bench.docker.as_ref().map(|(docker, image)| {
                [
                    bench.docker_dash(docker, image, cold),
                    bench.docker_sequential(docker, image, cold),
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
    rows
}

/// The tests' stand-in for the Aspire image (this build of cargo-otel,
/// static, `FROM scratch`), imported under the benchmark's own name and
/// label: the tests remove stand-ins of other builds with their label, and
/// another checkout's tests may run meanwhile on a shared daemon.
fn stand_in(docker: &Docker) -> String {
    let binary = docker_support::stand_in_binary();
    let bytes = std::fs::read(binary)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", binary.display()));
    let image = "cargo-otel-bench/aspire-stand-in:latest";
    docker_support::import(docker, &bytes, image, "dev.cargo-otel.bench=1");
    image.to_owned()
}

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

    /// Untimed: the state a run starts from.
    fn prepare(&self, cold: bool) {
        if cold {
            work::checked(self.cargo().args(["clean", "--quiet", "-p", PACKAGE]));
        }
        if let Some((_, image)) = &self.docker {
            // No container from an earlier run (nothing to remove is fine).
            let _ = self
                .cargo_otel()
                .args([
                    "dash",
                    "-p",
                    PACKAGE,
                    "--backend",
                    "docker",
                    "--image",
                    image,
                    "--stop",
                ])
                .output();
        }
    }

    fn local_dash(&self, cold: bool) -> f64 {
        self.prepare(cold);
        let started = Instant::now();
        let mut child = self
            .cargo_otel()
            .args(["dash", "-p", PACKAGE, "--backend", "local"])
            .args(ANY_PORT)
            .args(["--", "first-span"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cargo otel dash");
        let seen = watch_feed(child.stderr.take().expect("piped"));
        let first = seen
            .recv_timeout(PATIENCE)
            .expect("the first span in dash's feed");
        wait_success(&mut child, "cargo otel dash");
        (first - started).as_secs_f64()
    }

    fn local_sequential(&self, cold: bool) -> f64 {
        self.prepare(cold);
        let started = Instant::now();
        let mut serve = self
            .cargo_otel()
            .arg("serve")
            .args(ANY_PORT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cargo otel serve");
        let seen = watch_feed(serve.stderr.take().expect("piped"));
        let env = exports(serve.stdout.take().expect("piped"));
        work::checked(self.cargo().args(["build", "-p", PACKAGE]));
        self.run_program(&env);
        let first = seen
            .recv_timeout(PATIENCE)
            .expect("the first span in serve's feed");
        let elapsed = (first - started).as_secs_f64();
        interrupt(&mut serve);
        elapsed
    }

    fn docker_dash(&self, docker: &Docker, image: &str, cold: bool) -> f64 {
        self.prepare(cold);
        let started = SystemTime::now();
        let output = work::checked(
            self.cargo_otel()
                .args([
                    "dash",
                    "-p",
                    PACKAGE,
                    "--backend",
                    "docker",
                    "--image",
                    image,
                    "--keep",
                ])
                .args(ANY_PORT)
                .args(["--", "first-span"])
                .stdin(Stdio::null()),
        );
        let container = container_name(&String::from_utf8_lossy(&output.stderr));
        first_span_logged(docker, &container, started)
    }

    fn docker_sequential(&self, docker: &Docker, image: &str, cold: bool) -> f64 {
        self.prepare(cold);
        let started = SystemTime::now();
        let output = work::checked(
            self.cargo_otel()
                .args([
                    "dash",
                    "-p",
                    PACKAGE,
                    "--backend",
                    "docker",
                    "--image",
                    image,
                ])
                .args(["--detach", "--print-env"])
                .args(ANY_PORT)
                .stdin(Stdio::null()),
        );
        let env = exports(&output.stdout[..]);
        work::checked(self.cargo().args(["build", "-p", PACKAGE]));
        self.run_program(&env);
        let container = container_name(&String::from_utf8_lossy(&output.stderr));
        first_span_logged(docker, &container, started)
    }

    fn run_program(&self, env: &[(String, String)]) {
        let program = self.target_dir.join("debug").join(PACKAGE);
        work::checked(
            Command::new(program)
                .arg("first-span")
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null()),
        );
    }
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

fn container_name(stderr: &str) -> String {
    stderr
        .split("dashboard container ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no container named in:\n{stderr}"))
        .to_owned()
}

/// Seconds from `started` to the daemon's timestamp on the container's feed
/// line for the span; the container is removed afterwards.
fn first_span_logged(docker: &Docker, container: &str, started: SystemTime) -> f64 {
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .timestamps(true)
        .tail("all")
        .build();
    let deadline = Instant::now() + Duration::from_secs(30);
    let logged = loop {
        let frames: Vec<_> =
            docker_support::block_on(docker.logs(container, Some(options.clone())).try_collect())
                .unwrap_or_else(|e| panic!("logs of {container}: {e}"));
        let text: String = frames.iter().map(ToString::to_string).collect();
        let found = text.lines().find_map(|line| {
            let (stamp, rest) = line.split_once(' ')?;
            is_feed_line(rest).then(|| parse_timestamp(stamp))
        });
        if let Some(logged) = found {
            break logged;
        }
        assert!(
            Instant::now() < deadline,
            "no `{SPAN}` in the log of {container}:\n{text}"
        );
        thread::sleep(Duration::from_millis(100));
    };
    docker_support::remove_container(docker, container);
    logged
        .duration_since(started)
        .expect("the span after the start")
        .as_secs_f64()
}

/// `2026-11-25T01:23:45.123456789Z` (what the daemon puts before a line).
fn parse_timestamp(stamp: &str) -> SystemTime {
    fn number<T: std::str::FromStr>(text: &str, stamp: &str) -> T {
        text.parse()
            .unwrap_or_else(|_| panic!("bad timestamp {stamp:?}"))
    }
    let parts = |text: &str, sep: char| -> [i64; 3] {
        let numbers: Vec<i64> = text.split(sep).map(|n| number(n, stamp)).collect();
        <[i64; 3]>::try_from(numbers).unwrap_or_else(|_| panic!("bad timestamp {stamp:?}"))
    };
    let (date, time) = stamp
        .trim_end_matches('Z')
        .split_once('T')
        .unwrap_or_else(|| panic!("bad timestamp {stamp:?}"));
    let [year, month, day] = parts(date, '-');
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let [hours, minutes, seconds] = parts(clock, ':');
    let nanos: u32 = number(&format!("{fraction:0<9}")[..9], stamp);
    let secs = days_from_civil(year, month, day) * 86_400 + hours * 3_600 + minutes * 60 + seconds;
    UNIX_EPOCH + Duration::new(number(&secs.to_string(), stamp), nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}
