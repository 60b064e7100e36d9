//! A running local backend: OTLP/gRPC, OTLP/HTTP and the web view, each on
//! its own port, all feeding and reading one [`Store`].

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context as _;
use tokio::{sync::watch, task::JoinHandle};

use super::{
    Caps, Sink, Store,
    feed::Feed,
    http,
    limits::Connections,
    listen::Listener,
    otlp_grpc, otlp_http,
    pipeline::Pipeline,
    save::{self, SaveFile},
    web::{self, WebConfig},
};
use crate::{
    ports::{self, DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_UI_PORT},
    secret::API_KEY_HEADER,
};

/// How long stopping waits for open connections before cutting them.
const STOP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub ui: SocketAddr,
    /// Required in `x-otlp-api-key` on every export; `None` accepts anyone.
    pub api_key: Option<String>,
    /// Required by the web view (`/login?t=`); `None` lets anyone in.
    pub browser_token: Option<String>,
    pub caps: Caps,
    pub save: Option<PathBuf>,
    /// A `--save` file to read into the store before serving.
    pub load: Option<PathBuf>,
    pub application_name: String,
    /// The terminal feed of root spans and errors; `None` keeps quiet.
    pub feed: Option<Feed>,
    pub connections: Connections,
}

impl BackendConfig {
    /// Loopback only, on the standard ports, with no secrets set yet.
    pub fn loopback(application_name: &str) -> Self {
        let at = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        Self {
            grpc: at(DEFAULT_GRPC_PORT),
            http: at(DEFAULT_HTTP_PORT),
            ui: at(DEFAULT_UI_PORT),
            api_key: None,
            browser_token: None,
            caps: Caps::default(),
            save: None,
            load: None,
            application_name: application_name.to_owned(),
            feed: None,
            connections: Connections::default(),
        }
    }

    /// With what the user chose: a browser token and an OTLP API key
    /// (theirs, else a fresh one) unless `anonymous`, the caps and the save
    /// file.
    pub fn with_settings(mut self, settings: &Settings, anonymous: bool) -> anyhow::Result<Self> {
        if !anonymous {
            self.browser_token = Some(crate::secret::generate()?);
            self.api_key = Some(match &settings.api_key {
                Some(key) => key.clone(),
                None => crate::secret::generate()?,
            });
        }
        self.caps = settings.caps;
        self.save = settings.save.clone();
        self.load = settings.load.clone();
        Ok(self)
    }
}

/// What the user chose for the built-in dashboard, whether `serve` or
/// `dash` runs it.
#[derive(Debug, Default, Clone)]
pub struct Settings {
    /// A fixed OTLP API key instead of a fresh random one.
    pub api_key: Option<String>,
    pub caps: Caps,
    /// Where to write everything received (OTLP/JSON lines) when stopped.
    pub save: Option<PathBuf>,
    /// A `--save` file whose telemetry the store holds from the start.
    pub load: Option<PathBuf>,
}

/// Which flag moves each port, for the busy-port message.
struct PortFlags {
    grpc: &'static str,
    http: &'static str,
    ui: &'static str,
}

const PORT_FLAGS: PortFlags = PortFlags {
    grpc: "--grpc-port",
    http: "--http-port",
    ui: "--ui-port",
};

pub struct Backend {
    store: Store,
    grpc: SocketAddr,
    http: SocketAddr,
    ui: SocketAddr,
    api_key: Option<String>,
    browser_token: Option<String>,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<anyhow::Result<()>>>,
    save: Option<Arc<SaveFile>>,
    feed: Option<Feed>,
    /// The `--load` file and how many export requests it held.
    loaded: Option<(PathBuf, u64)>,
}

impl Backend {
    /// Binds every port first (so a busy one fails before anything runs),
    /// then serves. Must be called inside a Tokio runtime.
    pub async fn start(config: BackendConfig) -> anyhow::Result<Self> {
        if let Some(key) = &config.api_key {
            crate::secret::check_api_key(key).map_err(anyhow::Error::msg)?;
        }
        let grpc = ports::bind(config.grpc, "OTLP/gRPC", PORT_FLAGS.grpc)?;
        let http = ports::bind(config.http, "OTLP/HTTP", PORT_FLAGS.http)?;
        let ui = ports::bind(config.ui, "dashboard", PORT_FLAGS.ui)?;
        let save = match &config.save {
            Some(path) => Some(Arc::new(SaveFile::create(path)?)),
            None => None,
        };
        let store = Store::new(config.caps);
        let loaded = match &config.load {
            Some(path) => Some((path.clone(), save::load(path, &store)?)),
            None => None,
        };
        let sink: Arc<dyn Sink> = Arc::new(Pipeline {
            store: store.clone(),
            feed: config.feed.clone(),
            save: save.clone(),
        });
        let (stop, _) = watch::channel(false);
        let addr = |listener: &std::net::TcpListener| {
            listener
                .local_addr()
                .context("failed to read a bound address")
        };
        if let Some(feed) = &config.feed {
            feed.link_to(format!("http://localhost:{}/", addr(&ui)?.port()));
        }
        let mut backend = Self {
            store: store.clone(),
            grpc: addr(&grpc)?,
            http: addr(&http)?,
            ui: addr(&ui)?,
            api_key: config.api_key.clone(),
            browser_token: config.browser_token.clone(),
            stop,
            servers: Vec::new(),
            save,
            feed: config.feed.clone(),
            loaded,
        };
        let limits = config.connections;
        let grpc = listener(grpc, &limits, "OTLP/gRPC")?;
        let (stop, api_key) = (backend.stop.subscribe(), config.api_key.clone());
        let grpc_sink = sink.clone();
        backend.servers.push(tokio::spawn(async move {
            otlp_grpc::serve(grpc, grpc_sink, api_key.as_deref(), limits, stop).await
        }));
        let http_router = otlp_http::router(sink, config.api_key.as_deref(), limits.body_timeout);
        backend.serve_http(listener(http, &limits, "OTLP/HTTP")?, http_router, limits);
        let web_config = WebConfig {
            browser_token: config.browser_token,
            application_name: config.application_name,
        };
        let web = web::router(store, web_config);
        backend.serve_http(listener(ui, &limits, "dashboard")?, web, limits);
        Ok(backend)
    }

    /// The `--load` file read at the start, and how many export requests it held.
    pub fn loaded(&self) -> Option<(&Path, u64)> {
        self.loaded
            .as_ref()
            .map(|(path, lines)| (path.as_path(), *lines))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn grpc_endpoint(&self) -> String {
        endpoint(self.grpc)
    }

    pub fn http_endpoint(&self) -> String {
        endpoint(self.http)
    }

    pub fn ui_addr(&self) -> SocketAddr {
        self.ui
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// The link that logs a browser in (`localhost`, as Aspire prints it).
    pub fn login_url(&self) -> String {
        let port = self.ui.port();
        match &self.browser_token {
            Some(token) => format!("http://localhost:{port}/login?t={token}"),
            None => format!("http://localhost:{port}/"),
        }
    }

    /// The web view's address, for clients on this machine.
    pub fn ui_url(&self) -> String {
        endpoint(self.ui)
    }

    /// The token the web view wants; `None` when anyone may look.
    pub fn browser_token(&self) -> Option<&str> {
        self.browser_token.as_deref()
    }

    /// What a program needs in its environment to export here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("OTLP_GRPC_ENDPOINT", self.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", self.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        ];
        if let Some(key) = &self.api_key {
            env.push((
                "OTEL_EXPORTER_OTLP_HEADERS",
                format!("{API_KEY_HEADER}={}", crate::secret::header_list_value(key)),
            ));
        }
        env
    }

    /// Waits until the terminal feed has printed what arrived so far.
    pub fn flush_feed(&self) {
        if let Some(feed) = &self.feed {
            feed.flush();
        }
    }

    /// Stops every server, then moves the `--save` file into place. Returns
    /// its path and line count, if there is one.
    pub async fn stop(self) -> anyhow::Result<Option<(PathBuf, u64)>> {
        self.stop.send_replace(true);
        self.flush_feed();
        for server in self.servers {
            // A browser holding a connection open must not keep us from exiting.
            let abort = server.abort_handle();
            match tokio::time::timeout(STOP_TIMEOUT, server).await {
                Ok(result) => result.context("a backend server panicked")??,
                Err(_) => abort.abort(),
            }
        }
        let Some(save) = self.save else {
            return Ok(None);
        };
        // The servers are gone, and with them every other handle to the file.
        let save =
            Arc::try_unwrap(save).map_err(|_| anyhow::anyhow!("the save file is still in use"))?;
        save.finish().map(Some)
    }

    fn serve_http(&mut self, listener: Listener, router: axum::Router, limits: Connections) {
        let stop = self.stop.subscribe();
        self.servers.push(tokio::spawn(async move {
            http::serve(listener, router, limits, stop).await;
            Ok(())
        }));
    }
}

/// Tokio takes over a bound socket, within the connection limits.
fn listener(
    listener: std::net::TcpListener,
    limits: &Connections,
    purpose: &str,
) -> anyhow::Result<Listener> {
    let listener = tokio::net::TcpListener::from_std(listener)
        .with_context(|| format!("failed to listen for {purpose}"))?;
    Ok(Listener::new(listener, limits))
}

/// A URL a client can connect to: a wildcard bind address (`--aspire-compat`
/// in a container) is reached through loopback.
fn endpoint(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        Ipv4Addr::LOCALHOST.into()
    } else {
        addr.ip()
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}
