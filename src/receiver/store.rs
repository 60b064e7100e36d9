//! Shared, in-memory storage of received telemetry with change notification for both
//! synchronous waiters (tests that spawn a child process) and asynchronous ones (future
//! consumers such as a live web view).

use std::{
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::sync::watch;

use super::telemetry::Telemetry;

/// Cheaply cloneable handle to the telemetry received by one receiver.
#[derive(Clone, Debug)]
pub struct Store {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    telemetry: Mutex<Telemetry>,
    /// Wakes threads blocked in [`Store::wait_until`].
    arrived: Condvar,
    /// Bumped on every change; wakes tasks in [`Store::wait_until_async`]. A counter rather
    /// than `()` so that a subscriber can tell whether it has seen the latest state.
    version: watch::Sender<u64>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                telemetry: Mutex::new(Telemetry::default()),
                arrived: Condvar::new(),
                version: watch::Sender::new(0),
            }),
        }
    }

    /// A copy of everything received so far.
    pub fn snapshot(&self) -> Telemetry {
        self.lock().clone()
    }

    /// Runs `f` on the current contents without copying them. Keep `f` short: exports wait
    /// for the lock meanwhile.
    pub fn read<R>(&self, f: impl FnOnce(&Telemetry) -> R) -> R {
        f(&self.lock())
    }

    /// Forgets everything received so far (and wakes waiters, whose condition may now differ).
    pub fn clear(&self) {
        self.modify(|telemetry| *telemetry = Telemetry::default());
    }

    /// Blocks the calling thread until `condition` holds or `timeout` has passed; returns
    /// whether it holds. `condition` runs under the store's lock, once now and again after
    /// every change.
    ///
    /// Do not call this from async code (it blocks the executor); use
    /// [`Store::wait_until_async`] there.
    pub fn wait_until(
        &self,
        timeout: Duration,
        mut condition: impl FnMut(&Telemetry) -> bool,
    ) -> bool {
        let guard = self.lock();
        let (_guard, result) = self
            .shared
            .arrived
            .wait_timeout_while(guard, timeout, |telemetry| !condition(telemetry))
            .unwrap_or_else(PoisonError::into_inner);
        !result.timed_out()
    }

    /// Async version of [`Store::wait_until`]: waits without blocking the executor.
    pub async fn wait_until_async(
        &self,
        timeout: Duration,
        mut condition: impl FnMut(&Telemetry) -> bool,
    ) -> bool {
        // Subscribing before the first check marks the current version as seen, so a change
        // that lands between a check and the wait still wakes us.
        let mut changes = self.shared.version.subscribe();
        let wait = async {
            while !self.read(&mut condition) {
                if changes.changed().await.is_err() {
                    // Unreachable while `self` holds the sender; stop instead of spinning.
                    return false;
                }
            }
            true
        };
        // `timeout` (unlike deadline arithmetic) saturates for huge durations.
        tokio::time::timeout(timeout, wait).await.unwrap_or(false)
    }

    /// Applies `change` and notifies every kind of waiter.
    pub(super) fn modify(&self, change: impl FnOnce(&mut Telemetry)) {
        change(&mut self.lock());
        self.shared.arrived.notify_all();
        // `send_modify` (unlike `send`) updates the value even when nobody is subscribed.
        self.shared
            .version
            .send_modify(|version| *version = version.wrapping_add(1));
    }

    /// Telemetry is only ever replaced or appended to in one step, so a panic elsewhere while
    /// the lock was held (typically a failing assertion inside a `wait_until` condition)
    /// cannot leave it half-updated. Recovering keeps one failed check from turning every
    /// later access into a second, misleading panic.
    fn lock(&self) -> MutexGuard<'_, Telemetry> {
        self.shared
            .telemetry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl crate::backend::Sink for Store {
    fn traces(
        &self,
        request: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
    ) {
        self.modify(|telemetry| telemetry.push_traces(request));
    }

    fn metrics(
        &self,
        request: opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
    ) {
        self.modify(|telemetry| telemetry.push_metrics(request));
    }

    fn logs(
        &self,
        request: opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
    ) {
        self.modify(|telemetry| telemetry.push_logs(request));
    }
}
