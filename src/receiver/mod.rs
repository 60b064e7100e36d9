//! A local OTLP/gRPC receiver for tests and benchmarks: the backend's collector services
//! (`TraceService`, `MetricsService`, `LogsService`, with its API-key check) over a store that
//! keeps every export request in memory and lets callers query and wait for what arrived,
//! with TLS when a test asks for it.
//!
//! It backs the end-to-end and doctor tests of the code `cargo otel init` generates. The
//! product's own store is [`crate::backend::Store`].
//!
//! ```no_run
//! use std::time::Duration;
//! use cargo_otel::receiver::{OtlpReceiver, ReceiverConfig};
//!
//! # fn main() -> anyhow::Result<()> {
//! let receiver = OtlpReceiver::start(ReceiverConfig::loopback())?;
//! // ... run a program with OTLP_GRPC_ENDPOINT=receiver.endpoint() ...
//! let arrived = receiver.wait_until(Duration::from_secs(5), |t| t.find_span("work").is_some());
//! # let _ = arrived;
//! receiver.shutdown()?;
//! # Ok(())
//! # }
//! ```

mod store;
mod telemetry;
#[cfg(test)]
mod tests;

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    thread,
    time::Duration,
};

use anyhow::{Context as _, anyhow, ensure};
use tokio::{
    net::TcpListener,
    runtime::{Handle, Runtime},
    sync::{oneshot, watch},
};
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig, server::TcpIncoming};

use crate::backend::{Sink, collector};

pub use store::Store;
pub use telemetry::{
    LogView, MetricView, PointValue, SERVICE_NAME, SpanView, Telemetry, string_attribute,
};

/// Serves OTLP/gRPC on `listener` into `sink` until `shutdown` completes,
/// then gives open connections [`SHUTDOWN_GRACE`] to finish.
pub async fn serve_grpc(
    listener: TcpListener,
    sink: Arc<dyn Sink>,
    api_key: Option<&str>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        stop.send_replace(true);
    });
    let check = collector::ApiKeyCheck::new(api_key);
    serve(listener, sink, &check, &Transport::default(), stop_rx).await
}

/// After shutdown is requested, connections that are still open get this long to finish
/// their current export before they are cut, so shutdown cannot hang on a client that keeps
/// its HTTP/2 connection open.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Where to listen, whether to require an API key, and how to talk.
#[derive(Clone)]
pub struct ReceiverConfig {
    addr: SocketAddr,
    api_key: Option<String>,
    tls: Option<ReceiverTls>,
    gzip: bool,
}

/// TLS for the receiver, all PEM: its certificate (chain) and key, and the CA
/// whose client certificates it then requires (mutual TLS).
#[derive(Clone)]
pub struct ReceiverTls {
    pub certificate: String,
    pub key: String,
    pub client_ca: Option<String>,
}

impl ReceiverConfig {
    /// Listen on `addr` (port 0 picks a free port), without authentication.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            api_key: None,
            tls: None,
            gzip: true,
        }
    }

    /// `127.0.0.1` on a free port: reachable only from this machine.
    pub fn loopback() -> Self {
        Self::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// Require `key` in the `x-otlp-api-key` metadata of every request.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Serve over TLS (`https://` endpoints).
    pub fn with_tls(mut self, tls: ReceiverTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Refuse gzip-compressed requests, as a collector built without gzip
    /// does (accepted by default, like the Aspire dashboard).
    pub fn without_gzip(mut self) -> Self {
        self.gzip = false;
        self
    }

    /// The requested listen address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Hand-written so that the API key never ends up in logs or panic messages.
impl fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiverConfig")
            .field("addr", &self.addr)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls.is_some())
            .field("gzip", &self.gzip)
            .finish()
    }
}

/// A running receiver. Dropping it stops the server (without waiting);
/// [`OtlpReceiver::shutdown`] also waits until the port is released.
#[derive(Debug)]
pub struct OtlpReceiver {
    local_addr: SocketAddr,
    tls: bool,
    store: Store,
    /// Sending `true` (or dropping the sender) asks the server to stop.
    stop: watch::Sender<bool>,
    /// Resolves with the server's result once it has stopped.
    stopped: Option<oneshot::Receiver<anyhow::Result<()>>>,
}

impl OtlpReceiver {
    /// Starts the receiver on its own thread with its own single-threaded Tokio runtime.
    ///
    /// Works from synchronous code (tests, `fn main`) and from async code alike, and does not
    /// compete with the caller's runtime. Binding happens before this returns, so
    /// [`OtlpReceiver::endpoint`] is immediately connectable.
    pub fn start(config: ReceiverConfig) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("failed to build the OTLP receiver's Tokio runtime")?;
        let listener = {
            // Registering the socket with a reactor needs that runtime's context.
            let _context = runtime.enter();
            bind(config.addr)?
        };
        let (receiver, server) = Self::prepare(&config, listener)?;
        thread::Builder::new()
            .name("otlp-receiver".to_owned())
            .spawn(move || run_on(runtime, server))
            .context("failed to spawn the OTLP receiver thread")?;
        Ok(receiver)
    }

    /// Starts the receiver as a task on the Tokio runtime the caller is running in.
    ///
    /// Use this from async code that owns a long-lived runtime (the server lives only as long
    /// as that runtime). Fails when called outside a runtime.
    pub fn spawn(config: ReceiverConfig) -> anyhow::Result<Self> {
        let handle = Handle::try_current()
            .context("`OtlpReceiver::spawn` must be called from inside a Tokio runtime")?;
        let listener = bind(config.addr)?;
        let (receiver, server) = Self::prepare(&config, listener)?;
        handle.spawn(server.run());
        Ok(receiver)
    }

    /// The address actually bound (with the real port when the config asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The URL an OTLP/gRPC exporter should use, e.g. `http://127.0.0.1:4317`
    /// (`https://` with TLS).
    ///
    /// A wildcard bind address (`0.0.0.0`, `::`) is not a valid destination on every platform,
    /// so the endpoint names the loopback address of the same family instead.
    pub fn endpoint(&self) -> String {
        let ip = match self.local_addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", SocketAddr::new(ip, self.local_addr.port()))
    }

    /// The store the services write into (cloneable; outlives the receiver).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A copy of everything received so far.
    pub fn snapshot(&self) -> Telemetry {
        self.store.snapshot()
    }

    /// Blocks until `condition` holds or `timeout` passes; see [`Store::wait_until`].
    pub fn wait_until(&self, timeout: Duration, condition: impl FnMut(&Telemetry) -> bool) -> bool {
        self.store.wait_until(timeout, condition)
    }

    /// Waits asynchronously until `condition` holds or `timeout` passes; see
    /// [`Store::wait_until_async`].
    pub async fn wait_until_async(
        &self,
        timeout: Duration,
        condition: impl FnMut(&Telemetry) -> bool,
    ) -> bool {
        self.store.wait_until_async(timeout, condition).await
    }

    /// Stops the server and blocks until it has released its port (at most about
    /// [`SHUTDOWN_GRACE`] after the last export). Returns the server's error, if it failed.
    ///
    /// From async code use [`OtlpReceiver::shutdown_async`]; this one refuses to block a
    /// runtime thread and returns an error instead (the server is still told to stop).
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        ensure!(
            Handle::try_current().is_err(),
            "`OtlpReceiver::shutdown` would block an async runtime; use `shutdown_async`"
        );
        self.stop.send_replace(true);
        match self.stopped.take() {
            Some(stopped) => stopped
                .blocking_recv()
                .unwrap_or_else(|_| Err(server_vanished())),
            None => Ok(()),
        }
    }

    /// Async version of [`OtlpReceiver::shutdown`].
    pub async fn shutdown_async(mut self) -> anyhow::Result<()> {
        self.stop.send_replace(true);
        match self.stopped.take() {
            Some(stopped) => stopped.await.unwrap_or_else(|_| Err(server_vanished())),
            None => Ok(()),
        }
    }

    /// Builds the handle and the server future around an already bound listener.
    fn prepare(
        config: &ReceiverConfig,
        listener: TcpListener,
    ) -> anyhow::Result<(Self, ServerTask)> {
        if let Some(key) = &config.api_key {
            ensure!(!key.is_empty(), "the OTLP API key must not be empty");
        }
        let local_addr = listener
            .local_addr()
            .context("failed to read the OTLP receiver's bound address")?;
        let store = Store::new();
        let (stop, stop_rx) = watch::channel(false);
        let (done_tx, done_rx) = oneshot::channel();
        let transport = Transport {
            tls: config.tls.as_ref().map(ReceiverTls::server_config),
            gzip: config.gzip,
        };
        let server = ServerTask {
            listener,
            store: store.clone(),
            check: collector::ApiKeyCheck::new(config.api_key.as_deref()),
            transport,
            stop: stop_rx,
            done: done_tx,
        };
        let receiver = Self {
            local_addr,
            tls: config.tls.is_some(),
            store,
            stop,
            stopped: Some(done_rx),
        };
        Ok((receiver, server))
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        // Never blocks: the server notices and exits on its own. `send_replace` (unlike `send`)
        // cannot fail when the server is already gone.
        self.stop.send_replace(true);
    }
}

/// Everything the server task needs; built on the caller's thread so that configuration and
/// bind errors are reported by `start`/`spawn` rather than lost in the background.
struct ServerTask {
    listener: TcpListener,
    store: Store,
    check: collector::ApiKeyCheck,
    transport: Transport,
    stop: watch::Receiver<bool>,
    done: oneshot::Sender<anyhow::Result<()>>,
}

impl ServerTask {
    /// Serves until asked to stop, then reports the outcome to the handle.
    async fn run(self) {
        let sink: Arc<dyn Sink> = Arc::new(self.store);
        let result = serve(self.listener, sink, &self.check, &self.transport, self.stop).await;
        // The handle may already be gone (dropped); then nobody wants the result.
        let _ = self.done.send(result);
    }
}

/// Body of the dedicated receiver thread started by [`OtlpReceiver::start`].
fn run_on(runtime: Runtime, server: ServerTask) {
    runtime.block_on(server.run());
    // Tasks still running (connections cut after the grace period) are dropped here, on the
    // receiver's own thread, which is not inside any async context.
    drop(runtime);
}

/// How the server talks: TLS or not, and whether it takes gzip.
struct Transport {
    tls: Option<ServerTlsConfig>,
    gzip: bool,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            tls: None,
            gzip: true,
        }
    }
}

impl ReceiverTls {
    fn server_config(&self) -> ServerTlsConfig {
        let config =
            ServerTlsConfig::new().identity(Identity::from_pem(&self.certificate, &self.key));
        match &self.client_ca {
            Some(ca) => config.client_ca_root(Certificate::from_pem(ca)),
            None => config,
        }
    }
}

async fn serve(
    listener: TcpListener,
    sink: Arc<dyn Sink>,
    check: &collector::ApiKeyCheck,
    transport: &Transport,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (traces, metrics, logs) = collector::services(sink, check, transport.gzip);
    let mut builder = Server::builder();
    if let Some(tls) = &transport.tls {
        builder = builder
            .tls_config(tls.clone())
            .context("the receiver's TLS certificate or key is not usable")?;
    }
    let server = builder
        .add_service(traces)
        .add_service(metrics)
        .add_service(logs)
        // `TcpIncoming::from` leaves Nagle on (unlike `Server::serve`): each
        // response then waits for the client's delayed ACK, ~10 ms an export.
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            stop_requested(stop.clone()),
        );
    let grace_over = async {
        stop_requested(stop).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result.context("the OTLP/gRPC server failed"),
        () = grace_over => Ok(()),
    }
}

/// Completes once a stop is requested, or when the handle is gone without asking (a dropped
/// sender makes `wait_for` fail, which means the same here).
async fn stop_requested(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|&stop| stop).await;
}

fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let bind_error = || format!("failed to listen for OTLP/gRPC on {addr}");
    let listener = std::net::TcpListener::bind(addr).with_context(bind_error)?;
    // Tokio requires non-blocking sockets; `from_std` does not switch the mode itself.
    listener.set_nonblocking(true).with_context(bind_error)?;
    TcpListener::from_std(listener).with_context(bind_error)
}

fn server_vanished() -> anyhow::Error {
    anyhow!("the OTLP receiver stopped without reporting a result (its runtime was shut down)")
}
