//! Running the user's program with telemetry pointed at the dashboard, and
//! stopping it gently on Ctrl-C so its last spans still arrive.

use std::{ffi::OsString, path::Path, process::ExitStatus, time::Duration};

use anyhow::Context as _;
use tokio::{
    process::{Child, Command},
    time::{Instant, sleep_until},
};

use crate::{Shell, signals::StopSignals};

/// Aspire's development settings: export every second instead of every 5 s
/// (spans), 1 s (logs) and 60 s (metrics), and sample everything.
const DEVELOPMENT_TUNING: [(&str, &str); 4] = [
    ("OTEL_BSP_SCHEDULE_DELAY", "1000"),
    ("OTEL_BLRP_SCHEDULE_DELAY", "1000"),
    ("OTEL_METRIC_EXPORT_INTERVAL", "1000"),
    ("OTEL_TRACES_SAMPLER", "always_on"),
];

/// Variables that decide where telemetry goes: worth a warning when the
/// user's own setting wins over the dashboard's.
const ROUTING: [&str; 3] = [
    "OTLP_GRPC_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
];

/// How long a program gets to flush after Ctrl-C before it is killed.
const FLUSH_GRACE: Duration = Duration::from_secs(10);
/// After Ctrl-C, when to pass the signal on ourselves: a terminal sends it to
/// the program too, but `kill -INT` aimed at us alone does not.
const FORWARD_AFTER: Duration = Duration::from_secs(1);

/// The environment the program gets: the backend's endpoint and key, the
/// service identity and the development tuning. What the user set wins.
pub(super) fn environment(
    backend: Vec<(&'static str, String)>,
    service: &str,
    instance: &str,
) -> Vec<(&'static str, String)> {
    let mut env = backend;
    env.push(("OTEL_SERVICE_NAME", service.to_owned()));
    let instance_attribute = format!("service.instance.id={instance}");
    let attributes = match std::env::var("OTEL_RESOURCE_ATTRIBUTES") {
        // Theirs, plus ours unless they set it.
        Ok(theirs) if theirs.contains("service.instance.id=") => theirs,
        Ok(theirs) if !theirs.trim().is_empty() => format!("{theirs},{instance_attribute}"),
        _ => instance_attribute,
    };
    env.push(("OTEL_RESOURCE_ATTRIBUTES", attributes));
    env.extend(
        DEVELOPMENT_TUNING
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned())),
    );
    env
}

pub(super) fn command(
    executable: &Path,
    args: &[OsString],
    env: &[(&'static str, String)],
    shell: &Shell,
) -> Command {
    let mut command = Command::new(executable);
    // A program must not outlive dash when dash gives up on an error.
    command.args(args).kill_on_drop(true);
    for (key, value) in env {
        let theirs = std::env::var_os(key);
        match theirs {
            Some(theirs) if *key != "OTEL_RESOURCE_ATTRIBUTES" => {
                if ROUTING.contains(key) {
                    let theirs = theirs.to_string_lossy();
                    shell.warn(format!("{key}={theirs} is set in your environment, so the program uses it and not the dashboard's"));
                }
            }
            _ => {
                command.env(key, value);
            }
        }
    }
    command
}

/// Runs the program to its end. The first Ctrl-C (or SIGTERM) gives it
/// [`FLUSH_GRACE`] to exit on its own; a second one kills it.
pub(super) async fn run(mut command: Command, shell: &Shell) -> anyhow::Result<ExitStatus> {
    // Watching before the spawn: a signal in between would otherwise kill
    // dash (SIGTERM's default action) and orphan the program.
    let mut signals = StopSignals::new()?;
    let mut child = command.spawn().context("failed to start the program")?;
    let mut grace = Grace::default();
    loop {
        tokio::select! {
            status = child.wait() => return status.context("failed to wait for the program"),
            () = signals.recv() => {}
            () = sleep_until(grace.forward_at) => {
                grace.forwarded();
                signal_child(&child, libc::SIGINT);
                continue;
            }
            () = sleep_until(grace.kill_at) => {
                shell.warn("the program did not exit in time; killing it");
                grace.killed();
                let _ = child.start_kill();
                continue;
            }
        }
        if grace.interrupted() {
            announce_stop(shell, "the program");
        } else {
            let _ = child.start_kill();
        }
    }
}

/// `Stopping <what> (up to 10 s to flush ...)`.
pub(super) fn announce_stop(shell: &Shell, what: &str) {
    let grace = FLUSH_GRACE.as_secs();
    shell.status(
        "Stopping",
        format!("{what} (up to {grace} s to flush its telemetry; Ctrl-C again kills it)"),
    );
}

/// When to pass SIGINT on and when to kill, after a request to stop.
pub(super) struct Grace {
    pub(super) forward_at: Instant,
    pub(super) kill_at: Instant,
    requests: u32,
}

impl Default for Grace {
    fn default() -> Self {
        Self {
            forward_at: far_future(),
            kill_at: far_future(),
            requests: 0,
        }
    }
}

impl Grace {
    /// A Ctrl-C: true for the first (the grace period starts), false for a
    /// second one (kill now).
    pub(super) fn interrupted(&mut self) -> bool {
        self.requests += 1;
        if self.requests == 1 {
            self.start(FORWARD_AFTER);
            true
        } else {
            false
        }
    }

    /// Stops without a Ctrl-C from the terminal (another service failed):
    /// SIGINT at once, then the same grace period.
    pub(super) fn stop_now(&mut self) {
        if self.requests == 0 {
            self.requests = 1;
            self.start(Duration::ZERO);
        }
    }

    pub(super) fn stopping(&self) -> bool {
        self.requests > 0
    }

    fn start(&mut self, forward_after: Duration) {
        self.forward_at = Instant::now() + forward_after;
        self.kill_at = Instant::now() + FLUSH_GRACE;
    }

    pub(super) fn forwarded(&mut self) {
        self.forward_at = far_future();
    }

    pub(super) fn killed(&mut self) {
        self.kill_at = far_future();
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(365 * 24 * 3600)
}

pub(super) fn signal_child(child: &Child, signal: libc::c_int) {
    let Some(pid) = child.id().and_then(|pid| libc::pid_t::try_from(pid).ok()) else {
        return; // Already reaped.
    };
    // SAFETY: `kill` has no memory-safety preconditions; the pid is our own
    // child, which has not been reaped (so the pid cannot have been reused).
    unsafe {
        libc::kill(pid, signal);
    }
}

/// A shell-style exit code: the program's own, or 128 + the signal that ended it.
pub(super) fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(1),
        (None, None) => 1,
    }
}
