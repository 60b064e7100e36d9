//! Finding a running built-in dashboard from another process.
//!
//! `cargo otel serve` and `cargo otel dash --backend local` each write a
//! small state file while they run: its web address, its browser token,
//! its pid and where it was started. The query commands and `cargo otel
//! mcp` read them: the dashboard started for the current directory's
//! workspace, else the only one running. The files live in the user's
//! state directory (`$XDG_STATE_HOME/cargo-otel/dashboards`, else
//! `~/.local/state/cargo-otel/dashboards`), readable only by the user, and
//! go when their dashboard stops. A file whose process is gone (killed) is
//! removed by the next reader; one whose port no longer answers is ignored.

use std::{
    fs,
    io::Write as _,
    net::{SocketAddr, TcpStream},
    os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _},
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// How long a dashboard's port may take to accept a connection before its
/// state file counts as stale.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// What a running built-in dashboard tells other processes about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Running {
    pub pid: u32,
    /// The workspace `dash` runs, or the directory `serve` was started in.
    pub dir: PathBuf,
    /// The web view's address: `http://127.0.0.1:PORT`.
    pub url: String,
    /// The browser token; `None` when anyone may read it (`--anonymous`).
    pub token: Option<String>,
    /// `cargo otel serve` or `cargo otel dash`.
    pub command: String,
}

impl Running {
    /// This process's `backend`, started by `command` for `dir`.
    pub fn of(backend: &super::Backend, dir: &Path, command: &str) -> Self {
        Self {
            pid: std::process::id(),
            dir: dir.to_owned(),
            url: backend.ui_url(),
            token: backend.browser_token().map(str::to_owned),
            command: command.to_owned(),
        }
    }
}

/// A state file, removed when dropped (when its dashboard stops).
#[derive(Debug)]
pub struct Registration {
    path: PathBuf,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The directory of the state files; `None` without `XDG_STATE_HOME` or `HOME`.
pub fn state_dir() -> Option<PathBuf> {
    let from = |key| {
        std::env::var_os(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let state = from("XDG_STATE_HOME").or_else(|| from("HOME").map(|h| h.join(".local/state")));
    state.map(|dir| dir.join("cargo-otel/dashboards"))
}

/// [`register`], where a failure is worth a warning only: without the
/// file, the commands that read the dashboard need `--url`.
pub fn register_or_warn(shell: &crate::Shell, running: &Running) -> Option<Registration> {
    register(running)
        .inspect_err(|error| {
            shell.warn(format!("{error:#}; `cargo otel traces` will need `--url`"))
        })
        .ok()
}

/// Writes the state file of a dashboard that this process runs.
pub fn register(running: &Running) -> anyhow::Result<Registration> {
    let dir = state_dir().context("neither XDG_STATE_HOME nor HOME is set")?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))?;
    prune(&dir);
    let path = dir.join(format!("{}.json", running.pid));
    // Written whole under another name, then renamed: a reader never sees
    // half a file. Readable by the user only, as it holds the token.
    let partial = dir.join(format!(".{}.json.partial", running.pid));
    let _ = fs::remove_file(&partial);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("failed to create `{}`", partial.display()))?;
    let mut running = running.clone();
    running.dir = running.dir.canonicalize().unwrap_or(running.dir);
    let json = serde_json::to_vec(&running).context("failed to encode the dashboard's state")?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("failed to write `{}`", partial.display()))?;
    fs::rename(&partial, &path).with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(Registration { path })
}

/// The dashboard to read from `cwd`: the one started for the deepest
/// directory that holds `cwd`, else the only one running.
pub fn find(cwd: &Path) -> anyhow::Result<Running> {
    let running = running();
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_owned());
    let here = running
        .iter()
        .filter(|r| cwd.starts_with(&r.dir))
        .max_by_key(|r| r.dir.components().count());
    match (here, running.as_slice()) {
        (Some(here), _) => Ok(here.clone()),
        (None, [only]) => Ok(only.clone()),
        (None, []) => anyhow::bail!(
            "no built-in dashboard is running\n\
             help: start one with `cargo otel serve` (or `cargo otel dash --backend local`), \
             or name one with `--url`"
        ),
        (None, several) => {
            let list: Vec<String> = several
                .iter()
                .map(|r| format!("  {} ({}, in {})", r.url, r.command, r.dir.display()))
                .collect();
            anyhow::bail!(
                "{} built-in dashboards are running, none for this directory:\n{}\n\
                 help: run this in the workspace of one, or choose one with `--url`",
                several.len(),
                list.join("\n")
            )
        }
    }
}

/// Every dashboard whose state file is current, in the order of file names.
pub fn running() -> Vec<Running> {
    let Some(dir) = state_dir() else {
        return Vec::new();
    };
    let paths = state_files(&dir);
    paths
        .into_iter()
        .filter_map(|path| current(&path))
        .collect()
}

/// Removes the files of processes that are gone (killed before they could
/// remove their own), so they do not pile up.
fn prune(dir: &Path) {
    for path in state_files(dir) {
        alive(&path);
    }
}

/// The `*.json` files in `dir`, sorted.
fn state_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

/// The file's dashboard if it still runs and answers: a file of a dead
/// process is removed, one that does not parse or whose port is closed
/// ignored.
fn current(path: &Path) -> Option<Running> {
    alive(path).filter(|running| answers(&running.url))
}

/// The file's dashboard if its process still runs; the file of one that is
/// gone is removed.
fn alive(path: &Path) -> Option<Running> {
    let running: Running = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    if is_alive(running.pid) {
        return Some(running);
    }
    let _ = fs::remove_file(path);
    None
}

fn is_alive(pid: u32) -> bool {
    let Ok(pid @ 1..) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether something accepts connections at `http://HOST:PORT`.
fn answers(url: &str) -> bool {
    let addr = url
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .and_then(|authority| authority.parse::<SocketAddr>().ok());
    addr.is_some_and(|addr| TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_pid_is_not_alive() {
        assert!(is_alive(std::process::id()));
        assert!(!is_alive(0));
        assert!(!is_alive(u32::MAX));
    }

    #[test]
    fn a_closed_port_does_not_answer() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        assert!(answers(&url));
        drop(listener);
        assert!(!answers(&url));
        assert!(!answers("https://example.invalid"));
    }
}
