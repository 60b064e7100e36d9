//! Support for the tests of the Docker backend (`cargo otel dash --backend
//! docker`) against a real daemon that cannot reach any public registry:
//!
//! * [`docker`] connects and pings, or prints `SKIPPED: no Docker daemon`
//!   (a panic instead when `CARGO_OTEL_REQUIRE_DOCKER` is set, as in CI);
//! * [`stand_in_image`] packages a static `cargo-otel` `FROM scratch` as a
//!   stand-in for the Aspire dashboard image (`serve --aspire-compat`);
//! * [`local_registry`] and [`push_to`] serve a multi-layer copy of it from a
//!   throw-away `docker-registry` on 127.0.0.1, so pulls are real pulls;
//! * inspection and clean-up by name and label, [`pull_image`], and helpers
//!   for the stand-in's `/health` and OTLP/HTTP on the shared raw HTTP/1.1
//!   client ([`super::http`]).
//!
//! Every helper is synchronous and runs bollard on a runtime of its own (see
//! [`block_on`]), so it works from a plain `#[test]` and inside a
//! `#[tokio::test]` alike.
//!
//! Everything the helpers create carries the label `dev.cargo-otel.test=1`
//! ([`TEST_LABEL`]). By hand:
//! `docker rm -f $(docker ps -aq -f label=dev.cargo-otel.test)` and
//! `docker rmi -f $(docker images -q -f label=dev.cargo-otel.test)`.

#![allow(
    clippy::print_stdout,
    reason = "skips and timings are reported on stdout, as in the other suites"
)]

mod http;
mod registry;
mod stand_in;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    env,
    future::Future,
    net::{Ipv4Addr, SocketAddr},
    path::Path,
    sync::{Once, OnceLock},
    time::{Duration, Instant},
};

use bollard::{
    Docker,
    errors::Error,
    models::{
        ContainerCreateBody, ContainerInspectResponse, ContainerSummary, CreateImageInfo,
        HostConfig, ImageSummary, PortBinding,
    },
    query_parameters::{
        CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
        ListImagesOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
        RemoveImageOptionsBuilder,
    },
};
use futures_util::{StreamExt as _, TryStreamExt as _};
use tokio::runtime::{Handle, Runtime};

#[allow(
    unused_imports,
    reason = "for the benches' own stand-in (benches/perf/dash.rs)"
)]
pub(crate) use self::stand_in::{import, stand_in_binary};
pub(crate) use self::{
    http::{otlp_json_log, otlp_json_trace, post_otlp_json, wait_healthy},
    registry::{local_registry, push_to},
    stand_in::{DASHBOARD_PORTS, ENTRYPOINT, StandIn, stand_in_image},
};

/// Set (to anything) to make a missing daemon or registry binary a failure
/// instead of a skip. CI sets it.
pub(crate) const REQUIRE_DOCKER: &str = "CARGO_OTEL_REQUIRE_DOCKER";

/// The label on every container and image the helpers create (value `1`).
pub(crate) const TEST_LABEL: &str = "dev.cargo-otel.test";
/// What the helper made it for: `stand-in`, `registry` or `container`.
pub(crate) const ROLE_LABEL: &str = "dev.cargo-otel.test.role";
/// `<hostname>:<pid>` of the test process that created a container or image
/// (not on the shared stand-in): what a killed test run left behind is
/// removed by the next [`docker`] call on the same machine.
pub(crate) const OWNER_LABEL: &str = "dev.cargo-otel.test.owner";

/// How long a single wait (a pull, a health check) may take before it fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

/// The helpers' runtime: two workers, alive for the whole test process, so
/// connections pooled by a [`Docker`] never outlive the runtime they run on.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("docker-support")
            .enable_all()
            .build()
            .expect("failed to start the Docker helpers' runtime")
    })
}

/// Runs `future` to completion on the helpers' runtime. Inside another
/// runtime (a `#[tokio::test]`) it blocks from a scoped thread, because
/// `block_on` may not be nested.
pub(crate) fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if Handle::try_current().is_err() {
        return runtime().block_on(future);
    }
    std::thread::scope(
        |scope| match scope.spawn(|| runtime().block_on(future)).join() {
            Ok(output) => output,
            Err(panic) => std::panic::resume_unwind(panic),
        },
    )
}

/// A client for the daemon at `$DOCKER_HOST` (default: the
/// `/var/run/docker.sock` socket) that answered a ping. `None`, after
/// printing `SKIPPED: no Docker daemon`, when none answers; a panic instead
/// if `CARGO_OTEL_REQUIRE_DOCKER` is set.
pub(crate) fn docker() -> Option<Docker> {
    match connect() {
        Ok(docker) => {
            static SWEPT: Once = Once::new();
            SWEPT.call_once(|| sweep(&docker));
            Some(docker)
        }
        Err(why) => {
            assert!(
                env::var_os(REQUIRE_DOCKER).is_none(),
                "no Docker daemon answers ({why}) and {REQUIRE_DOCKER} is set\n\
                 help: run `.ci/install-docker` (as root) to install and start one"
            );
            println!("SKIPPED: no Docker daemon");
            None
        }
    }
}

/// Connects and pings (within 10 s); the error says where it looked.
pub(crate) fn connect() -> Result<Docker, String> {
    let host = env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let docker =
        Docker::connect_with_defaults().map_err(|e| format!("{host}: {}", with_sources(&e)))?;
    block_on(async {
        match tokio::time::timeout(Duration::from_secs(10), docker.ping()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("{host}: {}", with_sources(&e))),
            Err(_) => Err(format!("{host}: no answer to a ping within 10s")),
        }
    })?;
    Ok(docker)
}

/// `error: source: source…`, since bollard's own text is often vague
/// ("client error (Connect)").
pub(crate) fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(&format!(": {cause_text}"));
        }
        source = cause.source();
    }
    text
}

/// The labels of something the helpers create for `role`.
pub(crate) fn test_labels(role: &str) -> HashMap<String, String> {
    HashMap::from([
        (TEST_LABEL.to_owned(), "1".to_owned()),
        (ROLE_LABEL.to_owned(), role.to_owned()),
        (OWNER_LABEL.to_owned(), owner()),
    ])
}

/// This process, as [`OWNER_LABEL`] names it.
fn owner() -> String {
    format!("{}:{}", hostname(), std::process::id())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

/// Whether `pid` on this machine is known to have exited (never true where
/// there is no `/proc` to tell).
pub(crate) fn process_is_gone(pid: &str) -> bool {
    Path::new("/proc/self").exists() && !Path::new("/proc").join(pid).exists()
}

/// Removes the containers and images of test processes on this machine that
/// died without cleaning up (killed, Ctrl-C), and their registries.
fn sweep(docker: &Docker) {
    let host = hostname();
    let orphaned = |labels: Option<&HashMap<String, String>>| {
        labels
            .and_then(|labels| labels.get(OWNER_LABEL))
            .and_then(|owner| owner.rsplit_once(':'))
            .is_some_and(|(owner_host, pid)| owner_host == host && process_is_gone(pid))
    };
    for container in containers_labelled(docker, TEST_LABEL) {
        if orphaned(container.labels.as_ref()) {
            remove_container(docker, container.id.as_deref().unwrap_or_default());
        }
    }
    for image in images_labelled(docker, TEST_LABEL) {
        if orphaned(Some(&image.labels)) {
            remove_image(docker, &image.id);
        }
    }
    registry::sweep();
}

fn is_status(error: &Error, status: u16) -> bool {
    matches!(error, Error::DockerResponseServerError { status_code, .. } if *status_code == status)
}

// ---------------------------------------------------------------------------
// Containers

/// `docker inspect NAME_OR_ID`; `None` when there is no such container.
pub(crate) fn inspect_container(
    docker: &Docker,
    name_or_id: &str,
) -> Option<ContainerInspectResponse> {
    match block_on(docker.inspect_container(name_or_id, None)) {
        Ok(inspect) => Some(inspect),
        Err(e) if is_status(&e, 404) => None,
        Err(e) => panic!("inspect container `{name_or_id}`: {e}"),
    }
}

pub(crate) fn container_exists(docker: &Docker, name_or_id: &str) -> bool {
    inspect_container(docker, name_or_id).is_some()
}

/// Every container (running or not) with `label` (`key` or `key=value`).
pub(crate) fn containers_labelled(docker: &Docker, label: &str) -> Vec<ContainerSummary> {
    let filters = HashMap::from([("label", vec![label])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    block_on(docker.list_containers(Some(options)))
        .unwrap_or_else(|e| panic!("list containers labelled `{label}`: {e}"))
}

/// The host addresses of a running container's published ports, by container
/// port. Panics unless every binding, requested and actual, is on 127.0.0.1
/// (and is the only binding of its port).
pub(crate) fn published_ports(inspect: &ContainerInspectResponse) -> BTreeMap<u16, SocketAddr> {
    let name = inspect.name.as_deref().unwrap_or("?");
    let requested = inspect
        .host_config
        .as_ref()
        .and_then(|h| h.port_bindings.as_ref());
    for (port, bindings) in requested.into_iter().flatten() {
        for binding in bindings.iter().flatten() {
            assert_eq!(
                binding.host_ip.as_deref(),
                Some("127.0.0.1"),
                "container {name} asks for {port} on {binding:?}, not on 127.0.0.1 only"
            );
        }
    }
    let actual = inspect
        .network_settings
        .as_ref()
        .and_then(|n| n.ports.as_ref());
    let mut ports = BTreeMap::new();
    for (port, bindings) in actual.into_iter().flatten() {
        let Some(bindings) = bindings else { continue };
        assert_eq!(
            bindings.len(),
            1,
            "container {name} publishes {port} more than once: {bindings:?}"
        );
        let binding = &bindings[0];
        assert_eq!(
            binding.host_ip.as_deref(),
            Some("127.0.0.1"),
            "container {name} publishes {port} on {binding:?}, not on 127.0.0.1 only"
        );
        let container_port = port
            .split('/')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("a port key like `18888/tcp`, not `{port}`"));
        let host_port = binding
            .host_port
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no host port in {binding:?}"));
        ports.insert(
            container_port,
            SocketAddr::from((Ipv4Addr::LOCALHOST, host_port)),
        );
    }
    ports
}

/// Everything the container wrote so far, stdout and stderr interleaved.
pub(crate) fn container_logs(docker: &Docker, name_or_id: &str) -> String {
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail("all")
        .build();
    let frames: Vec<_> = block_on(docker.logs(name_or_id, Some(options)).try_collect())
        .unwrap_or_else(|e: Error| panic!("logs of `{name_or_id}`: {e}"));
    frames.iter().map(ToString::to_string).collect()
}

/// Creates and starts `name` from `image`, the way the dashboard container is
/// run: 18888, 18889 and 18890 published on ephemeral 127.0.0.1 ports, `env`,
/// and the test labels. Returns its inspection (see [`published_ports`]).
pub(crate) fn run_dashboard_container(
    docker: &Docker,
    name: &str,
    image: &str,
    env: &[(&str, &str)],
) -> ContainerInspectResponse {
    let bindings = DASHBOARD_PORTS.map(|port| {
        let binding = PortBinding {
            host_ip: Some("127.0.0.1".to_owned()),
            host_port: Some(String::new()),
        };
        (format!("{port}/tcp"), Some(vec![binding]))
    });
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(test_labels("container")),
        exposed_ports: Some(DASHBOARD_PORTS.map(|p| format!("{p}/tcp")).to_vec()),
        host_config: Some(HostConfig {
            port_bindings: Some(bindings.into_iter().collect()),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    block_on(async {
        docker.create_container(Some(options), body).await?;
        docker.start_container(name, None).await
    })
    .unwrap_or_else(|e| panic!("create and start container `{name}` from `{image}`: {e}"));
    inspect_container(docker, name).unwrap_or_else(|| panic!("container `{name}` vanished"))
}

/// `docker rm -f -v`; false when there was nothing to remove.
pub(crate) fn remove_container(docker: &Docker, name_or_id: &str) -> bool {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    match block_on(docker.remove_container(name_or_id, Some(options))) {
        Ok(()) => true,
        // 409: a removal is already under way.
        Err(e) if is_status(&e, 404) || is_status(&e, 409) => false,
        Err(e) => panic!("remove container `{name_or_id}`: {e}"),
    }
}

// ---------------------------------------------------------------------------
// Images

pub(crate) fn image_exists(docker: &Docker, reference: &str) -> bool {
    match block_on(docker.inspect_image(reference)) {
        Ok(_) => true,
        Err(e) if is_status(&e, 404) => false,
        Err(e) => panic!("inspect image `{reference}`: {e}"),
    }
}

/// Every image (tagged or not) with `label` (`key` or `key=value`).
pub(crate) fn images_labelled(docker: &Docker, label: &str) -> Vec<ImageSummary> {
    let filters = HashMap::from([("label", vec![label])]);
    let options = ListImagesOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    block_on(docker.list_images(Some(options)))
        .unwrap_or_else(|e| panic!("list images labelled `{label}`: {e}"))
}

/// `docker rmi -f`: untags `reference` (a tag or an id) and deletes what is
/// left unreferenced; false when there was nothing to remove.
pub(crate) fn remove_image(docker: &Docker, reference: &str) -> bool {
    let options = RemoveImageOptionsBuilder::default().force(true).build();
    match block_on(docker.remove_image(reference, Some(options), None)) {
        Ok(_) => true,
        Err(e) if is_status(&e, 404) => false,
        // 409: a running container uses it; that container's test cleans up.
        Err(e) if is_status(&e, 409) => false,
        Err(e) => panic!("remove image `{reference}`: {e}"),
    }
}

/// Removes what a test registered, when it ends, even by a panic: containers
/// by name, images by reference.
pub(crate) struct Cleanup {
    docker: Docker,
    containers: Vec<String>,
    images: Vec<String>,
}

impl Cleanup {
    pub(crate) fn new(docker: &Docker) -> Self {
        Self {
            docker: docker.clone(),
            containers: Vec::new(),
            images: Vec::new(),
        }
    }

    pub(crate) fn container(&mut self, name_or_id: &str) -> &mut Self {
        self.containers.push(name_or_id.to_owned());
        self
    }

    pub(crate) fn image(&mut self, reference: &str) -> &mut Self {
        self.images.push(reference.to_owned());
        self
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // A failed clean-up must not turn a test's panic into an abort.
        let docker = &self.docker;
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for name in &self.containers {
                remove_container(docker, name);
            }
            for reference in &self.images {
                remove_image(docker, reference);
            }
        }));
    }
}

// ---------------------------------------------------------------------------
// Pulls

/// The events of one pull, in order.
#[derive(Debug)]
pub(crate) struct PullLog {
    pub(crate) events: Vec<CreateImageInfo>,
    pub(crate) elapsed: Duration,
}

impl PullLog {
    /// Layer ids that reported `Downloading` with a byte total, that is, the
    /// layers a progress bar per layer would show.
    pub(crate) fn layers_downloaded(&self) -> BTreeSet<String> {
        self.events
            .iter()
            .filter(|e| e.status.as_deref() == Some("Downloading"))
            .filter(|e| {
                e.progress_detail
                    .as_ref()
                    .and_then(|p| p.total)
                    .is_some_and(|total| total > 0)
            })
            .filter_map(|e| e.id.clone())
            .collect()
    }

    /// The statuses reported for layer `id`, in order, without repeats.
    pub(crate) fn statuses(&self, id: &str) -> Vec<String> {
        let mut statuses: Vec<String> = Vec::new();
        for event in self.events.iter().filter(|e| e.id.as_deref() == Some(id)) {
            let status = event.status.clone().unwrap_or_default();
            if statuses.last() != Some(&status) {
                statuses.push(status);
            }
        }
        statuses
    }

    /// Events without a layer id (`Digest: …`, `Status: Downloaded newer image for …`).
    pub(crate) fn messages(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.id.is_none())
            .filter_map(|e| e.status.clone())
            .collect()
    }
}

/// Splits `registry/name:tag` (or `…@sha256:…`) into the `fromImage` and
/// `tag` of a pull; no tag means `latest`, as `docker pull` does.
pub(crate) fn split_reference(reference: &str) -> (&str, &str) {
    if let Some((name, digest)) = reference.split_once('@') {
        return (name, digest);
    }
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(colon) => (&reference[..slash + colon], &reference[slash + colon + 1..]),
        None => (reference, "latest"),
    }
}

/// Pulls `reference` through `POST /images/create`, as `cargo otel dash`
/// does, and returns every progress event. Panics on any error.
pub(crate) fn pull_image(docker: &Docker, reference: &str) -> PullLog {
    let (image, tag) = split_reference(reference);
    let options = CreateImageOptionsBuilder::default()
        .from_image(image)
        .tag(tag)
        .build();
    let started = Instant::now();
    let (events, error) = block_on(async {
        let mut stream = docker.create_image(Some(options), None, None);
        let mut events = Vec::new();
        let until = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(until, stream.next()).await {
                Err(_) => return (events, Some(format!("no end within {PATIENCE:?}"))),
                Ok(None) => return (events, None),
                Ok(Some(Ok(event))) => events.push(event),
                Ok(Some(Err(e))) => return (events, Some(error_text(&e))),
            }
        }
    });
    let log = PullLog {
        events,
        elapsed: started.elapsed(),
    };
    if let Some(error) = error {
        // bollard 0.21 can end a good pull with "bytes remaining on stream"
        // (bollard#560); the image being there is what counts.
        let spurious = error.contains("bytes remaining") && image_exists(docker, reference);
        assert!(spurious, "pull of `{reference}` failed: {error}\n{log:#?}");
    }
    log
}

fn error_text(error: &Error) -> String {
    match error {
        Error::DockerStreamError { error } => format!("stream error: {error}"),
        other => other.to_string(),
    }
}
