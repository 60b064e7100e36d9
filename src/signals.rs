//! The requests to stop: Ctrl-C (SIGINT), SIGTERM (`kill`, `docker stop`,
//! an IDE's stop button) and SIGHUP (a closed terminal). Every command
//! watches all three, in one of two ways: [`StopSignals`] in async code
//! (`dash`, `serve`), a [`StopFlag`] around the writing of files.
//!
//! All three, always: once a process watches a signal, its default action
//! (ending the process) is gone, so one left unwatched would be ignored.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use anyhow::Context as _;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// The signals, with the name an error message gives each.
const STOP: [(libc::c_int, &str); 3] = [
    (libc::SIGINT, "Ctrl-C"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGHUP, "SIGHUP"),
];

/// The requests to stop, as one stream (needs a Tokio runtime).
pub struct StopSignals([Signal; 3]);

impl StopSignals {
    /// Starts watching; a request that comes before [`Self::recv`] is kept.
    pub fn new() -> anyhow::Result<Self> {
        let watch = |(number, name): (libc::c_int, &str)| {
            signal(SignalKind::from_raw(number))
                .with_context(|| format!("failed to watch for {name}"))
        };
        let [interrupt, terminate, hangup] = STOP;
        Ok(Self([watch(interrupt)?, watch(terminate)?, watch(hangup)?]))
    }

    /// Waits for the next request to stop.
    pub async fn recv(&mut self) {
        let [interrupt, terminate, hangup] = &mut self.0;
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
        }
    }
}

/// Whether a request to stop came, recorded instead of ending the process
/// (no runtime needed).
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// Starts recording. The signals stay caught for the rest of the process
    /// (signal-hook cannot restore the default action), which suits a command
    /// that writes its files last and exits right after.
    pub fn watch() -> anyhow::Result<Self> {
        let flag = Arc::new(AtomicBool::new(false));
        for (number, _) in STOP {
            signal_hook::flag::register(number, Arc::clone(&flag))
                .context("failed to install a signal handler")?;
        }
        Ok(Self(flag))
    }

    pub fn happened(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
