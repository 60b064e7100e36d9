//! Where telemetry is meant to go: the Docker daemon, the Aspire image, this
//! workspace's dashboard container, the default ports and the local backend.

use std::{
    net::{Ipv4Addr, TcpListener},
    path::Path,
};

use bollard::Docker;

use super::{Check, ids};
use crate::{
    docker::{container, discover, image},
    ports::{self, DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_UI_PORT},
};

/// The process name of `cargo otel serve` / `dash --backend local`.
const OUR_PROCESS: &str = "`cargo-otel`";

pub async fn check(workspace_root: Option<&Path>, image_name: &str) -> Vec<Check> {
    let mut checks = Vec::new();
    let daemon = match discover::connect().await {
        Ok(daemon) => {
            checks.push(ids::DOCKER.ok(format!(
                "Docker {} at {} ({})",
                daemon.version, daemon.host, daemon.source
            )));
            Some(daemon)
        }
        Err(no_daemon) => {
            checks.push(ids::DOCKER.warning(
                format!("no Docker daemon answered (tried {})", no_daemon.hosts()),
                "start Docker (or point DOCKER_HOST at it) for the Aspire dashboard; `cargo otel dash --backend local` needs no Docker",
            ));
            None
        }
    };
    match &daemon {
        Some(daemon) => {
            checks.push(image_check(&daemon.client, image_name).await);
            checks.push(container_check(&daemon.client, workspace_root).await);
        }
        None => {
            checks.push(ids::IMAGE.skipped("no Docker daemon"));
            checks.push(ids::CONTAINER.skipped("no Docker daemon"));
        }
    }
    checks.extend(port_checks(&DEFAULT_PORTS));
    checks
}

/// The ports a dashboard listens on by default, with what each is for.
pub const DEFAULT_PORTS: [(u16, &str); 3] = [
    (DEFAULT_GRPC_PORT, "OTLP/gRPC"),
    (DEFAULT_HTTP_PORT, "OTLP/HTTP"),
    (DEFAULT_UI_PORT, "dashboard"),
];

async fn image_check(docker: &Docker, name: &str) -> Check {
    match image::present(docker, name).await {
        Ok(true) => ids::IMAGE.ok(format!("`{name}` is present")),
        Ok(false) => ids::IMAGE.warning(
            format!("`{name}` is not pulled yet"),
            format!("`docker pull {name}` (or let `cargo otel dash` pull it)"),
        ),
        Err(error) => ids::IMAGE.warning(format!("{error:#}"), "check `docker info`"),
    }
}

async fn container_check(docker: &Docker, workspace_root: Option<&Path>) -> Check {
    let spec = ids::CONTAINER;
    let Some(root) = workspace_root else {
        return spec.skipped("no workspace, so no dashboard container to look for");
    };
    let name = container::container_name(&root.display().to_string());
    let info = match container::inspect(docker, &name).await {
        Ok(Some(info)) => info,
        Ok(None) => {
            return spec.ok(format!(
                "no dashboard container for this workspace (`cargo otel dash` starts `{name}`)"
            ));
        }
        Err(error) => return spec.warning(format!("{error:#}"), "check `docker ps -a`"),
    };
    if !container::is_ours(&info) {
        return spec.warning(
            format!("a container named `{name}` exists but was not made by cargo-otel"),
            format!("remove it (`docker rm -f {name}`) so `cargo otel dash` can create its own"),
        );
    }
    let state = info.state.as_ref();
    let running = state.and_then(|s| s.running).unwrap_or(false);
    if !running {
        let status = state
            .and_then(|s| s.status)
            .map_or_else(|| "not running".to_owned(), |s| s.to_string());
        return spec.warning(
            format!("`{name}` exists but is {status}"),
            "`cargo otel dash --detach` starts it again",
        );
    }
    let ui_port = host_port(&info, "18888/tcp");
    let grpc_port = host_port(&info, "18889/tcp");
    match ui_port {
        Some(port) if container::http_ok(port, "/health").await => {
            let grpc = grpc_port.map_or_else(String::new, |p| format!(", OTLP/gRPC on 127.0.0.1:{p}"));
            spec.ok(format!("`{name}` is running and healthy (web page on 127.0.0.1:{port}{grpc})"))
        }
        _ => spec.warning(
            format!("`{name}` is running but its `/health` does not answer"),
            format!("see `docker logs {name}`; `cargo otel dash --stop` then `cargo otel dash --detach` recreates it"),
        ),
    }
}

fn host_port(info: &bollard::models::ContainerInspectResponse, port: &str) -> Option<u16> {
    let ports = info.network_settings.as_ref()?.ports.as_ref()?;
    let bindings = ports.get(port)?.as_ref()?;
    bindings
        .iter()
        .find_map(|b| b.host_port.as_deref()?.parse().ok())
}

/// Who holds each port, and whether that is a dashboard of ours: the
/// ports check and the local backend check.
pub fn port_checks(ports: &[(u16, &str)]) -> [Check; 2] {
    let mut free = Vec::new();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut local_backend = None;
    for &(port, purpose) in ports {
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            free.push(port.to_string());
            continue;
        }
        let holder = ports::holder(port);
        let text = holder
            .clone()
            .unwrap_or_else(|| "a process this user cannot see".to_owned());
        let is_ours = holder
            .as_deref()
            .is_some_and(|h| h.starts_with(OUR_PROCESS) || h.contains("Docker container"));
        if holder
            .as_deref()
            .is_some_and(|h| h.starts_with(OUR_PROCESS))
        {
            local_backend.get_or_insert_with(|| format!("{text} on port {port}"));
        }
        let line = format!("{port} ({purpose}) by {text}");
        if is_ours {
            ours.push(line)
        } else {
            theirs.push(line)
        }
    }
    let mut parts = Vec::new();
    if !free.is_empty() {
        parts.push(format!("free: {}", free.join(", ")));
    }
    if !ours.is_empty() {
        parts.push(format!("held by a dashboard: {}", ours.join("; ")));
    }
    let ports_check = if theirs.is_empty() {
        ids::PORTS.ok(parts.join("; "))
    } else {
        ids::PORTS.warning(
            format!("held by another program: {}", theirs.join("; ")),
            "if that is not your collector, stop it; `cargo otel dash` otherwise picks free ports and tells the program",
        )
    };
    let local = match local_backend {
        Some(found) => ids::LOCAL_BACKEND.ok(format!("running: {found}")),
        None => {
            ids::LOCAL_BACKEND.ok("not running on the default ports (`cargo otel serve` starts it)")
        }
    };
    [ports_check, local]
}
