//! `cargo otel dash`: a dashboard up, the program built at the same time,
//! then run with its telemetry pointed at the dashboard.

mod app;
mod build;
mod docker_backend;

use std::{
    ffi::OsString,
    io::IsTerminal as _,
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
};

use anyhow::Context as _;

pub use build::BuildFlags;

use crate::{
    Shell,
    backend::{self, Backend, BackendConfig, Feed, ports},
    docker, paths,
    project::{self, Project, Selection},
};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    #[default]
    Auto,
    Local,
    Docker,
}

#[derive(Debug, Default, Clone)]
pub struct DashOptions {
    pub manifest_path: Option<PathBuf>,
    pub package: Option<String>,
    pub bin: Option<String>,
    pub example: Option<String>,
    pub build: BuildFlags,
    /// Which dashboard: the built-in one, a Docker container, or Docker when
    /// a daemon answers.
    pub backend: BackendChoice,
    /// The dashboard image (Docker backend); else the project's
    /// `metadata.otel.image`, else the Aspire dashboard.
    pub image: Option<String>,
    pub pull: docker::PullPolicy,
    /// Keep the dashboard after the program exits: the built-in one until
    /// Ctrl-C, the container for the next run.
    pub keep: bool,
    /// Start (or reuse) the dashboard container and return; with
    /// `print_env`, print the environment to export.
    pub detach: bool,
    pub print_env: bool,
    /// Remove this workspace's dashboard container.
    pub stop: bool,
    /// Open the dashboard in the browser once it is ready.
    pub open: bool,
    /// No browser token and no OTLP API key.
    pub anonymous: bool,
    /// Ports asked for explicitly (0 = any free one); unset ones use the
    /// standard port, or a free one if it is taken.
    pub grpc_port: Option<u16>,
    pub http_port: Option<u16>,
    pub ui_port: Option<u16>,
    pub app_args: Vec<OsString>,
}

/// Runs the program and returns its exit code.
pub fn run(shell: &Shell, options: &DashOptions) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let selection = Selection {
        manifest_path: options.manifest_path.clone(),
        package: options.package.clone(),
        bin: options.bin.clone(),
        example: options.example.clone(),
    };
    let project = project::locate(&selection, &cwd)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cargo-otel-dash")
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(dash(shell, options, &project))
}

async fn dash(shell: &Shell, options: &DashOptions, project: &Project) -> anyhow::Result<u8> {
    if options.stop {
        return docker_backend::stop(shell, options, project)
            .await
            .map(|()| 0);
    }
    let docker = choose_backend(shell, options).await?;
    if options.detach {
        let Some(daemon) = docker else {
            anyhow::bail!(
                "`--detach` needs the Docker backend: the built-in one lives as long as `cargo otel dash`\nhelp: run `cargo otel serve` in another terminal instead"
            );
        };
        return docker_backend::detach(shell, options, project, &daemon)
            .await
            .map(|()| 0);
    }
    let Some(program) = project.target.program().map(str::to_owned) else {
        anyhow::bail!(
            "package `{}` is a library: there is no program to run\n\
             help: choose a binary or example of the workspace (`-p`, `--bin`, `--example`)",
            project.package_name
        );
    };
    // The build and the dashboard start at the same time.
    let build = spawn_build(shell, options, project);
    let started = match docker {
        Some(daemon) => match docker_backend::start(shell, options, project, daemon).await {
            Ok(Some(started)) => Some(started),
            Ok(None) => return Ok(INTERRUPTED),
            // Docker was only a preference: an image that cannot be pulled
            // (offline) or a broken daemon should not stop the program.
            Err(error) if options.backend == BackendChoice::Auto => {
                let first = error
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                shell.warn(format!("{first}; using the built-in dashboard instead"));
                None
            }
            Err(error) => return Err(error),
        },
        None => None,
    };
    let dashboard = match started {
        Some(started) => Dashboard::Docker(started),
        None => Dashboard::Local(start_backend(shell, project, options).await?),
    };
    shell.status("Dashboard", shell.link(&dashboard.login_url()));
    if options.open {
        open_browser(shell, &dashboard.login_url());
    }
    let executable = match build.await.context("the build task panicked")? {
        Ok(executable) => executable,
        Err(error) => {
            dashboard.finish(shell, options.keep).await?;
            return Err(error);
        }
    };
    let env = app::environment(
        dashboard.env(),
        &program,
        &instance_id(&project.workspace_root),
    );
    shell.status(
        "Running",
        paths::display(&executable, &project.workspace_root),
    );
    let status = app::run(
        app::command(&executable, &options.app_args, &env, shell),
        shell,
    )
    .await?;
    let code = app::exit_code(status);
    report(shell, &program, code, &dashboard);
    dashboard.finish(shell, options.keep).await?;
    Ok(code)
}

/// What a shell reports for a command ended by Ctrl-C.
const INTERRUPTED: u8 = 130;

/// The dashboard the program exports to.
enum Dashboard {
    Local(Backend),
    Docker(docker_backend::Started),
}

impl Dashboard {
    fn login_url(&self) -> String {
        match self {
            Self::Local(backend) => backend.login_url(),
            Self::Docker(started) => started.dashboard.login_url(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Local(backend) => backend.env(),
            Self::Docker(started) => docker_backend::env(&started.dashboard),
        }
    }

    /// After the program: the built-in dashboard stays up until Ctrl-C when
    /// someone is at the terminal (or `--keep`); the container is removed
    /// unless `--keep`.
    async fn finish(self, shell: &Shell, keep: bool) -> anyhow::Result<()> {
        match self {
            Self::Local(backend) => {
                if keep || std::io::stdin().is_terminal() {
                    shell.note(format!(
                        "the dashboard keeps this run's telemetry until you press Ctrl-C: {}",
                        backend.login_url()
                    ));
                    tokio::signal::ctrl_c()
                        .await
                        .context("failed to watch for Ctrl-C")?;
                }
                backend.stop().await.map(|_| ())
            }
            Self::Docker(started) => docker_backend::finish(shell, started, keep).await,
        }
    }
}

/// `--backend docker` insists on Docker; without `--backend`, Docker is used
/// when a daemon answers and the built-in dashboard otherwise.
async fn choose_backend(
    shell: &Shell,
    options: &DashOptions,
) -> anyhow::Result<Option<docker::Daemon>> {
    match options.backend {
        BackendChoice::Local => Ok(None),
        BackendChoice::Docker => Ok(Some(docker::discover::connect().await?)),
        BackendChoice::Auto => match docker::discover::connect().await {
            Ok(daemon) => Ok(Some(daemon)),
            Err(none) => {
                shell.note(format!(
                    "no Docker daemon answered ({}); using the built-in dashboard",
                    none.hosts()
                ));
                Ok(None)
            }
        },
    }
}

/// `xdg-open` (Linux) or `open` (macOS); a missing opener is only a warning,
/// the link is printed anyway.
fn open_browser(shell: &Shell, url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(error) = spawned {
        shell.warn(format!(
            "could not open a browser with `{opener}`: {error}; open the link above instead"
        ));
    }
}

fn spawn_build(
    shell: &Shell,
    options: &DashOptions,
    project: &Project,
) -> tokio::task::JoinHandle<anyhow::Result<PathBuf>> {
    let (manifest, package, target) = (
        project.package_manifest.clone(),
        project.package_name.clone(),
        project.target.clone(),
    );
    let (flags, quiet) = (
        options.build.clone(),
        shell.verbosity() == crate::shell::Verbosity::Quiet,
    );
    tokio::task::spawn_blocking(move || build::build(&manifest, &package, &target, &flags, quiet))
}

async fn start_backend(
    shell: &Shell,
    project: &Project,
    options: &DashOptions,
) -> anyhow::Result<Backend> {
    let name = project
        .workspace_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let mut config = BackendConfig::loopback(&name.unwrap_or_else(|| project.package_name.clone()));
    let port = |asked: Option<u16>, standard, purpose| match asked {
        Some(port) => SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        None => free_or_default(shell, standard, purpose),
    };
    config.grpc = port(options.grpc_port, backend::DEFAULT_GRPC_PORT, "OTLP/gRPC");
    config.http = port(options.http_port, backend::DEFAULT_HTTP_PORT, "OTLP/HTTP");
    config.ui = port(options.ui_port, backend::DEFAULT_UI_PORT, "dashboard");
    if !options.anonymous {
        config.browser_token = Some(crate::secret::generate()?);
        config.api_key = Some(crate::secret::generate()?);
    }
    config.feed = Some(Feed::new(*shell));
    Backend::start(config).await
}

/// The standard port if it is free; otherwise any free one, said out loud,
/// because the program is told the real endpoint either way.
fn free_or_default(shell: &Shell, port: u16, purpose: &str) -> SocketAddr {
    let preferred = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    if TcpListener::bind(preferred).is_ok() {
        return preferred;
    }
    let holder = ports::holder(port)
        .map(|h| format!(" by {h}"))
        .unwrap_or_default();
    shell.warn(format!(
        "port {port} ({purpose}) is in use{holder}; using a free port instead"
    ));
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

fn report(shell: &Shell, program: &str, code: u8, dashboard: &Dashboard) {
    let Dashboard::Local(backend) = dashboard else {
        let message = format!("`{program}` exited with code {code}");
        return if code == 0 {
            shell.status("Finished", message)
        } else {
            shell.failure_status("Finished", message)
        };
    };
    backend.flush_feed();
    let held = backend.store().summary().held;
    let received = format!(
        "{}, {} and {}",
        plural(held.spans, "span"),
        plural(held.logs, "log record"),
        plural(held.metric_points, "metric point")
    );
    let message = format!("`{program}` exited with code {code}; the dashboard received {received}");
    if code == 0 {
        shell.status("Finished", message);
    } else {
        shell.failure_status("Finished", message);
    }
}

/// `service.instance.id`: stable for a workspace, so a dashboard groups the
/// runs of one checkout and tells two checkouts apart.
fn instance_id(workspace_root: &Path) -> String {
    let path = workspace_root.as_os_str().as_encoded_bytes();
    format!("{:016x}", crate::fingerprint::fnv1a64(path))
}

fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
