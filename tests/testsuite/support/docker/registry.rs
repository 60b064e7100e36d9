//! A throw-away image registry and the stand-in pushed to it, so that tests
//! pull the dashboard image for real: Debian's `docker-registry`
//! (distribution 2.8) with a configuration of its own (storage in a temporary
//! directory, no auth, 127.0.0.1 only; the packaged one wants htpasswd on
//! :5000). dockerd trusts 127.0.0.0/8 over plain HTTP by default.

use std::{
    env,
    fs::File,
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use bollard::{
    Docker, body_full,
    query_parameters::{BuildImageOptionsBuilder, PushImageOptionsBuilder},
};
use futures_util::StreamExt as _;
use tempfile::TempDir;

use crate::support::http::http;

use super::{
    Cleanup, DASHBOARD_PORTS, ENTRYPOINT, REQUIRE_DOCKER, StandIn, block_on, image_exists,
    process_is_gone, split_reference,
    stand_in::{random_bytes, tar_of},
    test_labels,
};

/// Where [`push_to`] puts the image: `127.0.0.1:PORT/aspire-dashboard:13`.
pub(crate) const PUSHED_REPOSITORY: &str = "aspire-dashboard";
pub(crate) const PUSHED_TAG: &str = "13";

/// Sizes of the filler layers above the binary's layer: big enough for
/// `Downloading` progress events, small enough to cost nothing.
const FILLER_LAYERS: [usize; 2] = [2 << 20, 4 << 20];

/// Prefix of a registry's temporary directory.
const DIR_PREFIX: &str = "cargo-otel-registry-";

/// A running `docker-registry serve`, killed (and its storage deleted) on drop.
pub(crate) struct Registry {
    /// `127.0.0.1:PORT`.
    pub(crate) addr: SocketAddr,
    child: Child,
    dir: TempDir,
}

impl Registry {
    /// `127.0.0.1:PORT`, the registry part of an image reference.
    pub(crate) fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The tags of `repository` in the registry (empty when it has none).
    pub(crate) fn tags(&self, repository: &str) -> Vec<String> {
        let target = format!("/v2/{repository}/tags/list");
        let response = http(self.addr, "GET", &target, &[], &[])
            .unwrap_or_else(|e| panic!("GET {target} from the registry: {e}"));
        if response.status == 404 {
            return Vec::new();
        }
        assert_eq!(response.status, 200, "GET {target}: {}", response.text());
        let list: serde_json::Value = serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("GET {target}: {e}: {}", response.text()));
        list["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|tag| tag.as_str().map(str::to_owned))
            .collect()
    }

    /// What the registry logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh, empty registry on a free 127.0.0.1 port, answering `GET /v2/`.
/// `None`, after printing `SKIPPED: no docker-registry`, when the binary is
/// missing; a panic instead if `CARGO_OTEL_REQUIRE_DOCKER` is set.
pub(crate) fn local_registry() -> Option<Registry> {
    let Some(binary) = find_in_path("docker-registry") else {
        assert!(
            env::var_os(REQUIRE_DOCKER).is_none(),
            "`docker-registry` is not on PATH and {REQUIRE_DOCKER} is set\n\
             help: run `.ci/install-docker` (as root) to install it"
        );
        println!("SKIPPED: no docker-registry");
        return None;
    };
    // The free port is only free until someone else takes it: try again.
    let mut failures = Vec::new();
    for _ in 0..3 {
        match start(&binary) {
            Ok(registry) => return Some(registry),
            Err(why) => failures.push(why),
        }
    }
    panic!(
        "`docker-registry serve` did not come up:\n{}",
        failures.join("\n---\n")
    );
}

fn start(binary: &Path) -> Result<Registry, String> {
    let dir = tempfile::Builder::new()
        .prefix(DIR_PREFIX)
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let config = dir.path().join("config.yml");
    let storage = dir.path().join("storage");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: {addr}\n",
            storage.display()
        ),
    )
    .map_err(|e| format!("writing {}: {e}", config.display()))?;
    let log = File::create(dir.path().join("registry.log")).map_err(|e| e.to_string())?;
    let child = Command::new(binary)
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("failed to run {}: {e}", binary.display()))?;
    // Lets a later run stop it if this process dies without dropping it.
    let owner = format!("{} {}", std::process::id(), child.id());
    let mut registry = Registry { addr, child, dir };
    std::fs::write(registry.dir.path().join("owner"), owner).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = registry.child.try_wait() {
            return Err(format!("it exited ({status}):\n{}", registry.log()));
        }
        if http(addr, "GET", "/v2/", &[], &[]).is_ok_and(|r| r.status == 200) {
            return Ok(registry);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no answer on {addr} within 20s:\n{}",
                registry.log()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the registries of test processes that died without dropping them
/// (their `owner` file names both pids) and deletes their directories.
pub(super) fn sweep() {
    let Ok(entries) = std::fs::read_dir(env::temp_dir()) else {
        return;
    };
    for dir in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        let is_ours = dir
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with(DIR_PREFIX));
        let Ok(owner) = std::fs::read_to_string(dir.join("owner")) else {
            continue;
        };
        let Some((test, registry)) = owner.trim().split_once(' ') else {
            continue;
        };
        if !is_ours || !process_is_gone(test) {
            continue;
        }
        // Only if that pid still is this registry, not a reused pid.
        let cmdline = std::fs::read(format!("/proc/{registry}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&*dir.to_string_lossy()) {
            let _ = Command::new("kill").arg(registry).status();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Builds a multi-layer copy of the stand-in (the binary, then two layers of
/// random bytes), pushes it to `registry` as
/// `127.0.0.1:PORT/aspire-dashboard:13` and deletes it locally again, layers
/// included, so that using it means pulling every layer. Returns that reference.
pub(crate) fn push_to(docker: &Docker, registry: &Registry, stand_in: &StandIn) -> String {
    let reference = format!("{}/{PUSHED_REPOSITORY}:{PUSHED_TAG}", registry.host());
    // Removes the local copy, and with it the layers, however this ends.
    let mut local_copy = Cleanup::new(docker);
    local_copy.image(&reference);
    let started = Instant::now();
    build_layered(docker, &stand_in.binary, &reference);
    let built = started.elapsed();
    push(docker, &reference);
    let pushed = started.elapsed() - built;
    drop(local_copy);
    assert!(
        !image_exists(docker, &reference),
        "`{reference}` is still present after its removal"
    );
    let tags = registry.tags(PUSHED_REPOSITORY);
    assert!(
        tags.iter().any(|t| t == PUSHED_TAG),
        "pushed, yet the registry has {tags:?}"
    );
    println!(
        "registry: {reference} built in {:.1}s, pushed in {:.1}s",
        built.as_secs_f64(),
        pushed.as_secs_f64()
    );
    reference
}

/// `docker build` (classic builder, nothing pulled for `FROM scratch`) of the
/// stand-in plus filler layers, tagged `reference`.
fn build_layered(docker: &Docker, binary: &Path, reference: &str) {
    let binary = std::fs::read(binary)
        .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", binary.display()));
    let mut dockerfile = String::from("FROM scratch\nCOPY cargo-otel /cargo-otel\n");
    let fillers: Vec<(String, Vec<u8>)> = FILLER_LAYERS
        .iter()
        .enumerate()
        .map(|(i, &len)| (format!("filler-{}.bin", i + 1), random_bytes(len)))
        .collect();
    for (name, _) in &fillers {
        dockerfile.push_str(&format!("COPY {name} /opt/filler/{name}\n"));
    }
    let ports = DASHBOARD_PORTS.map(|port| format!("{port}/tcp")).join(" ");
    let entrypoint = ENTRYPOINT.map(|part| format!("\"{part}\"")).join(", ");
    dockerfile.push_str(&format!("EXPOSE {ports}\nENTRYPOINT [{entrypoint}]\n"));
    let mut files: Vec<(&str, &[u8], u32)> = vec![
        ("Dockerfile", dockerfile.as_bytes(), 0o644),
        ("cargo-otel", &binary, 0o755),
    ];
    files.extend(
        fillers
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice(), 0o644)),
    );
    // A real mtime: the binary's layer must not coincide with the stand-in's.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let context = tar_of(&files, now);
    let labels = test_labels("registry");
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(reference)
        .labels(&labels)
        .rm(true)
        .forcerm(true)
        .pull("false")
        .build();
    let (output, error) = block_on(async {
        let mut stream = docker.build_image(options, None, Some(body_full(context.into())));
        let mut output = String::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(detail) = info.error_detail {
                        return (output, Some(format!("{detail:?}")));
                    }
                    output.push_str(info.stream.as_deref().unwrap_or_default());
                }
                Err(e) => return (output, Some(e.to_string())),
            }
        }
        (output, None)
    });
    if let Some(error) = error {
        panic!("docker build of `{reference}` failed: {error}\n{output}");
    }
}

fn push(docker: &Docker, reference: &str) {
    let (repository, tag) = split_reference(reference);
    let options = PushImageOptionsBuilder::default().tag(tag).build();
    let result = block_on(async {
        let mut stream = docker.push_image(repository, Some(options), None);
        let mut statuses = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => statuses.extend(info.status),
                Err(e) => return Err(format!("{e}\n{}", statuses.join("\n"))),
            }
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("docker push of `{reference}` failed: {error}");
    }
}
