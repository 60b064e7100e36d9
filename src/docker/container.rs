//! The dashboard container: one per workspace, named and labelled so a later
//! run finds it again (to reuse, replace or remove it) and never touches a
//! container that is not ours.

use std::{
    collections::HashMap,
    net::{Ipv4Addr, SocketAddr, TcpListener},
    time::Duration,
};

use anyhow::{Context as _, bail};
use bollard::{
    Docker,
    container::LogOutput,
    errors::Error,
    models::{ContainerCreateBody, ContainerInspectResponse, HostConfig, PortBinding},
    query_parameters::{
        CreateContainerOptionsBuilder, InspectContainerOptions, LogsOptionsBuilder,
        RemoveContainerOptionsBuilder, StartContainerOptions, StopContainerOptionsBuilder,
    },
};
use futures_util::StreamExt as _;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
    time::Instant,
};

use crate::{
    Shell,
    fingerprint::fnv1a64,
    secret::{self, API_KEY_HEADER},
};

pub const MANAGED_BY: &str = "dev.cargo-otel.managed-by";
const MANAGED_BY_US: &str = "cargo-otel";
const WORKSPACE: &str = "dev.cargo-otel.workspace";
const CONFIG: &str = "dev.cargo-otel.config";

/// The container's own ports (the Aspire image's defaults).
const UI: u16 = 18888;
const OTLP_GRPC: u16 = 18889;
const OTLP_HTTP: u16 = 18890;

/// How long the dashboard may take to answer `/health` and OTLP.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Pauses between readiness checks: doubling from the first to the last.
const READY_FIRST_PAUSE: Duration = Duration::from_millis(10);
const READY_MAX_PAUSE: Duration = Duration::from_millis(250);
/// `docker stop` grace before the daemon kills the dashboard.
const STOP_GRACE_SECS: i32 = 5;

/// What the Aspire dashboard container should be.
#[derive(Debug, Clone)]
pub struct AspireSpec {
    pub image: String,
    pub workspace_root: String,
    pub application_name: String,
    pub anonymous: bool,
    /// Host ports wanted on 127.0.0.1 for UI, OTLP/gRPC and OTLP/HTTP.
    pub ui_port: u16,
    pub grpc_port: u16,
    pub http_port: u16,
}

impl AspireSpec {
    /// One container per workspace.
    pub fn container_name(&self) -> String {
        format!(
            "cargo-otel-dashboard-{:08x}",
            fnv1a64(self.workspace_root.as_bytes()) as u32
        )
    }

    /// What makes two containers interchangeable (secrets are per container).
    fn config_hash(&self) -> String {
        let ports = format!("{}:{}:{}", self.ui_port, self.grpc_port, self.http_port);
        let text = format!(
            "{}|{}|{}|{ports}",
            self.image, self.application_name, self.anonymous
        );
        format!("{:016x}", fnv1a64(text.as_bytes()))
    }
}

/// One container per workspace, named after its root directory.
pub fn container_name(workspace_root: &str) -> String {
    format!(
        "cargo-otel-dashboard-{:08x}",
        fnv1a64(workspace_root.as_bytes()) as u32
    )
}

/// The Aspire dashboard container, running and ready (the built-in
/// dashboard is `crate::backend`).
#[derive(Debug, Clone)]
pub struct AspireContainer {
    pub id: String,
    pub name: String,
    pub ui_port: u16,
    pub grpc_port: u16,
    pub http_port: u16,
    pub browser_token: Option<String>,
    pub api_key: Option<String>,
    pub reused: bool,
}

impl AspireContainer {
    pub fn login_url(&self) -> String {
        match &self.browser_token {
            Some(token) => format!("http://localhost:{}/login?t={token}", self.ui_port),
            None => format!("http://localhost:{}/", self.ui_port),
        }
    }

    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }
}

/// Reuses our container when it has the same configuration, replaces it
/// when not, creates one when there is none; then waits until it is ready.
pub async fn up(
    docker: &Docker,
    spec: &AspireSpec,
    shell: &Shell,
) -> anyhow::Result<AspireContainer> {
    let name = spec.container_name();
    let existing = inspect(docker, &name).await?;
    let (id, reused) = match existing {
        Some(info) if !is_ours(&info) => bail!(
            "a container named `{name}` exists but was not created by cargo-otel; it was left alone\n\
             help: remove or rename it (`docker rm -f {name}`), or pass `--backend local`"
        ),
        Some(info) if label(&info, CONFIG) == Some(spec.config_hash().as_str()) => {
            let id = info.id.clone().unwrap_or_else(|| name.clone());
            shell.status("Reusing", format!("dashboard container {name}"));
            (id, true)
        }
        Some(info) => {
            shell.status(
                "Replacing",
                format!("dashboard container {name} (its configuration changed)"),
            );
            remove(docker, info.id.as_deref().unwrap_or(&name)).await?;
            (create(docker, spec, &name, shell).await?, false)
        }
        None => (create(docker, spec, &name, shell).await?, false),
    };
    // 304 (already running) is Ok in bollard 0.21.
    docker
        .start_container(&id, None::<StartContainerOptions>)
        .await
        .with_context(|| format!("failed to start container `{name}`"))?;
    let info = inspect(docker, &id)
        .await?
        .context("the dashboard container vanished")?;
    let dashboard = describe(&info, &name, reused)?;
    wait_ready(docker, &dashboard).await?;
    Ok(dashboard)
}

/// Stops and removes a container; one already gone is fine.
pub async fn remove(docker: &Docker, id: &str) -> anyhow::Result<()> {
    let stop = StopContainerOptionsBuilder::default()
        .t(STOP_GRACE_SECS)
        .build();
    match docker.stop_container(id, Some(stop)).await {
        Ok(())
        | Err(Error::DockerResponseServerError {
            status_code: 304 | 404,
            ..
        }) => {}
        Err(error) => return Err(anyhow::anyhow!("failed to stop container `{id}`: {error}")),
    }
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(id, Some(options)).await {
        Ok(())
        | Err(Error::DockerResponseServerError {
            status_code: 404 | 409,
            ..
        }) => Ok(()),
        Err(error) => Err(anyhow::anyhow!(
            "failed to remove container `{id}`: {error}"
        )),
    }
}

/// Our container for this workspace, if there is one (for `--stop`).
pub async fn find_ours(docker: &Docker, spec: &AspireSpec) -> anyhow::Result<Option<String>> {
    let name = spec.container_name();
    Ok(inspect(docker, &name).await?.filter(is_ours).map(|_| name))
}

pub async fn inspect(
    docker: &Docker,
    id_or_name: &str,
) -> anyhow::Result<Option<ContainerInspectResponse>> {
    match docker
        .inspect_container(id_or_name, None::<InspectContainerOptions>)
        .await
    {
        Ok(info) => Ok(Some(info)),
        Err(Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(error) => Err(anyhow::anyhow!(
            "failed to inspect container `{id_or_name}`: {error}"
        )),
    }
}

fn label<'a>(info: &'a ContainerInspectResponse, key: &str) -> Option<&'a str> {
    info.config
        .as_ref()?
        .labels
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

pub fn is_ours(info: &ContainerInspectResponse) -> bool {
    label(info, MANAGED_BY) == Some(MANAGED_BY_US)
}

async fn create(
    docker: &Docker,
    spec: &AspireSpec,
    name: &str,
    shell: &Shell,
) -> anyhow::Result<String> {
    let secrets = if spec.anonymous {
        None
    } else {
        Some((secret::generate()?, secret::generate()?))
    };
    let body = create_body(spec, secrets.as_ref(), shell);
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    shell.status(
        "Creating",
        format!("dashboard container {name} from {}", spec.image),
    );
    match docker.create_container(Some(options), body).await {
        Ok(created) => Ok(created.id),
        Err(Error::DockerResponseServerError {
            status_code: 409, ..
        }) => bail!(
            "a container named `{name}` appeared meanwhile and is not ours; it was left alone\n\
             help: remove it (`docker rm -f {name}`) and run again"
        ),
        Err(error) => Err(anyhow::anyhow!(
            "failed to create the dashboard container: {error}"
        )),
    }
}

fn create_body(
    spec: &AspireSpec,
    secrets: Option<&(String, String)>,
    shell: &Shell,
) -> ContainerCreateBody {
    let mut env = vec![format!(
        "Dashboard__ApplicationName={}",
        spec.application_name
    )];
    match secrets {
        Some((token, key)) => env.extend([
            "Dashboard__Frontend__AuthMode=BrowserToken".to_owned(),
            format!("Dashboard__Frontend__BrowserToken={token}"),
            "Dashboard__Otlp__AuthMode=ApiKey".to_owned(),
            format!("Dashboard__Otlp__PrimaryApiKey={key}"),
        ]),
        // Both names: `ASPIRE_` from 9.2 on, `DOTNET_` for older images.
        None => env.extend([
            "ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true".to_owned(),
            "DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true".to_owned(),
        ]),
    }
    let labels = HashMap::from([
        (MANAGED_BY.to_owned(), MANAGED_BY_US.to_owned()),
        (WORKSPACE.to_owned(), spec.workspace_root.clone()),
        (CONFIG.to_owned(), spec.config_hash()),
    ]);
    let wanted = [
        (UI, spec.ui_port, "dashboard"),
        (OTLP_GRPC, spec.grpc_port, "OTLP/gRPC"),
        (OTLP_HTTP, spec.http_port, "OTLP/HTTP"),
    ];
    let mut bindings = HashMap::new();
    for (container, host, purpose) in wanted {
        let host = host_port(host, purpose, shell);
        // Loopback only: nothing else on the network reaches the dashboard.
        let binding = PortBinding {
            host_ip: Some(Ipv4Addr::LOCALHOST.to_string()),
            host_port: Some(host),
        };
        bindings.insert(format!("{container}/tcp"), Some(vec![binding]));
    }
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        env: Some(env),
        labels: Some(labels),
        // The Aspire image has no EXPOSE; without these the daemon publishes nothing.
        exposed_ports: Some(bindings.keys().cloned().collect()),
        host_config: Some(HostConfig {
            port_bindings: Some(bindings),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    }
}

/// The wanted host port, or "" (the daemon picks one) when it is taken.
fn host_port(port: u16, purpose: &str, shell: &Shell) -> String {
    if port == 0 {
        return String::new();
    }
    if TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).is_ok() {
        return port.to_string();
    }
    let holder = crate::ports::holder(port)
        .map(|h| format!(" by {h}"))
        .unwrap_or_default();
    shell.warn(format!(
        "port {port} ({purpose}) is in use{holder}; publishing on a free port instead"
    ));
    String::new()
}

/// The real host ports (the daemon may have picked them) and the secrets,
/// read back from the container so a reused one works like a new one.
fn describe(
    info: &ContainerInspectResponse,
    name: &str,
    reused: bool,
) -> anyhow::Result<AspireContainer> {
    let ports = info
        .network_settings
        .as_ref()
        .and_then(|n| n.ports.clone())
        .unwrap_or_default();
    let host_port = |container: u16| -> anyhow::Result<u16> {
        let bindings = ports
            .get(&format!("{container}/tcp"))
            .cloned()
            .flatten()
            .unwrap_or_default();
        let port = bindings
            .iter()
            .filter_map(|b| b.host_port.as_deref()?.parse::<u16>().ok())
            .find(|p| *p != 0);
        port.with_context(|| format!("container port {container} of `{name}` is not published"))
    };
    let env = info
        .config
        .as_ref()
        .and_then(|c| c.env.clone())
        .unwrap_or_default();
    let setting = |key: &str| {
        env.iter()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .map(str::to_owned)
    };
    Ok(AspireContainer {
        id: info.id.clone().unwrap_or_else(|| name.to_owned()),
        name: name.to_owned(),
        ui_port: host_port(UI)?,
        grpc_port: host_port(OTLP_GRPC)?,
        http_port: host_port(OTLP_HTTP)?,
        browser_token: setting("Dashboard__Frontend__BrowserToken"),
        api_key: setting("Dashboard__Otlp__PrimaryApiKey"),
        reused,
    })
}

/// Ready = `/health` answers 200 on the UI port and an OTLP/gRPC export is
/// accepted. A TCP connect alone proves nothing: docker-proxy accepts
/// connections before the dashboard inside listens.
async fn wait_ready(docker: &Docker, dashboard: &AspireContainer) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    // Short first pauses: a warm image answers within a few hundred
    // milliseconds, and every one waited here delays the program's start.
    let mut pause = READY_FIRST_PAUSE;
    loop {
        if http_ok(dashboard.ui_port, "/health").await && otlp_accepts(dashboard).await {
            return Ok(());
        }
        let running = inspect(docker, &dashboard.id)
            .await?
            .and_then(|i| i.state)
            .and_then(|s| s.running);
        let problem = if running == Some(false) {
            Some("the dashboard container exited")
        } else if Instant::now() > deadline {
            Some("the dashboard did not become ready within 60 s")
        } else {
            None
        };
        if let Some(problem) = problem {
            let logs = last_log_lines(docker, &dashboard.id, 20).await;
            bail!(
                "{problem}; its last log lines:\n{logs}\n\
                 help: `docker logs {}` shows everything; `--backend local` needs no Docker",
                dashboard.name
            );
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(READY_MAX_PAUSE);
    }
}

pub async fn http_ok(port: u16, path: &str) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await.ok()?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0_u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// An empty export, as the program's first one will be, with its key.
async fn otlp_accepts(dashboard: &AspireContainer) -> bool {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, trace_service_client::TraceServiceClient,
    };
    let attempt = async {
        let mut client = TraceServiceClient::connect(dashboard.grpc_endpoint())
            .await
            .ok()?;
        let mut request = tonic::Request::new(ExportTraceServiceRequest::default());
        if let Some(key) = &dashboard.api_key {
            request
                .metadata_mut()
                .insert(API_KEY_HEADER, key.parse().ok()?);
        }
        client.export(request).await.ok().map(|_| true)
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// The container's last `count` lines (stdout and stderr), indented.
pub async fn last_log_lines(docker: &Docker, id: &str, count: usize) -> String {
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail(&count.to_string())
        .build();
    let mut logs = docker.logs(id, Some(options));
    let mut text = String::new();
    while let Some(Ok(frame)) = logs.next().await {
        if let LogOutput::StdOut { message }
        | LogOutput::StdErr { message }
        | LogOutput::Console { message } = frame
        {
            text.push_str(&String::from_utf8_lossy(&message));
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(count)..];
    tail.iter()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
