//! Which package, and which of its targets, a command works on.
//!
//! Found with `cargo metadata --no-deps`: it needs no dependency resolution,
//! so it is fast and works offline.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use cargo_metadata::{Metadata, MetadataCommand, Package, TargetKind};

use crate::manifest::LocalManifest;

/// How the user pointed at a package and its target: `--manifest-path`,
/// `-p`, `--bin`, `--example`, `--lib`.
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub manifest_path: Option<PathBuf>,
    pub package: Option<String>,
    pub bin: Option<String>,
    pub example: Option<String>,
    pub lib: bool,
}

impl Selection {
    /// A program of a package: `--manifest-path`, `-p` and `--bin`.
    pub fn program(
        manifest_path: Option<PathBuf>,
        package: Option<String>,
        bin: Option<String>,
    ) -> Self {
        Self {
            manifest_path,
            package,
            bin,
            ..Self::default()
        }
    }
}

/// The package to instrument, in its workspace.
#[derive(Debug)]
pub struct Project {
    pub workspace_root: PathBuf,
    /// The workspace's root `Cargo.toml`; the package's own one when it is its
    /// own workspace.
    pub workspace_manifest: PathBuf,
    pub package_name: String,
    pub package_manifest: PathBuf,
    pub target: Target,
    /// `[package.metadata.otel]`, else `[workspace.metadata.otel]`: settings
    /// such as `image = "..."` for the dashboard.
    pub settings: serde_json::Value,
    /// The package's declared dependencies (frameworks to instrument).
    pub dependencies: Vec<crate::detect::Dependency>,
    /// Whether the package may be published (no `publish = false`).
    pub published: bool,
    /// The names of the package's examples.
    pub examples: Vec<String>,
    /// Where cargo builds (`target/`, or `CARGO_TARGET_DIR`, ...).
    pub target_directory: PathBuf,
    /// The directories the program is built from: the package's and those
    /// of its path dependencies in the workspace, and of theirs.
    pub source_dirs: Vec<PathBuf>,
}

/// The crate root that gets the `otel` module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Bin { name: String, root: PathBuf },
    Example { name: String, root: PathBuf },
    Lib { root: PathBuf },
}

impl Target {
    /// The program's name, for targets that are programs.
    pub fn program(&self) -> Option<&str> {
        match self {
            Self::Bin { name, .. } | Self::Example { name, .. } => Some(name),
            Self::Lib { .. } => None,
        }
    }

    /// The crate root: `src/main.rs`, `src/bin/x.rs`, `src/lib.rs`, ...
    pub fn root(&self) -> &Path {
        match self {
            Self::Bin { root, .. } | Self::Example { root, .. } | Self::Lib { root } => root,
        }
    }
}

impl Project {
    pub fn package_root(&self) -> &Path {
        self.package_manifest
            .parent()
            .expect("a manifest path has a parent")
    }

    pub fn is_workspace_member(&self) -> bool {
        self.workspace_manifest != self.package_manifest
    }

    /// The selected target's crate root as text; empty when it cannot be
    /// read (the caller reports that where it matters).
    pub fn root_text(&self) -> String {
        std::fs::read_to_string(self.target.root()).unwrap_or_default()
    }

    /// Where the `otel` module lives: `src/otel.rs` for every crate root
    /// under `src/` (`main.rs`, `lib.rs`, `bin/tool.rs` share it); beside a
    /// root elsewhere (`crates/core/main.rs`); and in a directory of its own
    /// beside a root in a directory cargo scans for targets
    /// (`examples/otel/mod.rs`: `examples/otel.rs` would be an example).
    pub fn module_path(&self) -> PathBuf {
        let package = self.package_root();
        let src = package.join("src");
        let root = self.target.root();
        if root.starts_with(&src) {
            return src.join("otel.rs");
        }
        let dir = root.parent().unwrap_or(package);
        let scanned = ["examples", "tests", "benches"].map(|d| package.join(d));
        match scanned.iter().any(|d| d == dir) {
            true => dir.join("otel").join("mod.rs"),
            false => dir.join("otel.rs"),
        }
    }

    /// A module `otel` of the user's own in the other form beside ours
    /// (`otel/mod.rs` beside `otel.rs`, or an example `examples/otel.rs` beside
    /// `examples/otel/mod.rs`): with both, every `mod otel;` would be ambiguous
    /// (E0761).
    pub fn refuse_ambiguous_module(&self) -> anyhow::Result<()> {
        let ours = self.module_path();
        let dir = ours.parent().unwrap_or(Path::new(""));
        let (theirs, renamed) = match ours.ends_with("otel/mod.rs") {
            true => (dir.with_extension("rs"), dir.with_file_name("telemetry.rs")),
            false => (dir.join("otel/mod.rs"), dir.join("telemetry/mod.rs")),
        };
        if std::fs::symlink_metadata(&theirs).is_err() {
            return Ok(());
        }
        let shown = crate::paths::display(&theirs, &self.workspace_root);
        let ours = crate::paths::display(&ours, &self.workspace_root);
        let renamed = crate::paths::display(&renamed, &self.workspace_root);
        let (what, rename) = match self.target {
            Target::Example { .. } => ("a file `otel` of your own", ""),
            _ => ("a module `otel` of your own", ", with `mod telemetry;`"),
        };
        bail!(
            "`{shown}` is {what}, and cargo-otel's `{ours}` beside it would \
             not compile (E0761); nothing was changed\n\
             help: rename yours (for example to `{renamed}`{rename}) and run again"
        )
    }
}

/// Finds the project the way cargo does: `--manifest-path`, else the nearest
/// `Cargo.toml` from `cwd` upwards, then the package by `-p` or by manifest.
pub fn locate(selection: &Selection, cwd: &Path) -> anyhow::Result<Project> {
    let manifest = manifest(selection.manifest_path.as_deref(), cwd)?;
    locate_in(&manifest, selection)
}

/// The manifest cargo would use: `--manifest-path`, else the nearest
/// `Cargo.toml` from `cwd` upwards; checked to be valid TOML.
pub fn manifest(manifest_path: Option<&Path>, cwd: &Path) -> anyhow::Result<PathBuf> {
    let manifest = find_manifest(manifest_path, cwd)?;
    // Our own parse first: its errors name the file, line and column.
    LocalManifest::load(&manifest)?;
    Ok(manifest)
}

/// [`locate`] with the [`manifest`] already found.
pub fn locate_in(manifest: &Path, selection: &Selection) -> anyhow::Result<Project> {
    let manifest = manifest.to_path_buf();
    let metadata = cargo_metadata(&manifest)?;
    let package = select_package(&metadata, &manifest, selection.package.as_deref())?;
    let target = match (&selection.example, selection.lib) {
        (Some(example), _) => select_example(package, example)?,
        (None, true) => select_lib(package)?,
        (None, false) => select_target(package, selection.bin.as_deref())?,
    };
    Ok(project(&metadata, package, target))
}

/// The programs of several packages for `dash`: those named (`-p a -p b`, in
/// that order), or with `workspace` every member that has a binary. Members
/// that are only libraries are skipped; one with several binaries and no
/// `default-run` is an error, as with `-p`.
pub fn locate_programs(
    manifest_path: Option<&Path>,
    packages: &[String],
    workspace: bool,
    cwd: &Path,
) -> anyhow::Result<Vec<Project>> {
    let manifest = manifest(manifest_path, cwd)?;
    let metadata = cargo_metadata(&manifest)?;
    let mut chosen: Vec<&Package> = Vec::new();
    if workspace {
        chosen.extend(metadata.workspace_packages());
    }
    for spec in packages {
        let package = select_package(&metadata, &manifest, Some(spec))?;
        if !chosen.iter().any(|p| p.id == package.id) {
            chosen.push(package);
        }
    }
    let mut projects = Vec::new();
    for package in chosen {
        match select_target(package, None)? {
            Target::Lib { .. } if workspace => {}
            Target::Lib { .. } => bail!(
                "package `{}` is a library: there is no program to run\n\
                 help: choose packages with a binary",
                package.name
            ),
            target => projects.push(project(&metadata, package, target)),
        }
    }
    if projects.is_empty() {
        bail!(
            "no package of the workspace at `{}` has a binary to run",
            metadata.workspace_root
        );
    }
    Ok(projects)
}

fn project(metadata: &Metadata, package: &Package, target: Target) -> Project {
    Project {
        workspace_root: metadata.workspace_root.clone().into_std_path_buf(),
        workspace_manifest: metadata
            .workspace_root
            .join("Cargo.toml")
            .into_std_path_buf(),
        package_name: package.name.to_string(),
        package_manifest: package.manifest_path.clone().into_std_path_buf(),
        settings: settings(package, metadata),
        dependencies: dependencies(package, &target, &patches(metadata)),
        target,
        published: package
            .publish
            .as_ref()
            .is_none_or(|registries| !registries.is_empty()),
        examples: package
            .targets
            .iter()
            .filter(|t| t.kind.contains(&TargetKind::Example))
            .map(|t| t.name.clone())
            .collect(),
        target_directory: metadata.target_directory.clone().into_std_path_buf(),
        source_dirs: source_dirs(metadata, package),
    }
}

/// The package's directory, then those of its path dependencies, theirs
/// when they are workspace members (`--no-deps` lists no others), and so on.
fn source_dirs(metadata: &Metadata, package: &Package) -> Vec<PathBuf> {
    let dir = |p: &Package| p.manifest_path.parent().map(|d| d.as_std_path().to_owned());
    let mut dirs: Vec<PathBuf> = dir(package).into_iter().collect();
    let mut queue = vec![package];
    while let Some(next) = queue.pop() {
        for path in next.dependencies.iter().filter_map(|d| d.path.as_ref()) {
            let path = path.as_std_path();
            if dirs.iter().any(|d| d == path) {
                continue;
            }
            dirs.push(path.to_owned());
            let member = metadata
                .packages
                .iter()
                .find(|p| dir(p).as_deref() == Some(path));
            queue.extend(member);
        }
    }
    dirs
}

/// The package's dependencies as the program sees them: an example also
/// links the dev-dependencies.
fn dependencies(
    package: &Package,
    target: &Target,
    patches: &[(String, String)],
) -> Vec<crate::detect::Dependency> {
    use cargo_metadata::DependencyKind;
    let linked = |kind: DependencyKind| match target {
        Target::Example { .. } => {
            matches!(kind, DependencyKind::Normal | DependencyKind::Development)
        }
        _ => kind == DependencyKind::Normal,
    };
    let package_dir = package.manifest_path.parent();
    package
        .dependencies
        .iter()
        .map(|d| crate::detect::Dependency {
            name: d.name.clone(),
            requirement: d.req.to_string(),
            // Optional, platform-only or renamed crates may be absent
            // or named otherwise in the code the module's pieces assume.
            normal: linked(d.kind) && !d.optional && d.target.is_none() && d.rename.is_none(),
            source: source(d, package_dir, patches),
        })
        .collect()
}

/// The crates the workspace's `[patch.<registry>]` tables replace, each with
/// where its code comes from instead (`path ../axum`, `git https://..`).
fn patches(metadata: &Metadata) -> Vec<(String, String)> {
    let manifest = metadata.workspace_root.join("Cargo.toml");
    let Ok(root) = LocalManifest::load(manifest.as_std_path()) else {
        return Vec::new();
    };
    let registries = root.document.get("patch").and_then(|p| p.as_table_like());
    let entries = registries
        .into_iter()
        .flat_map(|r| r.iter())
        .filter_map(|(_, registry)| registry.as_table_like())
        .flat_map(|registry| registry.iter());
    entries
        .filter_map(|(name, spec)| {
            let spec = spec.as_table_like()?;
            let field = |key| spec.get(key).and_then(|v| v.as_str());
            let from = match (field("path"), field("git")) {
                (Some(path), _) => format!("path {path}"),
                (None, Some(git)) => format!("git {git}"),
                (None, None) => return None,
            };
            let package = field("package").unwrap_or(name);
            Some((package.to_owned(), from))
        })
        .collect()
}

fn source(
    dependency: &cargo_metadata::Dependency,
    package_dir: Option<&cargo_metadata::camino::Utf8Path>,
    patches: &[(String, String)],
) -> crate::detect::Source {
    use crate::detect::Source;
    if let Some(path) = &dependency.path {
        let shown = match package_dir {
            Some(dir) => crate::paths::relative(dir.as_std_path(), path.as_std_path()),
            None => path.to_string(),
        };
        let version = LocalManifest::load(&path.join("Cargo.toml").into_std_path_buf())
            .ok()
            .and_then(|m| {
                let version = m.document.get("package")?.get("version")?;
                version.as_str().map(str::to_owned)
            });
        return Source::Path { shown, version };
    }
    match &dependency.source {
        Some(source) if source.repr.starts_with("git+") => Source::Git {
            url: source.repr.trim_start_matches("git+").to_owned(),
        },
        _ => match patches.iter().find(|(name, _)| *name == dependency.name) {
            Some((_, from)) => Source::Patched { from: from.clone() },
            None => Source::Registry,
        },
    }
}

fn settings(package: &Package, metadata: &Metadata) -> serde_json::Value {
    let own = package.metadata.get("otel").filter(|v| v.is_object());
    let shared = metadata
        .workspace_metadata
        .get("otel")
        .filter(|v| v.is_object());
    own.or(shared).cloned().unwrap_or_default()
}

impl Project {
    /// A string setting from the package's or workspace's `metadata.otel`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).and_then(serde_json::Value::as_str)
    }
}

fn find_manifest(explicit: Option<&Path>, cwd: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        let path = cwd.join(path);
        if path.file_name().is_none_or(|name| name != "Cargo.toml") {
            bail!(
                "the manifest path must point to a `Cargo.toml` file: `{}`",
                path.display()
            );
        }
        if !path.is_file() {
            bail!("manifest path `{}` does not exist", path.display());
        }
        return std::fs::canonicalize(&path)
            .with_context(|| format!("failed to resolve `{}`", path.display()));
    }
    cwd.ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|candidate| candidate.is_file())
        .with_context(|| {
            format!(
                "could not find `Cargo.toml` in `{}` or any parent directory\n\
                 help: run this inside a Cargo project, or pass `--manifest-path`",
                cwd.display()
            )
        })
}

const NO_TARGETS_HELP: &str =
    "add `src/main.rs` for a program or `src/lib.rs` for a library, and run again";

fn cargo_metadata(manifest: &Path) -> anyhow::Result<Metadata> {
    let result = MetadataCommand::new()
        .manifest_path(manifest)
        .no_deps()
        .exec();
    result.map_err(|error| match error {
        cargo_metadata::Error::CargoMetadata { stderr } => anyhow::anyhow!(
            "cargo could not read the workspace of `{}`:\n{}\nhelp: {}",
            manifest.display(),
            stderr.trim().trim_start_matches("error: "),
            match stderr.contains("no targets specified") {
                true => NO_TARGETS_HELP,
                false =>
                    "fix what cargo reports above (`cargo metadata` says the same) and run again",
            }
        ),
        other => anyhow::Error::new(other).context("failed to run `cargo metadata`"),
    })
}

fn select_package<'m>(
    metadata: &'m Metadata,
    manifest: &Path,
    spec: Option<&str>,
) -> anyhow::Result<&'m Package> {
    let members = metadata.workspace_packages();
    let names = || {
        let mut names: Vec<&str> = members.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.join(", ")
    };
    if let Some(spec) = spec {
        let (name, version) = spec.split_once('@').unwrap_or((spec, ""));
        return members
            .iter()
            .copied()
            .find(|p| {
                p.name.as_str() == name && (version.is_empty() || p.version.to_string() == version)
            })
            .with_context(|| {
                format!(
                    "package `{spec}` not found in the workspace at `{}`\n\
                     help: the workspace has these packages: {}",
                    metadata.workspace_root,
                    names()
                )
            });
    }
    let manifest = std::fs::canonicalize(manifest).unwrap_or_else(|_| manifest.to_path_buf());
    let own = members
        .iter()
        .copied()
        .find(|p| std::fs::canonicalize(&p.manifest_path).is_ok_and(|path| path == manifest));
    own.with_context(|| {
        format!(
            "`{}` is a virtual manifest: a workspace with no package of its own\n\
             help: choose a package with `-p`: {}",
            manifest.display(),
            names()
        )
    })
}

fn select_example(package: &Package, wanted: &str) -> anyhow::Result<Target> {
    let examples: Vec<_> = package
        .targets
        .iter()
        .filter(|t| t.kind.contains(&TargetKind::Example))
        .collect();
    match examples.iter().find(|t| t.name == wanted) {
        Some(t) => Ok(Target::Example {
            name: t.name.clone(),
            root: t.src_path.clone().into_std_path_buf(),
        }),
        None => {
            let names: Vec<&str> = examples.iter().map(|t| t.name.as_str()).collect();
            let known = if names.is_empty() {
                "it has none".to_owned()
            } else {
                format!("its examples are: {}", names.join(", "))
            };
            bail!(
                "no example `{wanted}` in package `{}`\nhelp: {known}",
                package.name
            )
        }
    }
}

fn select_lib(package: &Package) -> anyhow::Result<Target> {
    match package.targets.iter().find(|t| t.is_lib()) {
        Some(lib) => Ok(Target::Lib {
            root: lib.src_path.clone().into_std_path_buf(),
        }),
        None => bail!(
            "package `{}` has no library target\nhelp: leave out `--lib` to instrument its binary",
            package.name
        ),
    }
}

fn select_target(package: &Package, bin: Option<&str>) -> anyhow::Result<Target> {
    let bins: Vec<_> = package
        .targets
        .iter()
        .filter(|t| t.kind.contains(&TargetKind::Bin))
        .collect();
    let bin_names = || {
        bins.iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let as_target = |t: &cargo_metadata::Target| Target::Bin {
        name: t.name.clone(),
        root: t.src_path.clone().into_std_path_buf(),
    };
    if let Some(wanted) = bin {
        return match bins.iter().find(|t| t.name == wanted) {
            Some(t) => Ok(as_target(t)),
            None if bins.is_empty() => bail!(
                "package `{}` has no binaries, so `--bin {wanted}` matches nothing",
                package.name
            ),
            None => bail!(
                "no binary `{wanted}` in package `{}`\nhelp: its binaries are: {}",
                package.name,
                bin_names()
            ),
        };
    }
    if let [only] = bins.as_slice() {
        return Ok(as_target(only));
    }
    if bins.is_empty() {
        let lib = package.targets.iter().find(|t| t.is_lib());
        return match lib {
            Some(lib) => Ok(Target::Lib {
                root: lib.src_path.clone().into_std_path_buf(),
            }),
            None => bail!(
                "package `{}` has neither a binary nor a library target\nhelp: {NO_TARGETS_HELP}",
                package.name
            ),
        };
    }
    let preferred = package
        .default_run
        .as_deref()
        .unwrap_or(package.name.as_str());
    match bins.iter().find(|t| t.name == preferred) {
        Some(t) => Ok(as_target(t)),
        None => bail!(
            "package `{}` has several binaries: {}\nhelp: choose one with `--bin NAME`",
            package.name,
            bin_names()
        ),
    }
}
