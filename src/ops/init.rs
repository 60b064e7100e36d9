//! `cargo otel init`: every change is planned first, then written all together
//! (or, with `--dry-run`, shown as a diff).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::{
    Shell,
    analysis::{Input, Program},
    changeset::{ChangeSet, TextFile},
    codegen::{self, Provenance, Syntax},
    detect::{self, Framework},
    manifest::DependencyChange,
    manifest::{self, LocalManifest},
    paths,
    project::{self, Project, Selection, Target},
    wiring::{self, FileEdit, Wired},
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
            frameworks: Vec::new(),
            log: false,
            fmt_default_filter: "error",
            module_current: true,
        };
        let program = load_program(project)?;
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
            self.changes.edit(manifest.file, after);
        }
        Ok(())
    }

    fn module(&mut self, project: &Project, force: bool) -> anyhow::Result<()> {
        let path = module_path(project);
        refuse_module_directory(project)?;
        let shown = paths::display(&path, &project.workspace_root);
        let generated = codegen::otel_module_for(&self.frameworks, self.log)?;
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
        if forbids_unsafe_code(&root.text) {
            self.report.warn(format!(
                "`{}` has `#![forbid(unsafe_code)]`, and the module's exit hooks (a signal \
                 handler and `atexit`, through libc) are `unsafe`: the crate will not compile\n\
                 help: make it `#![deny(unsafe_code)]`, which the module's `allow` overrides for \
                 `src/otel.rs` alone",
                root.shown
            ));
        }
        let wired = wire_program(project, program, self.fmt_default_filter, &self.frameworks)?;
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
        let mut upgraded = UpgradedCalls::default();
        if self.module_current {
            if !files.iter().any(|f| f.path() == root.path) {
                files.push(FileEdit::unchanged(root.read.clone()));
            }
            upgraded = upgrade_package_calls(project, &mut files);
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

/// What rewriting the calls of an old module's `init*` came to.
#[derive(Debug, Default)]
pub(crate) struct UpgradedCalls {
    /// The files among those already being edited whose calls were
    /// rewritten.
    pub in_edits: Vec<PathBuf>,
    /// The package's other files whose calls were rewritten.
    pub others: Vec<FileEdit>,
    /// Each use of the old `Result` left for a hand edit.
    pub left: Vec<String>,
}

/// The calls of a module's `init*` that returned a `Result` (templates v1,
/// v2), rewritten for the current module, whose `init*` return the guard:
/// in `edits` (the crate root among them) and in the package's other Rust
/// files under `src/`. A file that cannot be read or parsed is not this
/// plan's to judge.
pub(crate) fn upgrade_package_calls(project: &Project, edits: &mut [FileEdit]) -> UpgradedCalls {
    let mut upgraded = UpgradedCalls::default();
    let shown = |path: &Path| paths::display(path, &project.workspace_root);
    for edit in edits.iter_mut() {
        let Ok(calls) = wiring::upgrade_calls(&shown(edit.path()), &edit.after) else {
            continue;
        };
        if let Some(after) = calls.source {
            edit.after = after;
            upgraded.in_edits.push(edit.path().to_path_buf());
        }
        upgraded.left.extend(calls.left);
    }
    for path in paths::rust_files(&project.package_root().join("src")) {
        if edits.iter().any(|edit| edit.path() == path) {
            continue;
        }
        let Ok(file) = TextFile::read(&path, &shown(&path)) else {
            continue;
        };
        let Ok(calls) = wiring::upgrade_calls(&shown(&path), file.text()) else {
            continue;
        };
        if let Some(after) = calls.source {
            upgraded.others.push(FileEdit { file, after });
        }
        upgraded.left.extend(calls.left);
    }
    upgraded
}

/// `#![forbid(unsafe_code)]` at the crate root, which no `allow` can lift.
fn forbids_unsafe_code(root: &str) -> bool {
    let Ok(file) = syn::parse_file(root) else {
        return false;
    };
    file.attrs.iter().any(|attr| {
        attr.path().is_ident("forbid")
            && quote::ToTokens::to_token_stream(&attr.meta)
                .to_string()
                .contains("unsafe_code")
    })
}

/// How the rewrite of old `otel::init*()` calls is reported.
pub(crate) const UPGRADED_CALLS: &str =
    "`otel::init*()` calls without `.expect(..)` or `?` (template v3 returns the guard)";

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

/// The selected program (or library) and the library it may call, read.
pub(crate) fn load_program(project: &Project) -> anyhow::Result<Program> {
    let root = project.target.root();
    if std::fs::symlink_metadata(root).is_err() {
        bail!(
            "`{}`, the crate root of package `{}`, does not exist\n\
             help: create it, or correct the target's `path` in `Cargo.toml`",
            paths::display(root, &project.workspace_root),
            project.package_name
        );
    }
    Program::load(&Input::for_project(project))
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

/// A module of the user's own in `src/otel/mod.rs`: with ours beside it,
/// every `mod otel;` would be ambiguous (E0761).
pub(crate) fn refuse_module_directory(project: &Project) -> anyhow::Result<()> {
    let theirs = project
        .package_root()
        .join("src")
        .join("otel")
        .join("mod.rs");
    if std::fs::symlink_metadata(&theirs).is_err() {
        return Ok(());
    }
    let shown = paths::display(&theirs, &project.workspace_root);
    let ours = paths::display(&module_path(project), &project.workspace_root);
    bail!(
        "`{shown}` is a module `otel` of your own, and cargo-otel's `{ours}` beside it would \
         not compile (E0761); nothing was changed\n\
         help: rename yours (for example to `src/telemetry/mod.rs`, with `mod telemetry;`) \
         and run again"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forbidden_unsafe_code_is_found() {
        assert!(forbids_unsafe_code(
            "#![forbid(unsafe_code)]\nfn main() {}\n"
        ));
        assert!(forbids_unsafe_code(
            "//! Doc.\n#![forbid(missing_docs, unsafe_code)]\nfn main() {}\n"
        ));
        assert!(!forbids_unsafe_code(
            "#![deny(unsafe_code)]\nfn main() {}\n"
        ));
    }
}
