//! Area 1: what the generated telemetry pipeline costs a program.
//!
//! Three release builds of one workload (`benches/fixtures/pipeline`,
//! sharing one target directory), each timing itself and printing ns per
//! span, per event and per counter increment:
//!
//! * `plain`: `tracing` with a console subscriber and no OpenTelemetry
//!   pipeline (the counter is the OpenTelemetry API's no-op);
//! * `generated`: a copy of `plain` instrumented by this build's
//!   `cargo otel init` at bench time (OTLP/gRPC);
//! * `upstream`: opentelemetry-otlp's `basic-otlp-http` example wiring with
//!   the crate's default features (OTLP/HTTP, blocking reqwest).
//!
//! Each runs with the collector up (the local backend, in this process),
//! down (nothing listens) and hung (a listener that accepts and never
//! answers).

use std::{
    collections::HashMap,
    io::{BufRead as _, BufReader},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use cargo_otel::backend::{Backend, BackendConfig};

use crate::{
    Settings,
    report::{Row, Target},
    work,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Variant {
    Plain,
    Generated,
    Upstream,
}

const VARIANTS: [Variant; 3] = [Variant::Plain, Variant::Generated, Variant::Upstream];

impl Variant {
    fn package(self) -> &'static str {
        match self {
            Self::Plain => "bench-plain",
            Self::Generated => "bench-generated",
            Self::Upstream => "bench-upstream",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Collector {
    Up,
    Down,
    Hung,
}

const COLLECTORS: [Collector; 3] = [Collector::Up, Collector::Down, Collector::Hung];

impl Collector {
    fn name(self) -> &'static str {
        match self {
            Self::Up => "collector up",
            Self::Down => "collector down",
            Self::Hung => "collector hung",
        }
    }
}

/// One run of one program: nanoseconds per operation, wall-clock and the
/// calling thread's CPU time.
#[derive(Debug, Clone, Copy)]
struct Sample {
    span_ns: f64,
    event_ns: f64,
    counter_ns: f64,
    span_cpu_ns: f64,
    event_cpu_ns: f64,
    counter_cpu_ns: f64,
    /// From start to exit, shutdown included.
    wall_s: f64,
}

/// A program that has not exited this long after its workload is killed.
const EXIT_LIMIT: Duration = Duration::from_secs(40);

pub(crate) fn run(settings: &Settings) -> Vec<Row> {
    let binaries = build();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut config = BackendConfig::loopback("bench-pipeline");
    for addr in [&mut config.grpc, &mut config.http, &mut config.ui] {
        addr.set_port(0);
    }
    let backend = runtime
        .block_on(Backend::start(config))
        .expect("start the backend");
    let down = unused_port();
    let hung = HungListener::start();
    let iterations = if settings.quick { 5_000 } else { 20_000 };

    let mut samples: HashMap<(Variant, Collector), Vec<Sample>> = HashMap::new();
    for run in 0..settings.runs {
        for collector in COLLECTORS {
            let (grpc, http) = match collector {
                Collector::Up => (backend.grpc_endpoint(), backend.http_endpoint()),
                Collector::Down => (endpoint(down), endpoint(down)),
                Collector::Hung => (endpoint(hung.addr), endpoint(hung.addr)),
            };
            for variant in VARIANTS {
                let env = [
                    ("OTLP_GRPC_ENDPOINT", grpc.as_str()),
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", http.as_str()),
                ];
                let sample = run_program(&binaries[&variant], &env, iterations);
                println!(
                    "pipeline: run {}, {:?}, {}: {:.0} ns/span, {:.0} ns/event, {:.0} ns/counter add \
                     (CPU {:.0}, {:.0}, {:.0}), {:.2} s",
                    run + 1,
                    variant,
                    collector.name(),
                    sample.span_ns,
                    sample.event_ns,
                    sample.counter_ns,
                    sample.span_cpu_ns,
                    sample.event_cpu_ns,
                    sample.counter_cpu_ns,
                    sample.wall_s
                );
                samples
                    .entry((variant, collector))
                    .or_default()
                    .push(sample);
            }
        }
    }
    runtime.block_on(backend.stop()).expect("stop the backend");
    rows(&samples)
}

/// What is timed, its unit, and where its CPU and wall-clock figures are in
/// a sample.
type Operation = (
    &'static str,
    &'static str,
    fn(&Sample) -> f64,
    fn(&Sample) -> f64,
);

fn rows(samples: &HashMap<(Variant, Collector), Vec<Sample>>) -> Vec<Row> {
    let series = |variant, collector, pick: fn(&Sample) -> f64| -> Vec<f64> {
        samples[&(variant, collector)].iter().map(pick).collect()
    };
    let operations: [Operation; 3] = [
        ("span", "ns/span", |s| s.span_cpu_ns, |s| s.span_ns),
        ("event", "ns/event", |s| s.event_cpu_ns, |s| s.event_ns),
        (
            "counter add",
            "ns/add",
            |s| s.counter_cpu_ns,
            |s| s.counter_ns,
        ),
    ];
    let mut rows = Vec::new();
    for (operation, unit, cpu, wall) in operations {
        let generated = |collector, pick| series(Variant::Generated, collector, pick);
        rows.push(
            Row::new(
                format!("generated, {operation}, CPU, collector up (b/a)"),
                unit,
                generated(Collector::Up, cpu),
            )
            .against(
                "plain tracing (a)",
                series(Variant::Plain, Collector::Up, cpu),
            ),
        );
        for collector in COLLECTORS {
            rows.push(
                Row::new(
                    format!("generated, {operation}, CPU, {} (b/c)", collector.name()),
                    unit,
                    generated(collector, cpu),
                )
                .against(
                    format!("upstream example, {}", collector.name()),
                    series(Variant::Upstream, collector, cpu),
                )
                .target(Target::RatioAtMost(1.0)),
            );
        }
        rows.push(
            Row::new(
                format!("generated, {operation}, wall, collector up (b/c)"),
                unit,
                generated(Collector::Up, wall),
            )
            .against(
                "upstream example, collector up",
                series(Variant::Upstream, Collector::Up, wall),
            )
            .target(Target::RatioAtMost(1.0)),
        );
        for collector in [Collector::Down, Collector::Hung] {
            rows.push(
                Row::new(
                    format!("generated, {operation}, wall, {} vs up", collector.name()),
                    unit,
                    generated(collector, wall),
                )
                .against("generated, collector up", generated(Collector::Up, wall))
                .target(Target::RatioAtMost(1.05)),
            );
        }
    }
    let wall = |variant, collector| series(variant, collector, |s| s.wall_s);
    rows.push(
        Row::new(
            "generated, process start to exit, collector up",
            "s",
            wall(Variant::Generated, Collector::Up),
        )
        .against(
            "plain tracing, collector up",
            wall(Variant::Plain, Collector::Up),
        ),
    );
    for collector in [Collector::Down, Collector::Hung] {
        rows.push(
            Row::new(
                format!("generated, process start to exit, {}", collector.name()),
                "s",
                wall(Variant::Generated, collector),
            )
            .against(
                "generated, collector up",
                wall(Variant::Generated, Collector::Up),
            ),
        );
        rows.push(
            Row::new(
                format!(
                    "upstream example, process start to exit, {}",
                    collector.name()
                ),
                "s",
                wall(Variant::Upstream, collector),
            )
            .against(
                "upstream example, collector up",
                wall(Variant::Upstream, Collector::Up),
            ),
        );
    }
    rows
}

/// Release builds of the three programs into one shared target directory.
fn build() -> HashMap<Variant, PathBuf> {
    let workspace = work::pipeline_workspace();
    let target_dir = work::work_dir("pipeline-target");
    VARIANTS
        .into_iter()
        .map(|variant| {
            // One package at a time, so features are not unified across them.
            let started = Instant::now();
            work::checked(work::cargo(workspace, &target_dir).args([
                "build",
                "--release",
                "--quiet",
                "-p",
                variant.package(),
            ]));
            println!(
                "pipeline: built {} in {:.1} s",
                variant.package(),
                started.elapsed().as_secs_f64()
            );
            let binary = target_dir.join("release").join(variant.package());
            (variant, binary)
        })
        .collect()
}

fn run_program(binary: &Path, env: &[(&str, &str)], iterations: u64) -> Sample {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(env.iter().copied())
        .env("BENCH_ITERATIONS", iterations.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("failed to start {}: {e}", binary.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("read the program's figures");
    let figures: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("{}: bad figures {line:?}: {e}", binary.display()));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the program") {
            break Some(status);
        }
        if started.elapsed() > EXIT_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let wall_s = started.elapsed().as_secs_f64();
    if let Some(status) = status {
        assert!(status.success(), "{}: {status}", binary.display());
    }
    let number = |key: &str| figures[key].as_f64().expect("a number");
    Sample {
        span_ns: number("span_ns"),
        event_ns: number("event_ns"),
        counter_ns: number("counter_ns"),
        span_cpu_ns: number("span_cpu_ns"),
        event_cpu_ns: number("event_cpu_ns"),
        counter_cpu_ns: number("counter_cpu_ns"),
        wall_s,
    }
}

fn endpoint(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

/// A loopback port nothing listens on (bound, then released).
fn unused_port() -> SocketAddr {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
}

/// Accepts connections and never reads or answers: a collector that hangs.
struct HungListener {
    addr: SocketAddr,
}

impl HungListener {
    fn start() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the hung listener");
        let addr = listener.local_addr().expect("its address");
        thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            for stream in listener.incoming().map_while(Result::ok) {
                held.push(stream);
            }
        });
        Self { addr }
    }
}
