//! Ctrl-C (or a terminal hang-up, or `kill`) while files are being replaced
//! must not leave half the edits behind: the signal is recorded instead of
//! ending the process, and the writer rolls back.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use anyhow::Context as _;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

pub(super) struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Starts recording the signals. They stay caught for the rest of the
    /// process (signal-hook cannot restore the default action), which is fine
    /// here: a command writes its files last and exits right after.
    pub(super) fn watch() -> anyhow::Result<Self> {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            signal_hook::flag::register(signal, Arc::clone(&flag))
                .context("failed to install a signal handler")?;
        }
        Ok(Self(flag))
    }

    pub(super) fn happened(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
