//! Finding the Docker daemon the way the `docker` CLI does, plus the sockets
//! it does not look at by itself. bollard 0.21 knows neither contexts nor
//! rootless, Docker Desktop or Podman sockets, so the host is resolved here
//! and handed to it explicitly.

use std::{
    env, fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, bail};
use bollard::{API_DEFAULT_VERSION, Docker};
use serde::Deserialize;

/// bollard applies this to receiving response headers only; streams (pull
/// progress, logs) are bounded separately.
const REQUEST_TIMEOUT_SECS: u64 = 120;
/// How long a daemon may take to answer `/_ping` before it counts as absent.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Where an endpoint came from, for messages that say what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    DockerHost,
    Context(String),
    Socket,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DockerHost => write!(f, "DOCKER_HOST"),
            Self::Context(name) => write!(f, "docker context `{name}`"),
            Self::Socket => write!(f, "socket"),
        }
    }
}

/// A daemon that answered.
pub struct Daemon {
    pub client: Docker,
    pub host: String,
    pub source: Source,
    pub version: String,
}

/// No daemon answered: what was tried, and why each failed.
#[derive(Debug)]
pub struct NoDaemon {
    pub tried: Vec<(String, String)>,
}

impl NoDaemon {
    /// `unix:///var/run/docker.sock, tcp://...`: for a one-line notice.
    pub fn hosts(&self) -> String {
        self.tried
            .iter()
            .map(|(host, _)| host.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for NoDaemon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "no Docker daemon answered; tried:")?;
        for (host, why) in &self.tried {
            writeln!(f, "  {host}: {why}")?;
        }
        write!(
            f,
            "help: start Docker (`sudo systemctl start docker`, or Docker Desktop), point DOCKER_HOST at a running daemon, or use `--backend local`"
        )
    }
}

impl std::error::Error for NoDaemon {}

/// Tries, in the docker CLI's order, `DOCKER_HOST`, then the active docker
/// context (either is final when set), then the well-known sockets; returns
/// the first daemon that answers.
pub async fn connect() -> Result<Daemon, NoDaemon> {
    let candidates = match candidates() {
        Ok(candidates) => candidates,
        Err(error) => {
            return Err(NoDaemon {
                tried: vec![("docker context".to_owned(), format!("{error:#}"))],
            });
        }
    };
    let mut tried = Vec::new();
    for (host, source) in candidates {
        match ping(&host).await {
            Ok((client, version)) => {
                return Ok(Daemon {
                    client,
                    host,
                    source,
                    version,
                });
            }
            Err(error) => tried.push((format!("{host} ({source})"), format!("{error:#}"))),
        }
    }
    Err(NoDaemon { tried })
}

fn candidates() -> anyhow::Result<Vec<(String, Source)>> {
    if let Some(host) = non_empty_env("DOCKER_HOST") {
        return Ok(vec![(host, Source::DockerHost)]);
    }
    if let Some(name) = active_context().filter(|name| name != "default") {
        let host = context_host(&name)?;
        return Ok(vec![(host, Source::Context(name))]);
    }
    let sockets = candidate_sockets()
        .into_iter()
        .filter(|path| is_socket(path));
    let found: Vec<(String, Source)> = sockets
        .map(|path| (format!("unix://{}", path.display()), Source::Socket))
        .collect();
    if found.is_empty() {
        // Nothing to probe: name the default so the message says where we looked.
        return Ok(vec![(
            "unix:///var/run/docker.sock".to_owned(),
            Source::Socket,
        )]);
    }
    Ok(found)
}

async fn ping(host: &str) -> anyhow::Result<(Docker, String)> {
    let client = client(host)?;
    let version = tokio::time::timeout(PING_TIMEOUT, client.version())
        .await
        .context("no answer within 3 s")?
        .context("the daemon did not answer")?;
    Ok((
        client,
        version.version.unwrap_or_else(|| "unknown".to_owned()),
    ))
}

fn client(host: &str) -> anyhow::Result<Docker> {
    let client = if host.starts_with("unix://") {
        Docker::connect_with_unix(host, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
    } else if host.starts_with("tcp://") || host.starts_with("http://") {
        if non_empty_env("DOCKER_TLS_VERIFY").is_some() {
            bail!(
                "TLS connections to Docker (DOCKER_TLS_VERIFY) are not supported; use the unix socket or an ssh tunnel"
            );
        }
        Docker::connect_with_http(host, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
    } else {
        bail!("unsupported Docker host `{host}` (use unix:// or tcp://)");
    };
    client.map_err(|error| anyhow::anyhow!("{error}"))
}

/// Well-known sockets, most common first: the system daemon, rootless
/// Docker, Docker Desktop (macOS and Linux), Colima, OrbStack, Rancher
/// Desktop, then Podman's Docker-compatible socket.
pub fn candidate_sockets() -> Vec<PathBuf> {
    let mut sockets = vec![PathBuf::from("/var/run/docker.sock")];
    let runtime_dirs: Vec<PathBuf> = [
        non_empty_env("XDG_RUNTIME_DIR").map(PathBuf::from),
        user_run_dir(),
    ]
    .into_iter()
    .flatten()
    .collect();
    sockets.extend(runtime_dirs.iter().map(|dir| dir.join("docker.sock")));
    if let Some(home) = home_dir() {
        for relative in [
            ".docker/run/docker.sock",
            ".docker/desktop/docker.sock",
            ".colima/default/docker.sock",
            ".orbstack/run/docker.sock",
            ".rd/docker.sock",
        ] {
            sockets.push(home.join(relative));
        }
    }
    sockets.extend(
        runtime_dirs
            .iter()
            .map(|dir| dir.join("podman/podman.sock")),
    );
    sockets.push(PathBuf::from("/run/podman/podman.sock"));
    sockets.dedup();
    sockets
}

/// `/run/user/<uid>`, with the uid read from `/proc/self` (no libc call).
fn user_run_dir() -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    Some(PathBuf::from(format!("/run/user/{uid}")))
}

fn is_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

fn non_empty_env(key: &str) -> Option<String> {
    env::var(key).ok().filter(|v| !v.trim().is_empty())
}

fn home_dir() -> Option<PathBuf> {
    env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `$DOCKER_CONFIG`, else `~/.docker`.
fn config_dir() -> Option<PathBuf> {
    non_empty_env("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|h| h.join(".docker")))
}

/// `$DOCKER_CONTEXT`, else `currentContext` in the CLI's `config.json`.
fn active_context() -> Option<String> {
    #[derive(Deserialize)]
    struct CliConfig {
        #[serde(rename = "currentContext", default)]
        current_context: Option<String>,
    }
    if let Some(name) = non_empty_env("DOCKER_CONTEXT") {
        return Some(name);
    }
    let text = std::fs::read_to_string(config_dir()?.join("config.json")).ok()?;
    let config: CliConfig = serde_json::from_str(&text).ok()?;
    config.current_context.filter(|c| !c.is_empty())
}

/// A context's docker endpoint from `contexts/meta/<sha256 of name>/meta.json`;
/// the few directories there are scanned for the name instead of hashing it.
fn context_host(name: &str) -> anyhow::Result<String> {
    #[derive(Deserialize)]
    struct Meta {
        #[serde(rename = "Name")]
        name: String,
        #[serde(rename = "Endpoints", default)]
        endpoints: std::collections::HashMap<String, Endpoint>,
    }
    #[derive(Deserialize)]
    struct Endpoint {
        #[serde(rename = "Host", default)]
        host: Option<String>,
    }
    let dir = config_dir()
        .unwrap_or_default()
        .join("contexts")
        .join("meta");
    let entries = std::fs::read_dir(&dir).into_iter().flatten().flatten();
    let metas = entries.filter_map(|e| std::fs::read_to_string(e.path().join("meta.json")).ok());
    let meta = metas
        .filter_map(|text| serde_json::from_str::<Meta>(&text).ok())
        .find(|m| m.name == name);
    let Some(meta) = meta else {
        bail!(
            "docker context `{name}` not found in `{}`\nhelp: check `docker context ls`, or unset DOCKER_CONTEXT",
            dir.display()
        );
    };
    let host = meta
        .endpoints
        .get("docker")
        .and_then(|e| e.host.clone())
        .filter(|h| !h.is_empty());
    host.with_context(|| format!("docker context `{name}` has no Docker endpoint"))
}
