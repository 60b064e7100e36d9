//! `cargo otel init`: every change is planned first, then written all together
//! (or, with `--dry-run`, shown as a diff).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::{
    Shell,
    analysis::Program,
    changeset::{ChangeSet, TextFile},
    codegen::{self, Provenance, Syntax},
    detect::{self, Framework},
    manifest::{
        self, DependencyChange, Home, LocalManifest,
        lockfile::{self, Graph},
    },
    paths,
    project::{self, Project, Selection, Target},
    wiring::{self, FileEdit, UPGRADED_CALLS, Wired},
};

/// `init`'s options, free of clap.
#[derive(Debug, Default, Clone)]
pub struct InitOptions {
    pub manifest_path: Option<PathBuf>,
    pub package: Option<String>,
    pub bin: Option<String>,
    /// An example of the package instead of a binary: its crates go to
    /// `[dev-dependencies]`.
    pub example: Option<String>,
    /// The library target, even when the package is published.
    pub lib: bool,
    pub dry_run: bool,
    pub force: bool,
    /// Skip framework detection: only the base stack and module.
    pub no_detect: bool,
}

pub fn run(shell: &Shell, options: &InitOptions) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let selection = Selection {
        manifest_path: options.manifest_path.clone(),
        package: options.package.clone(),
        bin: options.bin.clone(),
        example: options.example.clone(),
        lib: options.lib,
    };
    let project = project::locate(&selection, &cwd)?;
    shell.verbose_status("Selected", describe(&project));
    if matches!(project.target, Target::Lib { .. }) && project.published && !options.lib {
        bail!(published_library(&project));
    }
    let plan = Plan::new(&project, options)?;
    if plan.changes.is_empty() {
        plan.report.print(shell);
        if !plan.wired {
            // The lines to add were printed: nothing is instrumented yet.
            finish(shell, &project, &cwd, &plan);
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
    apply(&plan.changes)?;
    // Reported once written, so a failed write leaves no "Adding ..." lines behind.
    plan.report.print(shell);
    finish(shell, &project, &cwd, &plan);
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
    /// Packages `Cargo.lock` keeps below what the stack compiles with (the
    /// user was told how to find what holds them).
    held: Vec<&'static str>,
    /// The frameworks found, whose instrumentation is added.
    frameworks: Vec<Framework>,
    /// Whether the module gets the server span around a hyper service.
    hyper_service: bool,
    /// Whether the module gets the `log` piece (and the package `log`).
    log: bool,
    /// The flush on `process::exit` and signals (unsafe libc calls): not in
    /// a crate that forbids `unsafe_code`.
    exit_hooks: bool,
    /// What `tracing_subscriber::fmt::init()` showed without `RUST_LOG`
    /// before `init` added the `env-filter` feature.
    fmt_default_filter: &'static str,
    /// Whether the module is the current template's once the plan is
    /// applied (false: an edited one is kept), so calls are written for it.
    module_current: bool,
}

impl Plan {
    fn new(project: &Project, options: &InitOptions) -> anyhow::Result<Self> {
        let force = options.force;
        let mut plan = Self {
            changes: ChangeSet::default(),
            report: Report::default(),
            wired: true,
            untraced: Vec::new(),
            held: Vec::new(),
            frameworks: Vec::new(),
            hyper_service: false,
            log: false,
            exit_hooks: true,
            fmt_default_filter: "error",
            module_current: true,
        };
        let program = Program::load_project(project)?;
        if !options.no_detect {
            plan.detect(project);
        }
        plan.hyper_service = program.serves_hyper();
        plan.log = codegen::log_piece(&project.dependencies) || program.has_log_console();
        let root = &program.files[program.modules[program.root].file];
        if codegen::forbids_unsafe_code(&root.text) {
            plan.exit_hooks = false;
            plan.report.note(format!(
                "`{}` forbids `unsafe_code`, so the module has no exit hooks (they call libc): \
                 telemetry is flushed when the guard drops, not on `std::process::exit` or a \
                 Ctrl-C that ends the program\n\
                 help: with `#![deny(unsafe_code)]` instead, the next `cargo otel init` adds them",
                root.shown
            ));
        }
        plan.dependencies(project, force)?;
        plan.lock_floors(project)?;
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
        let pinned = manifest::stack_for(self.exit_hooks)
            .chain(detect::dependencies(&self.frameworks))
            .chain(log);
        let home = match project.target {
            Target::Example { .. } => Home::DevDependencies,
            _ => Home::Dependencies,
        };
        let changes =
            manifest::add_dependencies(&mut member, workspace.as_mut(), pinned, home, force)?;
        let upgraded = changes
            .iter()
            .any(|c| matches!(c, DependencyChange::Upgraded { .. }));
        if upgraded {
            resolves_to_one_stack(project, &member, workspace.as_ref(), home)?;
        }
        self.report_dependencies(&changes);
        if let Some(warning) = upgraded.then(|| old_api_uses(project, &changes)).flatten() {
            self.report.warn(warning);
        }
        for manifest in workspace.into_iter().chain([member]) {
            let after = manifest.contents();
            self.changes.edit(manifest.file, after);
        }
        Ok(())
    }

    /// Raises the packages `Cargo.lock` holds below a version the stack
    /// needs ([`manifest::LOCK_FLOORS`]) and cargo would keep (a locked
    /// version that meets a requirement stays), so the stack would not
    /// compile. Only those move; without a lockfile, cargo picks new enough
    /// versions itself.
    fn lock_floors(&mut self, project: &Project) -> anyhow::Result<()> {
        let path = project.workspace_root.join("Cargo.lock");
        let shown = paths::display(&path, &project.workspace_root);
        let Some(file) = TextFile::read_if_present(&path, &shown)? else {
            return Ok(());
        };
        let Ok(graph) = Graph::parse(file.text()) else {
            return Ok(()); // cargo reports it.
        };
        let below = lockfile::below_floors(&graph, manifest::LOCK_FLOORS);
        if below.is_empty() {
            return Ok(());
        }
        let below = self.still_below(project, below)?;
        if below.is_empty() {
            return Ok(());
        }
        match lockfile::raise(&project.workspace_root, file.text(), &below) {
            Ok((lock, raises)) => {
                for raise in raises {
                    self.report_raise(&shown, raise);
                }
                self.changes.edit(file, lock);
            }
            Err(error) => {
                for (floor, from) in below {
                    self.held.push(floor.name);
                    let why = format!("{error:#}");
                    self.report
                        .warn(stuck_below_floor(&shown, floor, &from, &why));
                }
            }
        }
        Ok(())
    }

    /// Of `below`, what the next build leaves below its floor: resolving
    /// the plan's manifests, cargo moves some packages for the stack itself
    /// (tokio, often). All of `below` if they do not resolve.
    fn still_below(
        &self,
        project: &Project,
        mut below: Vec<(&'static manifest::LockFloor, String)>,
    ) -> anyhow::Result<Vec<(&'static manifest::LockFloor, String)>> {
        let edits = self.manifest_edits();
        if let Ok(resolved) = lockfile::resolve_with(&project.workspace_root, &edits) {
            let still = lockfile::below_floors(&Graph::parse(&resolved)?, manifest::LOCK_FLOORS);
            below.retain(|(floor, _)| still.iter().any(|(left, _)| left.name == floor.name));
        }
        Ok(below)
    }

    /// The manifests as the plan leaves them, by path.
    fn manifest_edits(&self) -> Vec<(PathBuf, String)> {
        self.changes
            .changes()
            .iter()
            .filter(|change| change.path.ends_with("Cargo.toml"))
            .map(|change| (change.path.clone(), change.after.clone()))
            .collect()
    }

    fn report_raise(&mut self, shown: &str, raise: lockfile::Raise) {
        let lockfile::Raise { floor, from, to } = raise;
        match to {
            Some(to) => self.report.status(
                "Updating",
                format!(
                    "{} v{from} -> v{to} ({} needs {})",
                    floor.name, floor.needed_by, floor.version
                ),
            ),
            None => {
                self.held.push(floor.name);
                let why = "cargo could not raise it alone";
                self.report
                    .warn(stuck_below_floor(shown, floor, &from, why));
            }
        }
    }

    fn report_dependencies(&mut self, changes: &[DependencyChange]) {
        if let Some(warning) = manifest::optional_kept_warning(changes) {
            self.report.warn(warning);
        }
        for change in changes {
            if fmt_had_no_env_filter(change) {
                self.fmt_default_filter = "info";
            }
            if !matches!(change, DependencyChange::OptionalKept { .. }) {
                let (verb, message) = change.status();
                self.report.status(verb, message);
            }
        }
    }

    fn module(&mut self, project: &Project, force: bool) -> anyhow::Result<()> {
        let path = project.module_path();
        project.refuse_ambiguous_module()?;
        let shown = paths::display(&path, &project.workspace_root);
        let generated = codegen::otel_module_for(&codegen::Pieces {
            frameworks: self.frameworks.clone(),
            hyper_service: self.hyper_service,
            log: self.log,
            exit_hooks: self.exit_hooks,
        })?;
        let Some(existing) = TextFile::read_if_present(&path, &shown)? else {
            self.report.status("Creating", &shown);
            self.changes.create(path, generated);
            return Ok(());
        };
        if existing.text() == generated {
            return Ok(());
        }
        match (codegen::provenance(Syntax::Rust, existing.text()), force) {
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
                let diff = diff_against(&existing, &generated, &project.workspace_root);
                self.report.warn(format!(
                    "keeping `{shown}`: it was edited since cargo-otel generated it\n\
                     help: `--force` replaces it with the current template, which differs like this:\n{diff}"
                ));
                self.module_current = false;
                return Ok(());
            }
            (Provenance::Foreign, false) => bail!(
                "`{shown}` exists and was not generated by cargo-otel\n\
                 help: rename it, or pass `--force` to replace it with the generated module"
            ),
        }
        self.changes.edit(existing, generated);
        Ok(())
    }

    fn wiring(&mut self, project: &Project, program: &Program) -> anyhow::Result<()> {
        let root = &program.files[program.modules[program.root].file];
        let wired = wiring::wire_project(
            project,
            program,
            self.fmt_default_filter,
            &self.frameworks,
            self.module_current,
        )?;
        let Wired {
            mut files,
            mut added,
            notes,
            manual,
            untraced,
        } = wired;
        if let Some(manual) = manual {
            self.wired = false;
            self.report.warn(format!(
                "left `{}` as it is: {}\nhelp: add these lines yourself:\n{}",
                root.shown, manual.reason, manual.lines
            ));
        }
        let mut upgraded = wiring::UpgradedCalls::default();
        if self.module_current {
            if !files.iter().any(|f| f.path() == root.path) {
                files.push(FileEdit::unchanged(root.read.clone()));
            }
            upgraded = wiring::upgrade_package_calls(project, &mut files);
            if !upgraded.in_edits.is_empty() {
                added.push(UPGRADED_CALLS.to_owned());
            }
        }
        if !added.is_empty() {
            let shown: Vec<String> = files
                .iter()
                .filter(|f| f.changed())
                .map(|f| paths::display(f.path(), &project.workspace_root))
                .collect();
            self.report.status(
                "Wiring",
                format!("{}: {}", shown.join(", "), added.join(" and ")),
            );
        }
        for file in files {
            self.changes.edit(file.file, file.after);
        }
        for note in notes {
            self.report.note(note);
        }
        for other in upgraded.others {
            let shown = paths::display(other.path(), &project.workspace_root);
            self.report
                .status("Updating", format!("{shown}: {UPGRADED_CALLS}"));
            self.changes.edit(other.file, other.after);
        }
        self.report_left_calls(upgraded.left);
        self.untraced = untraced;
        Ok(())
    }

    fn report_left_calls(&mut self, left: Vec<String>) {
        if !left.is_empty() {
            self.report.warn(format!(
                "`otel::init*()` return the guard itself since template v3, not a `Result`: \
                 change these uses by hand: {}",
                left.join(", ")
            ));
        }
    }

    fn compose_file(&mut self, project: &Project, force: bool) -> anyhow::Result<()> {
        let path = project.workspace_root.join(codegen::COMPOSE_FILE_NAME);
        let shown = paths::display(&path, &project.workspace_root);
        let generated = codegen::compose_file(&application_name(project))?;
        let existing = TextFile::read_if_present(&path, &shown)?;
        match existing.as_ref().map(TextFile::text) {
            None => self.report.status("Creating", &shown),
            Some(text) if text == generated => return Ok(()),
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
        self.changes.write(path, existing, generated);
        Ok(())
    }
}

/// A package `Cargo.lock` keeps below `floor`, `why`, and how to find what
/// holds it.
fn stuck_below_floor(shown: &str, floor: &manifest::LockFloor, from: &str, why: &str) -> String {
    let (name, version) = (floor.name, floor.version);
    format!(
        "`{shown}` keeps {name} v{from}, older than the {version} that {} needs, so the build \
         fails until it moves: {why}\n\
         help: `cargo update -p {name}@{from} --precise {version}` names what holds it back",
        floor.needed_by
    )
}

/// `--force` upgraded crates: before anything is written, the edited
/// manifests are resolved in a temporary copy of the workspace. They must
/// resolve, and leave the program one version of each OpenTelemetry crate:
/// another crate that still pins an old one (a setup crate, an
/// instrumentation) is named with the chain that pulls it in.
fn resolves_to_one_stack(
    project: &Project,
    member: &LocalManifest,
    workspace: Option<&LocalManifest>,
    home: Home,
) -> anyhow::Result<()> {
    let edits: Vec<(PathBuf, String)> = workspace
        .into_iter()
        .chain([member])
        .map(|m| (m.file.path().to_path_buf(), m.contents()))
        .collect();
    let lock = lockfile::resolve_with(&project.workspace_root, &edits).map_err(|error| {
        anyhow::anyhow!(
            "with `--force`'s upgrades the manifest would not resolve, so nothing was changed:\n\
             {error:#}\n\
             help: upgrade or remove what cargo names, then run `cargo otel init` again"
        )
    })?;
    let graph = Graph::parse(&lock)?;
    let unused = manifest::not_linked(member, workspace, home);
    let pins = graph.other_versions(
        &project.package_name,
        &unused,
        manifest::STACK
            .iter()
            .filter(|d| d.check_version && d.name.contains("opentelemetry")),
    );
    if pins.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = pins
        .iter()
        .map(|chain| {
            let names: Vec<String> = chain.iter().map(ToString::to_string).collect();
            let pinned = &chain[chain.len() - 1];
            let by = &chain[chain.len().saturating_sub(2)];
            format!("  {pinned}, required by {by} ({})", names.join(" -> "))
        })
        .collect();
    bail!(
        "`--force` would leave two versions of OpenTelemetry crates, and the module works with one; \
         nothing was changed:\n{}\n\
         help: upgrade those crates to versions built on OpenTelemetry {}, or remove them, then run `cargo otel init` again",
        lines.join("\n"),
        manifest::STACK[0].version,
    )
}

/// Where the package's own code uses a crate `--force` upgraded: code
/// written for the old version may no longer compile.
fn old_api_uses(project: &Project, changes: &[DependencyChange]) -> Option<String> {
    let upgraded: Vec<String> = changes
        .iter()
        .filter_map(|change| match change {
            DependencyChange::Upgraded { name, .. } => Some(name.replace('-', "_")),
            _ => None,
        })
        .collect();
    let module = project.module_path();
    let mut dirs = vec![project.package_root().join("src")];
    dirs.extend(project.target.root().parent().map(Path::to_path_buf));
    dirs.dedup();
    let mut uses = Vec::new();
    let files = dirs.iter().flat_map(|dir| paths::rust_files(dir));
    for file in files.filter(|f| *f != module) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let uses_one = upgraded.iter().any(|krate| {
                code.contains(&format!("{krate}::")) || code.contains(&format!("use {krate}"))
            });
            if uses_one {
                let shown = paths::display(&file, &project.workspace_root);
                uses.push(format!("{shown}:{}", number + 1));
            }
        }
    }
    if uses.is_empty() {
        return None;
    }
    let more = match uses.len() {
        0..=3 => String::new(),
        n => format!(" and {} more", n - 3),
    };
    uses.truncate(3);
    Some(format!(
        "your code uses the upgraded crates at {}{more}: what was written for the old versions may not compile\n\
         help: `cargo build` shows what to change (see each crate's CHANGELOG); the module itself is written for the new ones",
        uses.join(", ")
    ))
}

/// `tracing_subscriber::fmt::init()` filters with an `EnvFilter` (default
/// `error`) under the `env-filter` feature, and with `Targets` (default
/// `info`) without it; `init` turns the feature on.
fn fmt_had_no_env_filter(change: &DependencyChange) -> bool {
    match change {
        DependencyChange::FeaturesAdded { name, features, .. } => {
            *name == "tracing-subscriber" && features.contains(&"env-filter")
        }
        _ => false,
    }
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
    // Any 0.4 has what the piece uses: never a reason to upgrade the user's.
    all_features: &[],
    check_version: false,
};

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

fn finish(shell: &Shell, project: &Project, cwd: &Path, plan: &Plan) {
    let name = &project.package_name;
    let untraced = &plan.untraced;
    let runs_init = plan.wired && !matches!(project.target, Target::Lib { .. });
    let program = match &project.target {
        Target::Example { name: example, .. } => format!("example `{example}` of `{name}`"),
        _ => format!("`{name}`"),
    };
    let message = if runs_init && !plan.held.is_empty() {
        format!(
            "{program} exports traces, metrics and logs over OTLP/gRPC once `Cargo.lock` lets {} move",
            plan.held.join(" and ")
        )
    } else if runs_init && untraced.is_empty() {
        format!("{program} now exports traces, metrics and logs over OTLP/gRPC")
    } else if runs_init {
        format!(
            "{program} exports what it traces and logs over OTLP/gRPC; its {} requests are traced once you add the piece above",
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
    let package = match project.is_workspace_member() {
        true => format!(" -p {name}"),
        false => String::new(),
    };
    let run = match &project.target {
        Target::Bin { name: bin, .. } => {
            let bin = match bin == name {
                true => String::new(),
                false => format!(" --bin {bin}"),
            };
            format!("cargo run{package}{bin}")
        }
        Target::Example { name: example, .. } => {
            format!("cargo run{package} --example {example}")
        }
        Target::Lib { .. } => {
            let krate = name.replace('-', "_");
            shell.note(format!(
                "`{name}` is a library: start the `main` of each program that uses it with\n  \
                 let _otel = {krate}::otel::init();"
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

/// Writes the plan, creating the directory a new module goes to
/// (`examples/otel/`), and removing it again if the writing fails.
fn apply(changes: &ChangeSet) -> anyhow::Result<()> {
    let mut created = Vec::new();
    for change in changes.changes() {
        let Some(dir) = change.path.parent() else {
            continue;
        };
        if change.before.is_none() && !dir.exists() {
            std::fs::create_dir(dir)
                .with_context(|| format!("failed to create `{}`", dir.display()))
                .context("nothing was changed")?;
            created.push(dir.to_path_buf());
        }
    }
    let applied = changes.apply();
    if applied.is_err() {
        for dir in created {
            // Only if empty: the writing may have been cut short after it.
            let _ = std::fs::remove_dir(dir);
        }
    }
    applied
}

/// Why `init` leaves a published library alone unless told otherwise, and
/// what to do instead.
fn published_library(project: &Project) -> String {
    let name = &project.package_name;
    let help = match project.examples.as_slice() {
        [] => "help: instrument a program that uses it instead, or the library itself with `cargo otel init --lib`".to_owned(),
        examples => format!(
            "help: instrument one of its examples with `cargo otel init --example NAME` ({}), \
             or the library itself with `--lib`",
            examples.join(", ")
        ),
    };
    format!(
        "`{name}` is a library that can be published: `init` would add OpenTelemetry to its \
         [dependencies], which every user of the library would then build\n{help}"
    )
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

fn diff_against(existing: &TextFile, generated: &str, base: &Path) -> String {
    let mut one = ChangeSet::default();
    one.edit(existing.clone(), generated.to_owned());
    one.diff(base)
}
