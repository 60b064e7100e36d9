//! Wiring a located project: the options its dependencies decide, and the
//! calls of an older module's `init*` in all of its files. `init` and
//! `doctor --fix` both wire through here.

use std::path::{Path, PathBuf};

use super::{FileEdit, Options, Wired, upgrade_calls};
use crate::{analysis::Program, changeset::TextFile, detect::Framework, paths, project::Project};

/// What wiring the selected program (or library) comes to; with
/// `main_result`, the module is this version's (see [`Options::main_result`]).
pub fn wire_project(
    project: &Project,
    program: &Program,
    fmt_default_filter: &str,
    frameworks: &[Framework],
    main_result: bool,
) -> anyhow::Result<Wired> {
    let module = project.module_path();
    let options = Options {
        module: &module,
        fmt_default_filter,
        frameworks,
        server: serves_requests(project),
        main_result,
    };
    super::wire(program, &options)
}

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

/// What rewriting the calls of an old module's `init*` came to.
#[derive(Debug, Default)]
pub struct UpgradedCalls {
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
pub fn upgrade_package_calls(project: &Project, edits: &mut [FileEdit]) -> UpgradedCalls {
    let mut upgraded = UpgradedCalls::default();
    let shown = |path: &Path| paths::display(path, &project.workspace_root);
    for edit in edits.iter_mut() {
        let Ok(calls) = upgrade_calls(&shown(edit.path()), &edit.after) else {
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
        let Ok(calls) = upgrade_calls(&shown(&path), file.text()) else {
            continue;
        };
        if let Some(after) = calls.source {
            upgraded.others.push(FileEdit { file, after });
        }
        upgraded.left.extend(calls.left);
    }
    upgraded
}

/// How the rewrite of old `otel::init*()` calls is reported.
pub const UPGRADED_CALLS: &str =
    "`otel::init*()` calls without `.expect(..)` or `?` (template v3 returns the guard)";
