//! Local ports: the standard ones of OTLP and the dashboard, binding one, and
//! saying who holds one that is taken (the built-in dashboard, the container
//! and doctor all ask).

use std::{
    fs,
    net::{SocketAddr, TcpListener},
    path::Path,
};

use anyhow::Context as _;

/// The ports the standard OTLP exporters and the Aspire dashboard use.
pub const DEFAULT_GRPC_PORT: u16 = 4317;
pub const DEFAULT_HTTP_PORT: u16 = 4318;
pub const DEFAULT_UI_PORT: u16 = 18888;

/// Binds `addr` for `purpose`; a busy port is an error naming its holder
/// when Linux's `/proc` tells, and the flag that picks a free port instead.
pub fn bind(addr: SocketAddr, purpose: &str, port_flag: &str) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(addr) {
        Ok(listener) => {
            // Tokio takes over the socket, and requires non-blocking mode.
            listener
                .set_nonblocking(true)
                .with_context(|| format!("failed to configure {addr}"))?;
            Ok(listener)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            let holder = holder(addr.port())
                .map(|h| format!(" by {h}"))
                .unwrap_or_default();
            anyhow::bail!(
                "port {} ({purpose}) is already in use{holder}\n\
                 help: stop what holds it, or pass `{port_flag} 0` to use a free port",
                addr.port()
            )
        }
        Err(error) => {
            Err(error).with_context(|| format!("failed to listen on {addr} for {purpose}"))
        }
    }
}

/// `` `name` (pid N) `` for the process listening on `port`, if visible.
pub fn holder(port: u16) -> Option<String> {
    let inode = listening_inode(port)?;
    let needle = format!("socket:[{inode}]");
    for process in fs::read_dir("/proc").ok()?.flatten() {
        let pid = process.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if holds_socket(&process.path(), &needle) {
            let name = fs::read_to_string(process.path().join("comm")).unwrap_or_default();
            let name = name.trim();
            let docker = if name == "docker-proxy" {
                ", a published Docker container port"
            } else {
                ""
            };
            return Some(format!("`{name}` (pid {pid}{docker})"));
        }
    }
    None
}

/// The socket inode listening on `port`, from `/proc/net/tcp{,6}`.
fn listening_inode(port: u16) -> Option<String> {
    const LISTEN: &str = "0A";
    let port_hex = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = fs::read_to_string(table).ok()?;
            text.lines().skip(1).find_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let listening =
                    fields.get(3) == Some(&LISTEN) && fields.get(1)?.ends_with(&port_hex);
                listening
                    .then(|| fields.get(9).map(|inode| (*inode).to_owned()))
                    .flatten()
            })
        })
}

fn holds_socket(process: &Path, needle: &str) -> bool {
    let Ok(fds) = fs::read_dir(process.join("fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target.as_os_str() == needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_port_names_its_holder() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let message = bind(addr, "OTLP/gRPC", "--grpc-port")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(&format!(
                "port {} (OTLP/gRPC) is already in use by `",
                addr.port()
            )),
            "{message}"
        );
        assert!(
            message.contains(&format!("(pid {}", std::process::id())),
            "{message}"
        );
        assert!(message.contains("--grpc-port 0"), "{message}");
    }
}
