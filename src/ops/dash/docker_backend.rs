//! `dash` with the Aspire dashboard in Docker: image, container, and what
//! happens to the container when the program is done.

use crate::{
    Shell,
    docker::{self, AspireContainer, AspireSpec, Daemon, container, image},
    ports::{DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_UI_PORT},
    project::Project,
    secret::API_KEY_HEADER,
    signals::StopSignals,
};

use super::DashOptions;

/// A ready dashboard container, with the daemon that runs it.
pub(super) struct Started {
    daemon: Daemon,
    pub(super) dashboard: AspireContainer,
}

fn spec(options: &DashOptions, project: &Project) -> AspireSpec {
    let image = options
        .image
        .as_deref()
        .or_else(|| project.setting("image"))
        .unwrap_or(docker::DEFAULT_IMAGE);
    let workspace = project
        .workspace_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    AspireSpec {
        image: image.to_owned(),
        workspace_root: project.workspace_root.display().to_string(),
        application_name: workspace.unwrap_or_else(|| project.package_name.clone()),
        anonymous: options.anonymous,
        ui_port: options.ui_port.unwrap_or(DEFAULT_UI_PORT),
        grpc_port: options.grpc_port.unwrap_or(DEFAULT_GRPC_PORT),
        http_port: options.http_port.unwrap_or(DEFAULT_HTTP_PORT),
    }
}

/// Pulls if needed, then reuses, replaces or creates the container and waits
/// until it is ready. Ctrl-C meanwhile removes the container again and
/// returns `None`.
pub(super) async fn start(
    shell: &Shell,
    options: &DashOptions,
    project: &Project,
    daemon: Daemon,
) -> anyhow::Result<Option<Started>> {
    shell.verbose_status(
        "Docker",
        format!(
            "engine {} at {} ({})",
            daemon.version, daemon.host, daemon.source
        ),
    );
    let spec = spec(options, project);
    // SIGTERM too: it would otherwise kill dash and leave the container.
    let mut signals = StopSignals::new()?;
    let startup = async {
        image::ensure(&daemon.client, &spec.image, options.pull, shell).await?;
        container::up(&daemon.client, &spec, shell).await
    };
    tokio::select! {
        dashboard = startup => Ok(Some(Started { dashboard: dashboard?, daemon })),
        () = signals.recv() => {
            shell.status("Interrupted", "removing the dashboard container");
            if let Some(name) = container::find_ours(&daemon.client, &spec).await? {
                container::remove(&daemon.client, &name).await?;
            }
            Ok(None)
        }
    }
}

/// What the program needs to export to the container.
pub(super) fn env(dashboard: &AspireContainer) -> Vec<(&'static str, String)> {
    let endpoint = dashboard.grpc_endpoint();
    let mut env = vec![
        ("OTLP_GRPC_ENDPOINT", endpoint.clone()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
    ];
    if let Some(key) = &dashboard.api_key {
        env.push((
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("{API_KEY_HEADER}={key}"),
        ));
    }
    env
}

/// Removes the container, or with `--keep` leaves it for the next run.
pub(super) async fn finish(shell: &Shell, started: Started, keep: bool) -> anyhow::Result<()> {
    let Started { daemon, dashboard } = started;
    if keep {
        let url = dashboard.login_url();
        shell.status(
            "Keeping",
            format!(
                "dashboard container {} for the next run: {url}",
                dashboard.name
            ),
        );
        shell.note("`cargo otel dash --stop` removes it");
        return Ok(());
    }
    shell.status(
        "Removing",
        format!("dashboard container {}", dashboard.name),
    );
    container::remove(&daemon.client, &dashboard.id).await
}

/// `--stop`: removes this workspace's dashboard container.
pub(super) async fn stop(
    shell: &Shell,
    options: &DashOptions,
    project: &Project,
) -> anyhow::Result<()> {
    let daemon = docker::discover::connect().await?;
    let spec = spec(options, project);
    match container::find_ours(&daemon.client, &spec).await? {
        Some(name) => {
            container::remove(&daemon.client, &name).await?;
            shell.status("Removed", format!("dashboard container {name}"));
        }
        None => shell.status(
            "Finished",
            "no dashboard container to remove for this workspace",
        ),
    }
    Ok(())
}

/// `--detach`: the dashboard only, kept running; with `--print-env` the
/// environment goes to stdout for `eval "$(cargo otel dash --detach --print-env)"`.
pub(super) async fn detach(
    shell: &Shell,
    options: &DashOptions,
    project: &Project,
    daemon: &Daemon,
) -> anyhow::Result<()> {
    let spec = spec(options, project);
    image::ensure(&daemon.client, &spec.image, options.pull, shell).await?;
    let dashboard = container::up(&daemon.client, &spec, shell).await?;
    shell.status("Dashboard", shell.link(&dashboard.login_url()));
    let exports = crate::shell::export_lines(&env(&dashboard));
    if options.print_env {
        shell.data(&exports);
    } else {
        shell.note(format!(
            "it keeps running; point programs at it with:\n{}`cargo otel dash --stop` removes it",
            exports
                .lines()
                .map(|line| format!("  {line}\n"))
                .collect::<String>()
        ));
    }
    Ok(())
}
