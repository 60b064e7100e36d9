//! The product's OTLP/gRPC collector services and store
//! ([`cargo_otel::backend::collector`], [`Store`]) on 127.0.0.1, in this
//! process, with what a production collector may do and the built-in backend
//! does not: serve TLS (mutual TLS too), or refuse gzip.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    thread::JoinHandle,
    time::Duration,
};

use cargo_otel::backend::{Held, Store, collector};
use tokio::sync::watch;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig, server::TcpIncoming};

/// TLS for the collector, all PEM: its certificate (chain) and key, and the
/// CA whose client certificates it then requires (mutual TLS).
#[derive(Clone)]
pub(crate) struct ServerTls {
    pub(crate) certificate: String,
    pub(crate) key: String,
    pub(crate) client_ca: Option<String>,
}

/// How the collector talks: the API key it requires, TLS, gzip.
#[derive(Clone)]
pub(crate) struct CollectorConfig {
    api_key: Option<String>,
    tls: Option<ServerTls>,
    gzip: bool,
}

impl CollectorConfig {
    /// Plain gRPC on a free loopback port, taking gzip, without a key.
    pub(crate) fn loopback() -> Self {
        Self {
            api_key: None,
            tls: None,
            gzip: true,
        }
    }

    /// Require `key` in the `x-otlp-api-key` metadata of every request.
    pub(crate) fn with_api_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.to_owned());
        self
    }

    /// Serve over TLS (`https://` endpoint).
    pub(crate) fn with_tls(mut self, tls: ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Refuse gzip-compressed requests, as a collector built without gzip does.
    pub(crate) fn without_gzip(mut self) -> Self {
        self.gzip = false;
        self
    }
}

/// A running collector on a thread of its own; stopped on drop.
pub(crate) struct Collector {
    addr: SocketAddr,
    tls: bool,
    store: Store,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Collector {
    pub(crate) fn start(config: CollectorConfig) -> Self {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("the bound address");
        let store = Store::default();
        let (stop, stopped) = watch::channel(false);
        let sink = Arc::new(store.clone());
        let tls = config.tls.is_some();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(serve(listener, sink, &config, stopped));
        });
        Self {
            addr,
            tls,
            store,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`, `https://` with TLS.
    pub(crate) fn endpoint(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A copy of everything received so far.
    pub(crate) fn held(&self) -> Held {
        self.store.held()
    }

    /// Waits until `done` holds for what arrived, at most `timeout`.
    pub(crate) fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&Held) -> bool,
    ) -> bool {
        self.store.wait_until(timeout, |store| done(&store.held()))
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves until `stop`; open connections then get a second to finish (an
/// exporter may keep its HTTP/2 connection open).
async fn serve(
    listener: std::net::TcpListener,
    sink: Arc<Store>,
    config: &CollectorConfig,
    mut stop: watch::Receiver<bool>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a Tokio listener");
    let (traces, metrics, logs) = collector::services(sink, config.api_key.as_deref(), config.gzip);
    let mut builder = Server::builder();
    if let Some(tls) = &config.tls {
        let mut server_tls =
            ServerTlsConfig::new().identity(Identity::from_pem(&tls.certificate, &tls.key));
        if let Some(ca) = &tls.client_ca {
            server_tls = server_tls.client_ca_root(Certificate::from_pem(ca));
        }
        builder = builder.tls_config(server_tls).expect("usable TLS settings");
    }
    let mut stopped = stop.clone();
    let server = builder
        .add_service(traces)
        .add_service(metrics)
        .add_service(logs)
        .serve_with_incoming_shutdown(
            // Nagle off, as the backend has it: each response would wait
            // for the client's delayed ACK otherwise.
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            async move {
                let _ = stopped.wait_for(|&stop| stop).await;
            },
        );
    let grace_over = async {
        let _ = stop.wait_for(|&stop| stop).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    tokio::select! {
        result = server => result.expect("the collector serves"),
        () = grace_over => {}
    }
}
