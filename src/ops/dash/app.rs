//! Running the user's program with telemetry pointed at the dashboard, and
//! stopping it gently on Ctrl-C so its last spans still arrive.

use std::{
    ffi::OsString,
    future::Future,
    path::Path,
    process::ExitStatus,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context as _;
use tokio::{
    process::{Child, Command},
    time::{Instant, sleep_until},
};

use crate::{
    Shell,
    backend::model::{RUN, RUN_STARTED},
    signals::StopSignals,
};

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

/// Which run of the program this is (`--watch` runs it again after each
/// change), as resource attributes: [`RUN`] and [`RUN_STARTED`].
#[derive(Debug, Clone, Copy)]
pub(super) struct RunLabel {
    pub number: u32,
    pub started: SystemTime,
}

impl RunLabel {
    pub(super) fn now(number: u32) -> Self {
        Self {
            number,
            started: SystemTime::now(),
        }
    }
}

/// The environment the program gets: the backend's endpoint and key, the
/// service identity, the run and the development tuning. What the user set
/// wins.
pub(super) fn environment(
    backend: Vec<(&'static str, String)>,
    service: &str,
    instance: &str,
    run: RunLabel,
) -> Vec<(&'static str, String)> {
    let mut env = backend;
    env.push(("OTEL_SERVICE_NAME", service.to_owned()));
    let ours = [
        ("service.instance.id", instance.to_owned()),
        (RUN, run.number.to_string()),
        (RUN_STARTED, rfc3339(run.started)),
    ];
    let theirs = std::env::var("OTEL_RESOURCE_ATTRIBUTES").unwrap_or_default();
    env.push((
        "OTEL_RESOURCE_ATTRIBUTES",
        resource_attributes(&theirs, &ours),
    ));
    env.extend(
        DEVELOPMENT_TUNING
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned())),
    );
    env
}

/// `OTEL_RESOURCE_ATTRIBUTES`: theirs, plus each of ours they did not set.
fn resource_attributes(theirs: &str, ours: &[(&str, String)]) -> String {
    let theirs = theirs.trim_matches(|c: char| c == ',' || c.is_whitespace());
    let set: Vec<&str> = theirs
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, _)| key.trim())
        .collect();
    let added = ours
        .iter()
        .filter(|(key, _)| !set.contains(key))
        .map(|(key, value)| format!("{key}={value}"));
    let all: Vec<String> = std::iter::once(theirs.to_owned())
        .filter(|t| !t.is_empty())
        .chain(added)
        .collect();
    all.join(",")
}

/// UTC, to the millisecond: `2026-12-07T12:41:14.123Z`.
fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (days, seconds) = (since.as_secs() / 86_400, since.as_secs() % 86_400);
    // Howard Hinnant's `civil_from_days`, for days since 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        since.subsec_millis()
    )
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
/// [`FLUSH_GRACE`] to exit on its own; a second one kills it. `restart`
/// (a change, with `--watch`) stops it the same way, with SIGINT at once.
pub(super) async fn run(
    mut command: Command,
    shell: &Shell,
    restart: impl Future<Output = ()>,
) -> anyhow::Result<ExitStatus> {
    // Watching before the spawn: a signal in between would otherwise kill
    // dash (SIGTERM's default action) and orphan the program.
    let mut signals = StopSignals::new()?;
    let mut child = command.spawn().context("failed to start the program")?;
    let mut grace = Grace::default();
    let mut restart = std::pin::pin!(restart);
    loop {
        tokio::select! {
            status = child.wait() => return status.context("failed to wait for the program"),
            () = &mut restart, if !grace.stopping() => {
                grace.stop_now();
                continue;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_are_added_unless_the_user_set_them() {
        let ours = [
            ("service.instance.id", "abc".to_owned()),
            (RUN, "2".to_owned()),
        ];
        assert_eq!(
            resource_attributes("", &ours),
            "service.instance.id=abc,cargo_otel.run=2"
        );
        assert_eq!(
            resource_attributes(" team=core, service.instance.id = mine ,", &ours),
            "team=core, service.instance.id = mine,cargo_otel.run=2"
        );
    }

    #[test]
    fn run_start_times_are_rfc3339_in_utc() {
        let at = |seconds: u64, millis: u64| {
            rfc3339(UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_millis(millis))
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(1_796_647_274, 123), "2026-12-07T12:41:14.123Z");
    }
}
