//! `cargo otel serve`: the local backend on its own, for programs started
//! elsewhere (an IDE, another language, a test) and as the stand-in for the
//! Aspire dashboard image (`--aspire-compat`).

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
};

use anyhow::Context as _;

use crate::{
    Shell,
    backend::{self, Backend, BackendConfig, Feed, Settings, discovery, save},
    ports::{DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_UI_PORT},
    signals::StopSignals,
};

#[derive(Debug, Default, Clone)]
pub struct ServeOptions {
    pub grpc_port: Option<u16>,
    pub http_port: Option<u16>,
    pub ui_port: Option<u16>,
    /// No browser token and no OTLP API key.
    pub anonymous: bool,
    pub settings: Settings,
    /// Behave like the Aspire dashboard container (see [`aspire`]).
    pub aspire_compat: bool,
}

pub fn run(shell: &Shell, options: &ServeOptions) -> anyhow::Result<()> {
    // Everything printed once serving goes through the feed's queue, so a
    // terminal that stops reading (a full pipe) cannot hold up Ctrl-C.
    let terminal = Feed::new(*shell);
    let config = if options.aspire_compat {
        aspire::config(options)?
    } else {
        config(options, &terminal)?
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cargo-otel-serve")
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(async {
        let backend = Backend::start(config).await?;
        // Watching before the announcement, so a Ctrl-C right after it counts.
        let mut signals = StopSignals::new()?;
        // Removed when dropped, at the end of this block.
        let _registered = if options.aspire_compat {
            aspire::announce(&backend);
            None
        } else {
            let registered = register(shell, &backend);
            announce(shell, &backend);
            registered
        };
        signals.recv().await;
        // While stopping, a second request exits at once, as the default
        // action of the signal would (128 + SIGINT).
        tokio::spawn(async move {
            signals.recv().await;
            std::process::exit(130);
        });
        let summary = backend.store().summary();
        let saved = backend.stop().await?;
        report_stop(&terminal, &summary, saved);
        terminal.flush();
        Ok(())
    })
}

fn config(options: &ServeOptions, terminal: &Feed) -> anyhow::Result<BackendConfig> {
    let mut config = BackendConfig::loopback("cargo otel serve")
        .with_settings(&options.settings, options.anonymous)?;
    let at = |port: Option<u16>, default| {
        SocketAddr::from((Ipv4Addr::LOCALHOST, port.unwrap_or(default)))
    };
    config.grpc = at(options.grpc_port, DEFAULT_GRPC_PORT);
    config.http = at(options.http_port, DEFAULT_HTTP_PORT);
    config.ui = at(options.ui_port, DEFAULT_UI_PORT);
    config.feed = Some(terminal.clone());
    Ok(config)
}

/// The state file that lets `cargo otel traces` and the others find this
/// dashboard from any directory.
fn register(shell: &Shell, backend: &Backend) -> Option<discovery::Registration> {
    let dir = std::env::current_dir().unwrap_or_default();
    discovery::register_or_warn(
        shell,
        &discovery::Running::of(backend, &dir, "cargo otel serve"),
    )
}

fn announce(shell: &Shell, backend: &Backend) {
    let (grpc, http) = (backend.grpc_endpoint(), backend.http_endpoint());
    shell.status(
        "Listening",
        format!("for OTLP/gRPC on {grpc} and OTLP/HTTP on {http}"),
    );
    if let Some((path, lines)) = backend.loaded() {
        shell.status("Loaded", save::describe_loaded(path, lines));
    }
    shell.status("Dashboard", backend.login_url());
    shell.note("programs export here with this environment (printed on stdout); Ctrl-C stops");
    shell.data(&crate::shell::export_lines(&backend.env()));
}

fn report_stop(terminal: &Feed, summary: &backend::model::Summary, saved: Option<(PathBuf, u64)>) {
    let held = summary.held;
    terminal.status(
        "Stopped",
        format!(
            "after receiving {} traces, {} log records, {} metric points",
            held.traces, held.logs, held.metric_points
        ),
    );
    if let Some((path, lines)) = saved {
        terminal.status("Saved", save::describe(&path, lines));
    }
}

/// The Aspire dashboard container's interface, so tests of the Docker path
/// can package this binary `FROM scratch` as a stand-in for the real image:
/// ports 18888 (UI), 18889 (OTLP/gRPC) and 18890 (OTLP/HTTP) on every
/// interface (a container's ports are only reachable that way; the host
/// side publishes them on 127.0.0.1), and its `Dashboard__*` variables.
mod aspire {
    use super::*;

    const UI: u16 = 18888;
    const GRPC: u16 = 18889;
    const HTTP: u16 = 18890;

    pub(super) fn config(options: &ServeOptions) -> anyhow::Result<BackendConfig> {
        let any = |port: Option<u16>, default| {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port.unwrap_or(default))
        };
        let name = setting("Dashboard__ApplicationName").unwrap_or_else(|| "Aspire".to_owned());
        let mut config = BackendConfig::loopback(&name);
        config.ui = any(options.ui_port, UI);
        config.grpc = any(options.grpc_port, GRPC);
        config.http = any(options.http_port, HTTP);
        let anonymous = [
            "ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS",
            "DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS",
        ]
        .iter()
        .any(|key| setting(key).is_some_and(|v| v.eq_ignore_ascii_case("true")));
        let frontend_open = anonymous
            || setting("Dashboard__Frontend__AuthMode")
                .is_some_and(|m| m.eq_ignore_ascii_case("Unsecured"));
        if !frontend_open {
            let token = setting("Dashboard__Frontend__BrowserToken");
            config.browser_token = Some(match token {
                Some(token) => token,
                None => crate::secret::generate()?,
            });
        }
        let api_key_mode =
            setting("Dashboard__Otlp__AuthMode").is_some_and(|m| m.eq_ignore_ascii_case("ApiKey"));
        if api_key_mode && !anonymous {
            let key = setting("Dashboard__Otlp__PrimaryApiKey").context(
                "Dashboard__Otlp__AuthMode is ApiKey but Dashboard__Otlp__PrimaryApiKey is not set",
            )?;
            config.api_key = Some(key);
        }
        config.caps = options.settings.caps;
        config.save = options.settings.save.clone();
        Ok(config)
    }

    /// .NET configuration keys are case-insensitive; so is this lookup.
    fn setting(key: &str) -> Option<String> {
        std::env::vars()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty())
    }

    /// The lines the real dashboard logs (13.4+), which tools wait for.
    #[expect(clippy::print_stdout, reason = "a container's log is its stdout")]
    pub(super) fn announce(backend: &Backend) {
        let log = |message: String| {
            println!("info: Aspire.Dashboard.DashboardWebApplication[0]\n      {message}")
        };
        log(format!(
            "Now listening on: http://[::]:{}",
            backend.ui_addr().port()
        ));
        log(format!(
            "OTLP/gRPC listening on: http://[::]:{}",
            backend.grpc_addr().port()
        ));
        log(format!(
            "OTLP/HTTP listening on: http://[::]:{}",
            backend.http_addr().port()
        ));
        log(format!("Login to the dashboard at {}", backend.login_url()));
    }
}
