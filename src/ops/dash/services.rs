//! Several programs against one dashboard (`dash -p a -p b`, `--workspace`):
//! started in order (waiting for a port where asked), their output merged
//! line by line behind a coloured service name, stopped together.
//!
//! Exit code: the first program to fail decides it (its code, or 128 + the
//! signal, so 130 for one ended by Ctrl-C); when one fails the others are
//! stopped like on Ctrl-C, and their codes no longer count. A program that
//! exits with 0 leaves the others running. A `--wait-port` program that
//! exits or is not ready within 60 s stops everything (code 1 unless it
//! failed with its own). All 0 gives 0.

use std::{
    collections::VecDeque,
    ffi::OsString,
    future::Future,
    io::Write as _,
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    pin::Pin,
    process::{ExitStatus, Stdio},
    time::Duration,
};

use anstyle::{AnsiColor, Style};
use anyhow::Context as _;
use tokio::{
    io::{AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, BufReader},
    process::Child,
    task::JoinHandle,
    time::{Instant, sleep_until},
};

use super::app::{self, Grace};
use crate::{Shell, signals::StopSignals};

/// How often exits and readiness are checked.
const POLL: Duration = Duration::from_millis(50);
/// How long a `--wait-port` service may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait for the last output once every program has exited (a
/// grandchild may still hold the pipe open).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Colours cycled through the services, as `docker compose` does.
const PALETTE: [AnsiColor; 6] = [
    AnsiColor::Cyan,
    AnsiColor::Yellow,
    AnsiColor::Green,
    AnsiColor::Magenta,
    AnsiColor::Blue,
    AnsiColor::BrightRed,
];

/// One program to run.
#[derive(Debug)]
pub(super) struct Service {
    /// The name shown in front of its lines, and its `OTEL_SERVICE_NAME`.
    pub name: String,
    pub executable: PathBuf,
    pub env: Vec<(&'static str, String)>,
    /// Start it before the others and wait until 127.0.0.1:port accepts.
    pub wait_port: Option<u16>,
}

/// How each program ended, in start order.
#[derive(Debug)]
pub(super) struct Outcome {
    pub exits: Vec<(String, u8)>,
    pub code: u8,
}

struct Running {
    name: String,
    child: Child,
    exit: Option<u8>,
}

/// Runs all `services` to their end; see the module docs for the rules.
/// `restart` (a change, with `--watch`) stops them all like a failure does.
pub(super) async fn run(
    services: Vec<Service>,
    args: &[OsString],
    shell: &Shell,
    restart: impl Future<Output = ()>,
) -> anyhow::Result<Outcome> {
    let mut supervisor = Supervisor::new(services)?;
    let mut restart = std::pin::pin!(restart);
    loop {
        supervisor.start_what_may_start(args, shell)?;
        if supervisor.all_ended() {
            break;
        }
        supervisor.next_event(shell, restart.as_mut()).await;
        supervisor.collect_exits(shell)?;
        supervisor.check_readiness(shell).await;
    }
    Ok(supervisor.finish().await)
}

/// The services started and to start, and how the run is going.
struct Supervisor {
    width: usize,
    pending: VecDeque<(usize, Service)>,
    running: Vec<Running>,
    output: Vec<JoinHandle<()>>,
    /// The started service that the next ones wait for: its index, address
    /// and deadline.
    waiting: Option<(usize, SocketAddr, Instant)>,
    first_failure: Option<u8>,
    signals: StopSignals,
    grace: Grace,
}

impl Supervisor {
    fn new(services: Vec<Service>) -> anyhow::Result<Self> {
        Ok(Self {
            width: services.iter().map(|s| s.name.len()).max().unwrap_or(0),
            pending: start_order(services).into(),
            running: Vec::new(),
            output: Vec::new(),
            waiting: None,
            first_failure: None,
            signals: StopSignals::new()?,
            grace: Grace::default(),
        })
    }

    /// Starts everything up to the next service to wait for.
    fn start_what_may_start(&mut self, args: &[OsString], shell: &Shell) -> anyhow::Result<()> {
        while self.waiting.is_none() && !self.grace.stopping() {
            let Some((color, service)) = self.pending.pop_front() else {
                break;
            };
            let prefix = Prefix::new(&service.name, self.width, color);
            let (running, output) = spawn(&service, args, shell, prefix)?;
            self.output.extend(output);
            self.running.push(running);
            if let Some(port) = service.wait_port {
                let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                let deadline = Instant::now() + READY_TIMEOUT;
                self.waiting = Some((self.running.len() - 1, addr, deadline));
            }
        }
        Ok(())
    }

    /// Every started program has exited, and none is left to start.
    fn all_ended(&self) -> bool {
        self.running.iter().all(|r| r.exit.is_some())
            && (self.pending.is_empty() || self.grace.stopping())
    }

    /// A request to stop, a restart, the grace period's next step, or a
    /// poll's tick.
    async fn next_event(&mut self, shell: &Shell, restart: Pin<&mut impl Future<Output = ()>>) {
        tokio::select! {
            () = restart, if !self.grace.stopping() => self.grace.stop_now(),
            () = self.signals.recv() => {
                if self.grace.interrupted() {
                    app::announce_stop(shell, "the programs");
                } else {
                    kill_all(&mut self.running);
                }
            }
            () = sleep_until(self.grace.forward_at) => {
                self.grace.forwarded();
                interrupt_all(&self.running);
            }
            () = sleep_until(self.grace.kill_at) => {
                shell.warn("not every program exited in time; killing the rest");
                self.grace.killed();
                kill_all(&mut self.running);
            }
            () = tokio::time::sleep(POLL) => {}
        }
    }

    /// Notes the programs that exited; the first failure stops the rest.
    fn collect_exits(&mut self, shell: &Shell) -> anyhow::Result<()> {
        for service in &mut self.running {
            if service.exit.is_some() {
                continue;
            }
            let Some(status) = service
                .child
                .try_wait()
                .context("failed to wait for a program")?
            else {
                continue;
            };
            let code = app::exit_code(status);
            service.exit = Some(code);
            report_exit(shell, &service.name, code, status);
            if code != 0 && self.first_failure.is_none() {
                self.first_failure = Some(code);
                self.grace.stop_now();
            }
        }
        Ok(())
    }

    /// Whether the service waited for is ready, gone, or too late.
    async fn check_readiness(&mut self, shell: &Shell) {
        let Some((index, addr, deadline)) = self.waiting else {
            return;
        };
        let service = &self.running[index];
        if service.exit.is_some() {
            self.waiting = None;
            // Ended by our own Ctrl-C: its exit code already counts.
            if !self.grace.stopping() {
                self.fail();
            }
        } else if accepts(addr).await {
            shell.status(
                "Ready",
                format!("`{}` accepts connections on {addr}", service.name),
            );
            self.waiting = None;
        } else if Instant::now() > deadline {
            shell.failure_status(
                "Timeout",
                format!(
                    "`{}` did not accept connections on {addr} within {} s; stopping",
                    service.name,
                    READY_TIMEOUT.as_secs()
                ),
            );
            self.waiting = None;
            self.fail();
        }
    }

    /// Stops everything with code 1, unless a program failed with its own.
    fn fail(&mut self) {
        self.first_failure.get_or_insert(1);
        self.grace.stop_now();
    }

    async fn finish(self) -> Outcome {
        drain(self.output).await;
        let exits: Vec<(String, u8)> = self
            .running
            .into_iter()
            .map(|r| (r.name, r.exit.unwrap_or(1)))
            .collect();
        let code = self.first_failure.unwrap_or(0);
        Outcome { exits, code }
    }
}

/// Services with `--wait-port` first (in the order given), then the rest;
/// each keeps the colour of its place in the list.
fn start_order(services: Vec<Service>) -> Vec<(usize, Service)> {
    let (mut first, rest): (Vec<_>, Vec<_>) = services
        .into_iter()
        .enumerate()
        .partition(|(_, s)| s.wait_port.is_some());
    first.extend(rest);
    first
}

fn spawn(
    service: &Service,
    args: &[OsString],
    shell: &Shell,
    prefix: Prefix,
) -> anyhow::Result<(Running, Vec<JoinHandle<()>>)> {
    let mut command = app::command(&service.executable, args, &service.env, shell);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .with_context(|| format!("failed to start `{}`", service.name))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let tasks = vec![
        tokio::spawn(forward(stdout, prefix.clone(), Stream::Stdout)),
        tokio::spawn(forward(stderr, prefix, Stream::Stderr)),
    ];
    let running = Running {
        name: service.name.clone(),
        child,
        exit: None,
    };
    Ok((running, tasks))
}

fn report_exit(shell: &Shell, name: &str, code: u8, status: ExitStatus) {
    let message = format!("`{name}` with code {code}");
    if status.success() {
        shell.status("Exited", message);
    } else {
        shell.failure_status("Exited", message);
    }
}

fn interrupt_all(running: &[Running]) {
    for service in running.iter().filter(|r| r.exit.is_none()) {
        app::signal_child(&service.child, libc::SIGINT);
    }
}

fn kill_all(running: &mut [Running]) {
    for service in running.iter_mut().filter(|r| r.exit.is_none()) {
        let _ = service.child.start_kill();
    }
}

async fn accepts(addr: SocketAddr) -> bool {
    let connect = tokio::net::TcpStream::connect(addr);
    matches!(tokio::time::timeout(POLL, connect).await, Ok(Ok(_)))
}

async fn drain(output: Vec<JoinHandle<()>>) {
    let all = futures_util::future::join_all(output);
    // Output still held open by a grandchild is dropped rather than waited for.
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, all).await;
}

/// `front | ` in the service's colour, padded to the longest name.
#[derive(Debug, Clone)]
struct Prefix(String);

impl Prefix {
    fn new(name: &str, width: usize, index: usize) -> Self {
        let style = Style::new().fg_color(Some(PALETTE[index % PALETTE.len()].into()));
        Self(format!("{style}{name:<width$} |{style:#} "))
    }
}

/// The longest piece of output forwarded as one line.
const MAX_LINE: u64 = 64 * 1024;

#[derive(Debug, Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// Copies `pipe` line by line, each line behind `prefix`, to the same stream
/// of ours (data stays on stdout, diagnostics on stderr).
async fn forward(pipe: impl AsyncRead + Unpin, prefix: Prefix, stream: Stream) {
    let mut reader = BufReader::new(pipe);
    let mut line = Vec::new();
    loop {
        line.clear();
        // A line without a newline is cut into pieces rather than held in
        // memory without bound.
        match (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        // The program's bytes as they came (not necessarily UTF-8).
        let mut text = prefix.0.clone().into_bytes();
        text.extend_from_slice(&line);
        if !line.ends_with(b"\n") {
            text.push(b'\n');
        }
        // A closed pipe on our side (`| head`) only loses output.
        let _ = match stream {
            Stream::Stdout => anstream::stdout().lock().write_all(&text),
            Stream::Stderr => anstream::stderr().lock().write_all(&text),
        };
    }
}
