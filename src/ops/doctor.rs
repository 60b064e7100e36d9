//! `cargo otel doctor`: run every check, print the report, and with `--fix`
//! apply the safe repairs through the same plan / dry-run / all-or-nothing
//! change set as `init`, then check again.

use std::{path::PathBuf, time::Duration};

use anyhow::Context as _;

use crate::{
    Shell,
    analysis::Program,
    changeset::{ChangeSet, TextFile},
    codegen::{self, Provenance, Syntax},
    docker::DEFAULT_IMAGE,
    doctor::{
        Group, Remedy, Report, backend,
        environment::{self, Env},
        ids, output, project as project_checks,
        roundtrip::{self, Settings},
        tls,
    },
    manifest::{self, LocalManifest},
    paths,
    project::{Project, Selection},
    shell::Verbosity,
    wiring::{self, FileEdit, UPGRADED_CALLS},
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Human,
    Json,
}

/// `doctor`'s options, free of clap.
#[derive(Debug, Default, Clone)]
pub struct DoctorOptions {
    pub manifest_path: Option<PathBuf>,
    pub package: Option<String>,
    pub bin: Option<String>,
    pub format: Format,
    pub fix: bool,
    pub dry_run: bool,
    pub endpoint: Option<String>,
    pub timeout: Option<Duration>,
    /// Groups not to run (reported as skipped): `--skip backend`.
    pub skip: Vec<Group>,
}

/// Exit code: 0 without errors, [`crate::EXIT_FAILURE`] with any.
pub fn run(shell: &Shell, options: &DoctorOptions) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let selection = Selection::program(
        options.manifest_path.clone(),
        options.package.clone(),
        options.bin.clone(),
    );
    let env = Env::from_process();
    let (mut report, project) = diagnose(shell, &selection, &cwd, &env, options)?;
    let mut fixed = None;
    let mut diff = None;
    if options.fix {
        let (applied, planned) = fix(shell, &report, project.as_ref(), options.dry_run)?;
        diff = planned;
        if !applied.is_empty() && !options.dry_run {
            shell.status("Checking", "again after the fixes");
            report = diagnose(shell, &selection, &cwd, &env, options)?.0;
        }
        fixed = Some(applied);
    }
    match options.format {
        Format::Json => shell.data(&output::json(&report, fixed.as_deref(), diff.as_deref())),
        Format::Human => {
            if let Some(diff) = &diff {
                shell.data(diff);
            }
            let quiet = shell.verbosity() == Verbosity::Quiet;
            shell.data(&output::human(&report, quiet));
        }
    }
    Ok(if report.has_errors() {
        crate::EXIT_FAILURE
    } else {
        0
    })
}

fn diagnose(
    shell: &Shell,
    selection: &Selection,
    cwd: &std::path::Path,
    env: &Env,
    options: &DoctorOptions,
) -> anyhow::Result<(Report, Option<Project>)> {
    let endpoints = environment::endpoints(env, options.endpoint.as_deref());
    let skip = |group: Group| options.skip.contains(&group);
    let mut checks = Vec::new();
    let mut project = None;
    if !skip(Group::Project) {
        shell.verbose_status("Checking", "the project");
        let (found, located) = project_checks::check(selection, cwd, &endpoints);
        checks.extend(found);
        project = located;
    }
    if !skip(Group::Environment) {
        shell.verbose_status("Checking", "the environment");
        checks.extend(environment::check(env, options.endpoint.as_deref()));
    }
    if !skip(Group::Tls) {
        shell.verbose_status("Checking", "the TLS certificates");
        checks.extend(tls::check(env, options.endpoint.as_deref()));
    }
    if !skip(Group::Backend) {
        shell.verbose_status("Checking", "Docker, the dashboard and the ports");
        let image = project
            .as_ref()
            .and_then(|p| p.setting("image"))
            .unwrap_or(DEFAULT_IMAGE)
            .to_owned();
        let root = project.as_ref().map(|p| p.workspace_root.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("failed to start the Tokio runtime")?;
        checks.extend(runtime.block_on(backend::check(root.as_deref(), &image)));
    }
    if !skip(Group::RoundTrip) {
        shell.verbose_status("Sending", "a span, a metric and a log record");
        let settings = Settings {
            endpoint: options.endpoint.clone(),
            timeout: options.timeout,
        };
        checks.extend(roundtrip::check(env, &settings));
    }
    // Skipped groups still appear, so a report always has every id.
    for spec in ids::ALL.iter().filter(|s| skip(s.group)) {
        checks.push(spec.skipped(format!("`--skip {}`", spec.group.flag())));
    }
    checks.sort_by_key(|c| ids::ALL.iter().position(|s| s.id == c.id));
    Ok((Report { checks }, project))
}

/// Plans the safe fixes the report asks for, shows or applies them; returns
/// one line per change, and with `dry_run` the diff (for the report).
fn fix(
    shell: &Shell,
    report: &Report,
    project: Option<&Project>,
    dry_run: bool,
) -> anyhow::Result<(Vec<String>, Option<String>)> {
    let remedies = report.remedies();
    let Some(project) = project.filter(|_| !remedies.is_empty()) else {
        shell.status("Finished", "nothing `--fix` can repair");
        return Ok((Vec::new(), None));
    };
    let plan = FixPlan::new(project, &remedies)?;
    for note in &plan.manual {
        shell.warn(note);
    }
    if plan.changes.is_empty() {
        shell.status("Finished", "nothing `--fix` can repair");
        return Ok((Vec::new(), None));
    }
    let lines: Vec<String> = plan
        .lines
        .iter()
        .map(|(verb, message)| format!("{verb} {message}"))
        .collect();
    if dry_run {
        for (verb, message) in &plan.lines {
            shell.status(verb, message);
        }
        shell.warn("aborting fix due to dry run");
        return Ok((lines, Some(plan.changes.diff(&project.workspace_root))));
    }
    plan.changes.apply()?;
    for (verb, message) in &plan.lines {
        shell.status(verb, message);
    }
    if plan.manifests_changed {
        refresh_lockfile(shell, project);
    }
    Ok((lines, None))
}

/// The change set `--fix` writes, and what it says about it.
#[derive(Default)]
struct FixPlan {
    changes: ChangeSet,
    lines: Vec<(&'static str, String)>,
    manual: Vec<String>,
    manifests_changed: bool,
}

impl FixPlan {
    fn new(project: &Project, remedies: &[Remedy]) -> anyhow::Result<Self> {
        let mut plan = Self::default();
        if remedies.contains(&Remedy::AlignVersions) {
            plan.align_versions(project)?;
        }
        let regenerate = remedies.contains(&Remedy::RegenerateModule);
        if regenerate {
            plan.regenerate_module(project)?;
        }
        let wire = remedies.contains(&Remedy::WireMain);
        // Calls written for an older module (`otel::init().expect(..)`) no
        // longer compile once the module is this version's.
        let upgrade = module_current_after(project, regenerate)?;
        if wire {
            plan.wire_main(project, upgrade)?;
        } else if upgrade {
            let root = project.target.root();
            let shown = paths::display(root, &project.workspace_root);
            let root = FileEdit::unchanged(TextFile::read(root, &shown)?);
            plan.upgrade_calls(project, vec![root], "Updating");
        }
        Ok(plan)
    }

    /// Our pinned crates at our versions with our features, as `init --force`.
    fn align_versions(&mut self, project: &Project) -> anyhow::Result<()> {
        let mut member = LocalManifest::load(&project.package_manifest)?;
        let mut workspace = match project.is_workspace_member() {
            true => Some(LocalManifest::load(&project.workspace_manifest)?),
            false => None,
        };
        // Without libc where the module has no exit hooks, as `init` does.
        let exit_hooks = !codegen::forbids_unsafe_code(&project.root_text());
        for change in manifest::add_stack(&mut member, workspace.as_mut(), exit_hooks, true)? {
            let (verb, message) = change.status();
            self.lines.push((verb, message));
        }
        for manifest in workspace.into_iter().chain([member]) {
            let after = manifest.contents();
            self.manifests_changed |= after != manifest.file.text();
            self.changes.edit(manifest.file, after);
        }
        Ok(())
    }

    /// Only an absent or untouched module: an edited one is the user's.
    fn regenerate_module(&mut self, project: &Project) -> anyhow::Result<()> {
        let path = project.module_path();
        project.refuse_ambiguous_module()?;
        let shown = paths::display(&path, &project.workspace_root);
        // With the framework pieces `init` put in (main may use them).
        let existing = TextFile::read_if_present(&path, &shown)?;
        let text = existing.as_ref().map(TextFile::text);
        let generated =
            codegen::expected_module(&project.dependencies, text, &project.root_text())?;
        match text {
            None => self.lines.push(("Creating", shown)),
            Some(text) if codegen::provenance(Syntax::Rust, text) == Provenance::Untouched => {
                let version = codegen::TEMPLATE_VERSION;
                self.lines
                    .push(("Updating", format!("{shown} to template v{version}")));
            }
            Some(_) => return Ok(()),
        }
        self.changes.write(path, existing, generated);
        Ok(())
    }

    /// `mod otel;`, the `otel::init()` call, and a guard that is kept; with
    /// `upgrade`, the calls of an older module's `init*` rewritten.
    fn wire_main(&mut self, project: &Project, upgrade: bool) -> anyhow::Result<()> {
        // The module's full init is what doctor re-wires; a `fmt::init()` it
        // would replace has had `env-filter` since `init` ran.
        let program = Program::load_project(project)?;
        let wired = wiring::wire_project(project, &program, "error", &[], upgrade)?;
        let root = &program.files[program.modules[program.root].file];
        if let Some(manual) = &wired.manual {
            self.manual.push(format!(
                "left `{}` as it is: {}\nhelp: add these lines yourself:\n{}",
                root.shown, manual.reason, manual.lines
            ));
        }
        if !wired.added.is_empty() {
            let added = wired.added.join(" and ");
            self.lines
                .push(("Wiring", format!("{}: {added}", root.shown)));
        }
        let mut files = wired.files;
        let at = match files.iter().position(|f| f.path() == root.path) {
            Some(at) => at,
            None => {
                files.push(FileEdit::unchanged(root.read.clone()));
                files.len() - 1
            }
        };
        if let Some(kept) = wiring::keep_guard(&root.shown, &files[at].after)? {
            self.lines.push((
                "Wiring",
                format!("{}: keeping the guard in `_otel`", root.shown),
            ));
            files[at].after = kept;
        }
        match upgrade {
            true => self.upgrade_calls(project, files, "Wiring"),
            false => self.record(files),
        }
        Ok(())
    }

    /// The calls of an older module's `init*` rewritten for the current
    /// module's, which return the guard itself: in `edits` (said with
    /// `verb`) and in the package's other files.
    fn upgrade_calls(&mut self, project: &Project, mut edits: Vec<FileEdit>, verb: &'static str) {
        let upgraded = wiring::upgrade_package_calls(project, &mut edits);
        for path in &upgraded.in_edits {
            let shown = paths::display(path, &project.workspace_root);
            self.lines
                .push((verb, format!("{shown}: {UPGRADED_CALLS}")));
        }
        for other in &upgraded.others {
            let shown = paths::display(other.path(), &project.workspace_root);
            self.lines
                .push(("Updating", format!("{shown}: {UPGRADED_CALLS}")));
        }
        self.record(edits);
        self.record(upgraded.others);
        self.note_left_calls(upgraded.left);
    }

    fn record(&mut self, edits: Vec<FileEdit>) {
        for edit in edits {
            self.changes.edit(edit.file, edit.after);
        }
    }

    fn note_left_calls(&mut self, left: Vec<String>) {
        if !left.is_empty() {
            self.manual.push(format!(
                "`otel::init*()` return the guard itself since template v3, not a `Result`: \
                 change these uses by hand: {}",
                left.join(", ")
            ));
        }
    }
}

/// Whether the module is this version's once the fix is applied: it already
/// is, or `regenerate` writes it (it is absent or untouched).
fn module_current_after(project: &Project, regenerate: bool) -> anyhow::Result<bool> {
    let path = project.module_path();
    let shown = paths::display(&path, &project.workspace_root);
    let existing = TextFile::read_if_present(&path, &shown)?;
    let text = existing.as_ref().map(TextFile::text);
    let generated = codegen::expected_module(&project.dependencies, text, &project.root_text())?;
    Ok(match existing {
        None => regenerate,
        Some(file) if file.text() == generated => true,
        Some(file) => {
            regenerate && codegen::provenance(Syntax::Rust, file.text()) == Provenance::Untouched
        }
    })
}

/// After a manifest edit, brings an existing `Cargo.lock` up to date the way
/// the next build would (only what the edit requires), so the re-run checks
/// see the new versions.
fn refresh_lockfile(shell: &Shell, project: &Project) {
    if !project.workspace_root.join("Cargo.lock").is_file() {
        return;
    }
    shell.status("Updating", "Cargo.lock");
    // `cargo update --workspace` changes only what the new requirements
    // force, like the next build would, and needs the index, not downloads.
    let mut last_error = String::new();
    for offline in [true, false] {
        let mut command = crate::cargo::command();
        command
            .args(["update", "--workspace", "--manifest-path"])
            .arg(&project.workspace_manifest);
        if offline {
            command.arg("--offline");
        }
        match command.output() {
            Ok(out) if out.status.success() => return,
            Ok(out) => last_error = String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            Err(error) => last_error = error.to_string(),
        }
    }
    shell.warn(format!(
        "could not update Cargo.lock: {last_error}\nhelp: run `cargo update --workspace`"
    ));
}

/// `5s`, `500ms`, `2.5s` or a bare number of milliseconds.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let number = |digits: &str| digits.trim().parse::<f64>().ok().filter(|n| *n >= 0.0);
    let parsed = if let Some(ms) = text.strip_suffix("ms") {
        number(ms).map(|n| Duration::from_secs_f64(n / 1000.0))
    } else if let Some(s) = text.strip_suffix('s') {
        number(s).map(Duration::from_secs_f64)
    } else {
        number(text).map(|n| Duration::from_secs_f64(n / 1000.0))
    };
    parsed.ok_or_else(|| format!("`{text}` is not a duration; use e.g. `5s` or `500ms`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse() {
        assert_eq!(parse_timeout("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_timeout("1500"), Ok(Duration::from_millis(1500)));
        assert!(parse_timeout("soon").is_err());
    }
}
