//! `cargo otel init`: every change is planned first, then written all together
//! (or, with `--dry-run`, shown as a diff).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::{
    Shell,
    analysis::{Input, Program},
    changeset::ChangeSet,
    codegen::{self, Provenance, Syntax},
    detect::{self, Framework},
    manifest::DependencyChange,
    manifest::{self, LocalManifest},
    paths,
    project::{self, Project, Selection, Target},
    wiring::{self, Wired},
};

/// `init`'s options, free of clap.
#[derive(Debug, Default, Clone)]
pub struct InitOptions {
    pub manifest_path: Option<PathBuf>,
    pub package: Option<String>,
    pub bin: Option<String>,
    pub dry_run: bool,
    pub force: bool,
    /// Skip framework detection: only the base stack and module.
    pub no_detect: bool,
}

pub fn run(shell: &Shell, options: &InitOptions) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let selection = Selection::program(
        options.manifest_path.clone(),
        options.package.clone(),
        options.bin.clone(),
    );
    let project = project::locate(&selection, &cwd)?;
    shell.verbose_status("Selected", describe(&project));
    let plan = Plan::new(&project, options)?;
    if plan.changes.is_empty() {
        plan.report.print(shell);
        if !plan.wired {
            // The lines to add were printed: nothing is instrumented yet.
            finish(shell, &project, &cwd, plan.wired, &plan.untraced);
            return Ok(());
        }
        let name = &project.package_name;
        shell.status(
            "Finished",
            format!("nothing to change: `{name}` is already instrumented"),
        );
        return Ok(());
    }
    if options.dry_run {
        plan.report.print(shell);
        shell.data(&plan.changes.diff(&project.workspace_root));
        shell.warn("aborting init due to dry run");
        return Ok(());
    }
    plan.changes.apply()?;
    // Reported once written, so a failed write leaves no "Adding ..." lines behind.
    plan.report.print(shell);
    finish(shell, &project, &cwd, plan.wired, &plan.untraced);
    Ok(())
}

/// What `init` will write, and what it will say about it.
struct Plan {
    changes: ChangeSet,
    report: Report,
    /// Whether `main` calls `otel::init()` once the plan is applied (false:
    /// the user was told which lines to add).
    wired: bool,
    /// Servers whose requests stay untraced (the user was told what to add).
    untraced: Vec<&'static str>,
    /// The frameworks found, whose instrumentation is added.
    frameworks: Vec<Framework>,
    /// Whether the module gets the `log` piece (and the package `log`).
    log: bool,
    /// What `tracing_subscriber::fmt::init()` showed without `RUST_LOG`
    /// before `init` added the `env-filter` feature.
    fmt_default_filter: &'static str,
}

impl Plan {
    fn new(project: &Project, options: &InitOptions) -> anyhow::Result<Self> {
        let force = options.force;
        let mut plan = Self {
            changes: ChangeSet::default(),
            report: Report::default(),
            wired: true,
            untraced: Vec::new(),
            frameworks: Vec::new(),
            log: false,
            fmt_default_filter: "error",
        };
        let program = Program::load(&Input::for_project(project))?;
        if !options.no_detect {
            plan.detect(project);
        }
        plan.log = codegen::log_piece(&project.dependencies) || program.has_log_console();
        plan.dependencies(project, force)?;
        plan.module(project, force)?;
        plan.wiring(project, &program)?;
        plan.compose_file(project, force)?;
        Ok(plan)
    }

    /// Frameworks among the package's dependencies: said out loud, and
    /// remembered for the dependencies, the module and the wiring.
    fn detect(&mut self, project: &Project) {
        let (found, too_old) = detect::detect(&project.dependencies);
        if !found.is_empty() {
            let names: Vec<String> = found.iter().map(detect::Detected::describe).collect();
            self.report.status("Detected", names.join(", "));
        }
        for old in too_old {
            self.report.warn(format!(
                "not instrumenting {}: the generated code needs a newer version",
                old.describe()
            ));
        }
        self.frameworks = found.iter().map(|d| d.framework).collect();
    }

    fn dependencies(&mut self, project: &Project, force: bool) -> anyhow::Result<()> {
        let mut member = LocalManifest::load(&project.package_manifest)?;
        let mut workspace = match project.is_workspace_member() {
            true => Some(LocalManifest::load(&project.workspace_manifest)?),
            false => None,
        };
        let log = self.log.then_some(&LOG);
        let pinned = manifest::STACK
            .iter()
            .chain(detect::dependencies(&self.frameworks))
            .chain(log);
        let changes = manifest::add_dependencies(&mut member, workspace.as_mut(), pinned, force)?;
        for change in changes {
            if fmt_had_no_env_filter(&change) {
                self.fmt_default_filter = "info";
            }
            let (verb, message) = change.status();
            self.report.status(verb, message);
        }
        for manifest in workspace.into_iter().chain([member]) {
            let after = manifest.contents();
            self.changes
                .push(manifest.path, Some(manifest.original), after);
        }
        Ok(())
    }

    fn module(&mut self, project: &Project, force: bool) -> anyhow::Result<()> {
        let path = module_path(project);
        let shown = paths::display(&path, &project.workspace_root);
        let generated = codegen::otel_module_for(&self.frameworks, self.log)?;
        let Some(existing) = read_if_present(&path)? else {
            self.report.status("Creating", &shown);
            self.changes.push(path, None, generated);
            return Ok(());
        };
        if existing == generated {
            return Ok(());
        }
        match (codegen::provenance(Syntax::Rust, &existing), force) {
            (Provenance::Untouched, _) => {
                let version = codegen::TEMPLATE_VERSION;
                self.report
                    .status("Updating", format!("{shown} to template v{version}"));
            }
            (Provenance::Edited | Provenance::Foreign, true) => {
                self.report.status(
                    "Replacing",
                    format!("{shown} (--force: your version is dropped)"),
                );
            }
            (Provenance::Edited, false) => {
                let diff = diff_against(&path, &existing, &generated, &project.workspace_root);
                self.report.warn(format!(
                    "keeping `{shown}`: it was edited since cargo-otel generated it\n\
                     help: `--force` replaces it with the current template, which differs like this:\n{diff}"
                ));
                return Ok(());
            }
            (Provenance::Foreign, false) => bail!(
                "`{shown}` exists and was not generated by cargo-otel\n\
                 help: rename it, or pass `--force` to replace it with the generated module"
            ),
        }
        self.changes.push(path, Some(existing), generated);
        Ok(())
    }

    fn wiring(&mut self, project: &Project, program: &Program) -> anyhow::Result<()> {
        let wired = wire_program(project, program, self.fmt_default_filter, &self.frameworks)?;
        let Wired {
            files,
            added,
            notes,
            manual,
            untraced,
        } = wired;
        if let Some(manual) = manual {
            self.wired = false;
            let root = paths::display(project.target.root(), &project.workspace_root);
            self.report.warn(format!(
                "left `{root}` as it is: {}\nhelp: add these lines yourself:\n{}",
                manual.reason, manual.lines
            ));
        }
        if !added.is_empty() {
            let shown: Vec<String> = files
                .iter()
                .map(|f| paths::display(&f.path, &project.workspace_root))
                .collect();
            self.report.status(
                "Wiring",
                format!("{}: {}", shown.join(", "), added.join(" and ")),
            );
        }
        for file in files {
            self.changes.push(file.path, Some(file.before), file.after);
        }
        for note in notes {
            self.report.note(note);
        }
        self.untraced = untraced;
        Ok(())
    }

    fn compose_file(&mut self, project: &Project, force: bool) -> anyhow::Result<()> {
        let path = project.workspace_root.join(codegen::COMPOSE_FILE_NAME);
        let shown = paths::display(&path, &project.workspace_root);
        let generated = codegen::compose_file(&application_name(project))?;
        let existing = read_if_present(&path)?;
        match &existing {
            None => self.report.status("Creating", &shown),
            Some(text) if *text == generated => return Ok(()),
            Some(text) => match (codegen::provenance(Syntax::Yaml, text), force) {
                (Provenance::Untouched, _) => self.report.status("Updating", &shown),
                (_, true) => self
                    .report
                    .status("Replacing", format!("{shown} (--force)")),
                (_, false) => {
                    self.report.warn(format!(
                        "keeping your `{shown}`\nhelp: `--force` replaces it with the generated one"
                    ));
                    return Ok(());
                }
            },
        }
        self.changes.push(path, existing, generated);
        Ok(())
    }
}

/// `tracing_subscriber::fmt::init()` filters with an `EnvFilter` (default
/// `error`) under the `env-filter` feature, and with `Targets` (default
/// `info`) without it; `init` turns the feature on.
fn fmt_had_no_env_filter(change: &DependencyChange) -> bool {
    match change {
        DependencyChange::FeaturesAdded { name, features } => {
            *name == "tracing-subscriber" && features.contains(&"env-filter")
        }
        _ => false,
    }
}

/// What wiring the selected program (or library) comes to.
pub(crate) fn wire_program(
    project: &Project,
    program: &Program,
    fmt_default_filter: &str,
    frameworks: &[Framework],
) -> anyhow::Result<Wired> {
    let module = module_path(project);
    let options = wiring::Options {
        module: &module,
        fmt_default_filter,
        frameworks,
        server: serves_requests(project),
    };
    wiring::wire(program, &options)
}

/// The `log` crate, for the module's piece that installs a program's `log`
/// logger and exports its records.
const LOG: manifest::PinnedDependency = manifest::PinnedDependency {
    name: "log",
    version: "0.4.35",
    features: &[],
    default_features: &["std"],
    umbrella: None,
    keep_defaults: true,
};

/// Crates whose programs serve requests, each a trace of its own: such a
/// program gets no span for its whole run.
const SERVER_CRATES: [&str; 12] = [
    "axum",
    "actix-web",
    "tonic",
    "hyper",
    "warp",
    "poem",
    "rocket",
    "salvo",
    "tide",
    "ntex",
    "gotham",
    "tower-http",
];

fn serves_requests(project: &Project) -> bool {
    project
        .dependencies
        .iter()
        .any(|d| d.normal && SERVER_CRATES.contains(&d.name.as_str()))
}

/// Messages gathered while planning, printed once the outcome is known.
#[derive(Default)]
struct Report {
    lines: Vec<(Line, String)>,
}

enum Line {
    Status(&'static str),
    Warn,
    Note,
}

impl Report {
    fn status(&mut self, verb: &'static str, message: impl Into<String>) {
        self.lines.push((Line::Status(verb), message.into()));
    }

    fn warn(&mut self, message: String) {
        self.lines.push((Line::Warn, message));
    }

    fn note(&mut self, message: String) {
        self.lines.push((Line::Note, message));
    }

    fn print(&self, shell: &Shell) {
        for (line, message) in &self.lines {
            match line {
                Line::Status(verb) => shell.status(verb, message),
                Line::Warn => shell.warn(message),
                Line::Note => shell.note(message),
            }
        }
    }
}

fn finish(shell: &Shell, project: &Project, cwd: &Path, wired: bool, untraced: &[&str]) {
    let name = &project.package_name;
    let runs_init = wired && !matches!(project.target, Target::Lib { .. });
    let message = if runs_init && untraced.is_empty() {
        format!("`{name}` now exports traces, metrics and logs over OTLP/gRPC")
    } else if runs_init {
        format!(
            "`{name}` exports what it traces and logs over OTLP/gRPC; its {} requests are traced once you add the piece above",
            untraced.join(" and ")
        )
    } else {
        format!(
            "`{name}` is ready to export traces, metrics and logs once `otel::init()` is called"
        )
    };
    shell.status("Finished", message);
    let compose = paths::display(
        &project.workspace_root.join(codegen::COMPOSE_FILE_NAME),
        cwd,
    );
    let run = match &project.target {
        Target::Bin { name: bin, .. } | Target::Example { name: bin, .. } => {
            let package = match project.is_workspace_member() {
                true => format!(" -p {name}"),
                false => String::new(),
            };
            let bin = match bin == name {
                true => String::new(),
                false => format!(" --bin {bin}"),
            };
            format!("cargo run{package}{bin}")
        }
        Target::Lib { .. } => {
            let krate = name.replace('-', "_");
            shell.note(format!(
                "`{name}` is a library: start the `main` of each program that uses it with\n  \
                 let _otel = {krate}::otel::init()?;"
            ));
            return;
        }
    };
    shell.note(format!(
        "see the telemetry live in the built-in dashboard:\n  \
         {dash}\n\
         or in the Aspire dashboard, with Docker:\n  \
         export ASPIRE_DASHBOARD_TOKEN=$(openssl rand -hex 16) OTLP_API_KEY=$(openssl rand -hex 16)\n  \
         docker compose -f {compose} up -d\n  \
         OTEL_EXPORTER_OTLP_HEADERS=x-otlp-api-key=$OTLP_API_KEY {run}\n  \
         then open http://localhost:18888/login?t=$ASPIRE_DASHBOARD_TOKEN",
        dash = run.replacen("cargo run", "cargo otel dash", 1),
    ));
}

fn describe(project: &Project) -> String {
    let target = match &project.target {
        Target::Bin { name, .. } => format!("binary `{name}`"),
        Target::Example { name, .. } => format!("example `{name}`"),
        Target::Lib { .. } => "the library".to_owned(),
    };
    let root = project.workspace_root.display();
    format!(
        "{target} of package `{}` in workspace `{root}`",
        project.package_name
    )
}

/// The module always lives at `src/otel.rs` of the package.
pub(crate) fn module_path(project: &Project) -> PathBuf {
    project.package_root().join("src").join("otel.rs")
}

/// One dashboard serves a whole workspace, so it is named after it.
fn application_name(project: &Project) -> String {
    if !project.is_workspace_member() {
        return project.package_name.clone();
    }
    let dir = project
        .workspace_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    dir.unwrap_or_else(|| project.package_name.clone())
}

pub(crate) fn read_if_present(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("failed to read `{}`", path.display())),
    }
}

fn diff_against(path: &Path, existing: &str, generated: &str, base: &Path) -> String {
    let mut one = ChangeSet::default();
    one.push(
        path.to_path_buf(),
        Some(existing.to_owned()),
        generated.to_owned(),
    );
    one.diff(base)
}
