//! `cargo otel dash`: a dashboard up, the program built at the same time,
//! then run with its telemetry pointed at the dashboard.

mod app;
mod build;

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
    paths,
    project::{self, Project, Selection},
};

#[derive(Debug, Default, Clone)]
pub struct DashOptions {
    pub manifest_path: Option<PathBuf>,
    pub package: Option<String>,
    pub bin: Option<String>,
    pub example: Option<String>,
    pub build: BuildFlags,
    /// Keep the dashboard up after the program exits, until Ctrl-C, even
    /// when not attached to a terminal.
    pub keep: bool,
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
    let Some(program) = project.target.program().map(str::to_owned) else {
        anyhow::bail!(
            "package `{}` is a library: there is no program to run\n\
             help: choose a binary or example of the workspace (`-p`, `--bin`, `--example`)",
            project.package_name
        );
    };
    // The build and the dashboard start at the same time.
    let build = {
        let (manifest, package, target) = (
            project.package_manifest.clone(),
            project.package_name.clone(),
            project.target.clone(),
        );
        let (flags, quiet) = (
            options.build.clone(),
            shell.verbosity() == crate::shell::Verbosity::Quiet,
        );
        tokio::task::spawn_blocking(move || {
            build::build(&manifest, &package, &target, &flags, quiet)
        })
    };
    let backend = start_backend(shell, project, options).await?;
    shell.status("Dashboard", shell.link(&backend.login_url()));
    let executable = match build.await.context("the build task panicked")? {
        Ok(executable) => executable,
        Err(error) => {
            backend.stop().await?;
            return Err(error);
        }
    };
    let env = app::environment(
        backend.env(),
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
    report(shell, &program, code, &backend);
    if options.keep || std::io::stdin().is_terminal() {
        shell.note(format!(
            "the dashboard keeps this run's telemetry until you press Ctrl-C: {}",
            backend.login_url()
        ));
        tokio::signal::ctrl_c()
            .await
            .context("failed to watch for Ctrl-C")?;
    }
    backend.stop().await?;
    Ok(code)
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
        config.browser_token = Some(backend::secret::generate()?);
        config.api_key = Some(backend::secret::generate()?);
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

fn report(shell: &Shell, program: &str, code: u8, backend: &Backend) {
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
