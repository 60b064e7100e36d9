//! `cargo otel dash`: a dashboard up, the program built at the same time,
//! then run with its telemetry pointed at the dashboard.

mod app;
mod build;
mod docker_backend;
mod services;
mod sources;
mod watch;

use std::{
    ffi::OsString,
    io::IsTerminal as _,
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;

pub use build::BuildFlags;

use app::RunLabel;

use crate::{
    Shell,
    backend::{Backend, BackendConfig, Feed, Settings, discovery, model::Counts, save},
    docker, paths,
    ports::{self, DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_UI_PORT},
    project::{self, Project, Selection},
    signals::StopSignals,
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
    /// `-p`: one package, or several to run side by side.
    pub packages: Vec<String>,
    /// `--workspace`: every member with a binary, side by side.
    pub workspace: bool,
    /// With several programs: which to start first, and the port that says
    /// it is ready.
    pub wait_ports: Vec<WaitPort>,
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
    /// Rebuild and rerun the program whenever its sources change, until
    /// Ctrl-C.
    pub watch: bool,
    /// No browser token and no OTLP API key.
    pub anonymous: bool,
    /// Ports asked for explicitly (0 = any free one); unset ones use the
    /// standard port, or a free one if it is taken.
    pub grpc_port: Option<u16>,
    pub http_port: Option<u16>,
    pub ui_port: Option<u16>,
    /// The built-in dashboard's settings (the container has its own).
    pub settings: Settings,
    pub app_args: Vec<OsString>,
}

/// `--wait-port PACKAGE=PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitPort {
    pub package: String,
    pub port: u16,
}

impl DashOptions {
    /// Several programs at once: `-p a -p b` or `--workspace`.
    fn is_multi(&self) -> bool {
        self.workspace || self.packages.len() > 1
    }
}

/// Runs the program (or programs) and returns the exit code.
pub fn run(shell: &Shell, options: &DashOptions) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cargo-otel-dash")
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(async {
        let (projects, build) = locate(shell, options, &cwd)?;
        dash(shell, options, &projects, build).await
    })
}

/// The package (single) or packages (multi) to run; the first one stands for
/// the workspace (dashboard name, container, settings). One program's build
/// starts before `cargo metadata` runs, from the flags as given.
fn locate(
    shell: &Shell,
    options: &DashOptions,
    cwd: &Path,
) -> anyhow::Result<(Vec<Project>, Option<Build>)> {
    if !options.is_multi() {
        if !options.wait_ports.is_empty() {
            anyhow::bail!(
                "`--wait-port` orders the start of several programs, and only one is run\n\
                 help: name the packages with `-p a -p b`, or run them all with `--workspace`"
            );
        }
        let selection = Selection {
            manifest_path: options.manifest_path.clone(),
            package: options.packages.first().cloned(),
            bin: options.bin.clone(),
            example: options.example.clone(),
            lib: false,
        };
        let manifest = project::manifest(selection.manifest_path.as_deref(), cwd)?;
        let runs_a_program = !options.stop && !options.detach;
        let request = build::Request::Flags {
            package: selection.package.clone(),
            bin: selection.bin.clone(),
            example: selection.example.clone(),
        };
        // Dropped (cargo stopped) when `cargo metadata` fails.
        let build = runs_a_program.then(|| spawn_build(shell, options, manifest.clone(), request));
        let project = project::locate_in(&manifest, &selection)?;
        return Ok((vec![project], build));
    }
    if options.bin.is_some() || options.example.is_some() {
        anyhow::bail!(
            "`--bin` and `--example` choose the program of one package, not of several\n\
             help: set `default-run` in a package with several binaries, then use `-p`"
        );
    }
    let projects = project::locate_programs(
        options.manifest_path.as_deref(),
        &options.packages,
        options.workspace,
        cwd,
    )?;
    for wait in &options.wait_ports {
        if !projects.iter().any(|p| p.package_name == wait.package) {
            let names: Vec<&str> = projects.iter().map(|p| p.package_name.as_str()).collect();
            anyhow::bail!(
                "`--wait-port {}={}` names a package that is not run\nhelp: the programs run are: {}",
                wait.package,
                wait.port,
                names.join(", ")
            );
        }
    }
    Ok((projects, None))
}

async fn dash(
    shell: &Shell,
    options: &DashOptions,
    projects: &[Project],
    early_build: Option<Build>,
) -> anyhow::Result<u8> {
    let project = &projects[0];
    if options.stop {
        return docker_backend::stop(shell, options, project)
            .await
            .map(|()| 0);
    }
    let docker = choose_backend(shell, options).await?;
    if options.detach {
        return detach(shell, options, project, docker).await.map(|()| 0);
    }
    if !options.is_multi() && project.target.program().is_none() {
        anyhow::bail!(
            "package `{}` is a library: there is no program to run\n\
             help: choose a binary or example of the workspace (`-p`, `--bin`, `--example`)",
            project.package_name
        );
    }
    // The build and the dashboard start at the same time (a dropped build
    // stops cargo).
    let mut build = early_build.unwrap_or_else(|| build_programs(shell, options, projects));
    let Some(dashboard) = start_dashboard(shell, options, project, docker).await? else {
        return Ok(INTERRUPTED);
    };
    // Removed when dropped, once the dashboard is gone.
    let _registered = dashboard.register(shell, &project.workspace_root);
    shell.status("Dashboard", shell.link(&dashboard.login_url()));
    if options.open {
        open_browser(shell, &dashboard.login_url());
    }
    let Some(built) = wait_for_build(shell, &mut build, projects).await? else {
        dashboard.stop_early(shell, options.keep).await;
        return Ok(INTERRUPTED);
    };
    if options.watch {
        return watch::run(shell, options, projects, built, dashboard).await;
    }
    let ran = match built {
        Ok(built) => {
            let run = RunLabel::now(1);
            let restart = std::future::pending();
            run_programs(
                shell,
                options,
                projects,
                built.executables,
                &dashboard,
                run,
                restart,
            )
            .await
        }
        Err(error) => Err(error),
    };
    let (exited, code) = match ran {
        Ok(ran) => ran,
        Err(error) => return dashboard.abandon(shell, options.keep, error).await,
    };
    report(shell, &exited, code, &dashboard.received(Counts::default()));
    dashboard.finish(shell, options.keep).await?;
    Ok(code)
}

/// `--detach`: the container only, which needs Docker.
async fn detach(
    shell: &Shell,
    options: &DashOptions,
    project: &Project,
    docker: Option<docker::Daemon>,
) -> anyhow::Result<()> {
    let Some(daemon) = docker else {
        anyhow::bail!(
            "`--detach` needs the Docker backend: the built-in one lives as long as `cargo otel dash`\nhelp: run `cargo otel serve` in another terminal instead"
        );
    };
    docker_backend::detach(shell, options, project, &daemon).await
}

/// The container when Docker was chosen (when Docker was only preferred, the
/// built-in dashboard if the container fails), else the built-in one;
/// `None` when Ctrl-C came while the container started.
async fn start_dashboard(
    shell: &Shell,
    options: &DashOptions,
    project: &Project,
    docker: Option<docker::Daemon>,
) -> anyhow::Result<Option<Dashboard>> {
    if let Some(daemon) = docker {
        match docker_backend::start(shell, options, project, daemon).await {
            Ok(started) => return Ok(started.map(Dashboard::Docker)),
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
            }
            Err(error) => return Err(error),
        }
    }
    start_backend(shell, project, options)
        .await
        .map(|backend| Some(Dashboard::Local(backend)))
}

/// The build's outcome, or `None` when Ctrl-C came first (cargo is
/// stopped, and nothing will run).
async fn wait_for_build(
    shell: &Shell,
    build: &mut Build,
    projects: &[Project],
) -> anyhow::Result<Option<anyhow::Result<Built>>> {
    let mut signals = StopSignals::new()?;
    tokio::select! {
        // A terminal's Ctrl-C reaches cargo too, which then fails: the
        // signal is the news, not the failed build.
        biased;
        () = signals.recv() => {
            build.stop().await;
            shell.status("Interrupted", "the build; nothing was run");
            Ok(None)
        }
        built = build.finish(projects) => Ok(Some(built)),
    }
}

/// Runs the program, or the programs side by side; returns what to report
/// and the exit code.
async fn run_programs(
    shell: &Shell,
    options: &DashOptions,
    projects: &[Project],
    executables: Vec<PathBuf>,
    dashboard: &Dashboard,
    run: RunLabel,
    restart: impl Future<Output = ()>,
) -> anyhow::Result<(String, u8)> {
    let project = &projects[0];
    let identity = Identity {
        instance: instance_id(&project.workspace_root),
        run,
        shown: options.watch.then(|| format!(" (run {})", run.number)),
    };
    if options.is_multi() {
        run_services(
            shell,
            options,
            projects,
            executables,
            dashboard,
            &identity,
            restart,
        )
        .await
    } else {
        let executable = &executables[0];
        run_one(
            shell, options, project, executable, dashboard, &identity, restart,
        )
        .await
    }
}

/// Who a run is: the workspace's instance id, the run's label, and the
/// label as shown after `Running` (with `--watch` only).
struct Identity {
    instance: String,
    run: RunLabel,
    shown: Option<String>,
}

/// Runs the one program; returns what to report and the exit code.
async fn run_one(
    shell: &Shell,
    options: &DashOptions,
    project: &Project,
    executable: &Path,
    dashboard: &Dashboard,
    identity: &Identity,
    restart: impl Future<Output = ()>,
) -> anyhow::Result<(String, u8)> {
    let program = project.target.program().expect("checked above").to_owned();
    let env = app::environment(dashboard.env(), &program, &identity.instance, identity.run);
    shell.status(
        "Running",
        format!(
            "{}{}",
            paths::display(executable, &project.workspace_root),
            identity.shown.as_deref().unwrap_or_default()
        ),
    );
    let command = app::command(executable, &options.app_args, &env, shell);
    let status = app::run(command, shell, restart).await?;
    let code = app::exit_code(status);
    Ok((format!("`{program}` exited with code {code}"), code))
}

/// Runs every program side by side, each as its own service; returns what
/// to report and the exit code.
async fn run_services(
    shell: &Shell,
    options: &DashOptions,
    projects: &[Project],
    executables: Vec<PathBuf>,
    dashboard: &Dashboard,
    identity: &Identity,
    restart: impl Future<Output = ()>,
) -> anyhow::Result<(String, u8)> {
    let root = &projects[0].workspace_root;
    let mut list = Vec::new();
    for (project, executable) in projects.iter().zip(executables) {
        let name = project.target.program().expect("programs only").to_owned();
        let wait_port = options
            .wait_ports
            .iter()
            .find(|w| w.package == project.package_name)
            .map(|w| w.port);
        list.push(services::Service {
            env: app::environment(dashboard.env(), &name, &identity.instance, identity.run),
            name,
            executable,
            wait_port,
        });
    }
    let shown: Vec<String> = list
        .iter()
        .map(|s| paths::display(&s.executable, root))
        .collect();
    let run = identity.shown.as_deref().unwrap_or_default();
    shell.status("Running", format!("{}{run}", shown.join(", ")));
    let outcome = services::run(list, &options.app_args, shell, restart).await?;
    let exits: Vec<String> = outcome
        .exits
        .iter()
        .map(|(name, code)| format!("`{name}` with code {code}"))
        .collect();
    Ok((format!("exited: {}", exits.join(", ")), outcome.code))
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

    /// What the built-in dashboard received since it held `since` (the
    /// container does not say).
    fn received(&self, since: Counts) -> Option<Counts> {
        let Self::Local(backend) = self else {
            return None;
        };
        backend.flush_feed();
        let summary = backend.store().summary();
        let total = |held: u64, evicted: u64| held + evicted;
        let now = Counts {
            traces: total(summary.held.traces, summary.evicted.traces),
            spans: total(summary.held.spans, summary.evicted.spans),
            logs: total(summary.held.logs, summary.evicted.logs),
            metric_points: total(summary.held.metric_points, summary.evicted.metric_points),
        };
        Some(Counts {
            traces: now.traces - since.traces.min(now.traces),
            spans: now.spans - since.spans.min(now.spans),
            logs: now.logs - since.logs.min(now.logs),
            metric_points: now.metric_points - since.metric_points.min(now.metric_points),
        })
    }

    /// The state file that lets `cargo otel traces` and the others find
    /// the built-in dashboard (they do not read the container's).
    fn register(&self, shell: &Shell, workspace: &Path) -> Option<discovery::Registration> {
        let Self::Local(backend) = self else {
            return None;
        };
        let running = discovery::Running::of(backend, workspace, "cargo otel dash");
        discovery::register_or_warn(shell, &running)
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Local(backend) => backend.env(),
            Self::Docker(started) => docker_backend::env(&started.dashboard),
        }
    }

    /// After an error (a failed build, a program that could not start):
    /// nothing to look at, so no waiting for Ctrl-C; the container goes
    /// unless `--keep`. Returns the error.
    async fn abandon<T>(
        self,
        shell: &Shell,
        keep: bool,
        error: anyhow::Error,
    ) -> anyhow::Result<T> {
        self.stop_early(shell, keep).await;
        Err(error)
    }

    /// Stops the built-in dashboard at once; removes the container unless
    /// `--keep`. A failure here is only worth a warning.
    async fn stop_early(self, shell: &Shell, keep: bool) {
        let cleanup = match self {
            Self::Local(backend) => stop_built_in(shell, backend).await,
            Self::Docker(started) => docker_backend::finish(shell, started, keep).await,
        };
        if let Err(cleanup) = cleanup {
            shell.warn(format!("{cleanup:#}"));
        }
    }

    /// After the program: the built-in dashboard stays up until Ctrl-C when
    /// someone is at the terminal (or `--keep`); the container is removed
    /// unless `--keep`.
    async fn finish(self, shell: &Shell, keep: bool) -> anyhow::Result<()> {
        match self {
            Self::Local(backend) => {
                if keep || std::io::stdin().is_terminal() {
                    // Listening before the note, so a Ctrl-C right after it counts.
                    let mut signals = StopSignals::new()?;
                    shell.note(format!(
                        "the dashboard keeps this run's telemetry until you press Ctrl-C: {}",
                        backend.login_url()
                    ));
                    signals.recv().await;
                }
                stop_built_in(shell, backend).await
            }
            Self::Docker(started) => docker_backend::finish(shell, started, keep).await,
        }
    }
}

/// Stops the built-in dashboard, and says where `--save` put what it received.
async fn stop_built_in(shell: &Shell, backend: Backend) -> anyhow::Result<()> {
    if let Some((path, lines)) = backend.stop().await? {
        shell.status("Saved", save::describe(&path, lines));
    }
    Ok(())
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

/// A `cargo build` under way (while the dashboard starts, or while the
/// previous run still runs with `--watch`). Dropping it stops cargo, so
/// leaving does not wait for a build nobody will use (the runtime waits for
/// its blocking tasks).
struct Build {
    task: tokio::task::JoinHandle<anyhow::Result<Option<Vec<build::Artifact>>>>,
    /// cargo's pid while it runs, 0 otherwise.
    cargo_pid: Arc<AtomicU32>,
    started: Instant,
}

/// A build that succeeded: each program's executable, in the order of the
/// projects, and how long the build took.
struct Built {
    executables: Vec<PathBuf>,
    took: Duration,
}

impl Build {
    /// Waits for the build; a failed one is an error naming the programs.
    async fn finish(&mut self, projects: &[Project]) -> anyhow::Result<Built> {
        let artifacts = (&mut self.task)
            .await
            .context("the build task panicked")??;
        let programs = programs(projects);
        let artifacts = artifacts.ok_or_else(|| build::failed(&programs))?;
        Ok(Built {
            executables: build::executables(&artifacts, &programs)?,
            took: self.started.elapsed(),
        })
    }

    /// Stops cargo and waits for it to be gone.
    async fn stop(&mut self) {
        self.cancel();
        let _ = (&mut self.task).await;
    }

    fn cancel(&self) {
        let pid = self.cargo_pid.load(Ordering::SeqCst);
        if let Ok(pid @ 1..) = libc::pid_t::try_from(pid) {
            // SAFETY: `kill` has no memory-safety preconditions; the pid is
            // cargo's, which the build task has not reaped yet (it resets the
            // pid right after its wait returns).
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
}

impl Drop for Build {
    fn drop(&mut self) {
        self.cancel();
    }
}

fn programs(projects: &[Project]) -> Vec<build::Program> {
    projects
        .iter()
        .map(|p| build::Program {
            package: p.package_name.clone(),
            target: p.target.clone(),
        })
        .collect()
}

/// Builds the programs `cargo metadata` found.
fn build_programs(shell: &Shell, options: &DashOptions, projects: &[Project]) -> Build {
    // One package builds through its own manifest; several through the
    // workspace's, so one `cargo build` covers them all.
    let manifest = match projects {
        [one] => one.package_manifest.clone(),
        _ => projects[0].workspace_manifest.clone(),
    };
    let request = build::Request::Programs(programs(projects));
    spawn_build(shell, options, manifest, request)
}

fn spawn_build(
    shell: &Shell,
    options: &DashOptions,
    manifest: PathBuf,
    request: build::Request,
) -> Build {
    let (flags, quiet) = (
        options.build.clone(),
        shell.verbosity() == crate::shell::Verbosity::Quiet,
    );
    let cargo_pid = Arc::new(AtomicU32::new(0));
    let pid = Arc::clone(&cargo_pid);
    let started = Instant::now();
    let task =
        tokio::task::spawn_blocking(move || build::build(&manifest, &request, &flags, quiet, &pid));
    Build {
        task,
        cargo_pid,
        started,
    }
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
    let name = name.unwrap_or_else(|| project.package_name.clone());
    let mut config =
        BackendConfig::loopback(&name).with_settings(&options.settings, options.anonymous)?;
    let port = |asked: Option<u16>, standard, purpose| match asked {
        Some(port) => SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        None => free_or_default(shell, standard, purpose),
    };
    config.grpc = port(options.grpc_port, DEFAULT_GRPC_PORT, "OTLP/gRPC");
    config.http = port(options.http_port, DEFAULT_HTTP_PORT, "OTLP/HTTP");
    config.ui = port(options.ui_port, DEFAULT_UI_PORT, "dashboard");
    config.feed = Some(Feed::new(*shell));
    let backend = Backend::start(config).await?;
    if let Some((path, lines)) = backend.loaded() {
        shell.status("Loaded", save::describe_loaded(path, lines));
    }
    Ok(backend)
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

/// `Finished <exited>`, plus what the built-in dashboard received.
fn report(shell: &Shell, exited: &str, code: u8, received: &Option<Counts>) {
    let message = match received {
        None => exited.to_owned(),
        Some(received) => format!(
            "{exited}; the dashboard received {}, {} and {}",
            plural(received.spans, "span"),
            plural(received.logs, "log record"),
            plural(received.metric_points, "metric point")
        ),
    };
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
