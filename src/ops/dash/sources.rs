//! What `dash --watch` watches: the files cargo would rebuild the programs
//! for. Those are the directories of the packages run and of their path
//! dependencies (sources, `build.rs`, their `Cargo.toml`) and the
//! workspace's `Cargo.toml` and `Cargo.lock`; never the target directory,
//! `.git` or other hidden entries, or an editor's backup and swap files.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context as _;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use crate::project::Project;

/// How long the files must stay quiet before a change counts: an editor's
/// save (or a `git checkout`) touches several files within milliseconds.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// The watched files, and the changes seen in them.
pub(super) struct Sources {
    watcher: RecommendedWatcher,
    changes: mpsc::UnboundedReceiver<PathBuf>,
    filter: Filter,
    /// `Cargo.lock` as the last build left it: cargo rewrites it itself,
    /// and only a change of its content is one to rebuild for.
    lock: (PathBuf, Option<Vec<u8>>),
    /// The change seen, while waiting for the files to go quiet.
    pending: Option<PathBuf>,
}

/// Which paths count.
struct Filter {
    /// Directories watched with all they hold, except what [`Filter::ignored`] says.
    packages: Vec<PathBuf>,
    /// The workspace root, of which only these files count.
    workspace_root: PathBuf,
    target_directory: PathBuf,
}

const WORKSPACE_FILES: [&str; 2] = ["Cargo.toml", "Cargo.lock"];

impl Sources {
    /// Starts watching the sources of `projects`.
    pub(super) fn watch(projects: &[Project]) -> anyhow::Result<Self> {
        let (sender, changes) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                // An error of the watcher (a queue overflow) is a change of
                // unknown files: rebuilding is the safe answer.
                let paths = match event {
                    Ok(event) if counts(event.kind) => event.paths,
                    Ok(_) => return,
                    Err(error) => error.paths,
                };
                for path in paths {
                    let _ = sender.send(path);
                }
            })
            .context("failed to start watching the sources")?;
        let project = &projects[0];
        let mut packages: BTreeSet<PathBuf> = BTreeSet::new();
        for project in projects {
            packages.extend(project.source_dirs.iter().cloned());
        }
        let filter = Filter {
            packages: packages.into_iter().collect(),
            workspace_root: project.workspace_root.clone(),
            target_directory: project.target_directory.clone(),
        };
        watch(
            &mut watcher,
            &filter.workspace_root,
            RecursiveMode::NonRecursive,
        )?;
        for package in &filter.packages {
            watch_package(&mut watcher, &filter, package)?;
        }
        let lock = project.workspace_root.join("Cargo.lock");
        let mut sources = Self {
            watcher,
            changes,
            filter,
            lock: (lock, None),
            pending: None,
        };
        sources.built();
        Ok(sources)
    }

    /// The directories watched whole, sorted.
    pub(super) fn packages(&self) -> &[PathBuf] {
        &self.filter.packages
    }

    /// Notes `Cargo.lock` as a build left it.
    pub(super) fn built(&mut self) {
        self.lock.1 = std::fs::read(&self.lock.0).ok();
    }

    /// Waits for a change and for the files to go quiet; returns the file
    /// to name: the last one changed that still exists (an editor's or
    /// `sed -i`'s temporary file is renamed away), else the first.
    /// Cancellation-safe: a change seen stays pending.
    pub(super) async fn changed(&mut self) -> PathBuf {
        while self.pending.is_none() {
            let path = self.next().await;
            if self.relevant(&path) {
                self.pending = Some(path);
            }
        }
        while let Ok(path) = tokio::time::timeout(DEBOUNCE, self.next()).await {
            if self.relevant(&path) && path.exists() {
                self.pending = Some(path);
            }
        }
        self.pending.take().expect("a change is pending")
    }

    async fn next(&mut self) -> PathBuf {
        match self.changes.recv().await {
            Some(path) => path,
            // The watcher lives as long as `self`, so its sender does too.
            None => std::future::pending().await,
        }
    }

    /// Whether `path` is a source, watching it whole if it is a new
    /// directory of a package.
    fn relevant(&mut self, path: &Path) -> bool {
        if !self.filter.counts(path) {
            return false;
        }
        if *path == self.lock.0 && std::fs::read(path).ok() == self.lock.1 {
            return false;
        }
        let new_top_directory = path.is_dir()
            && path
                .parent()
                .is_some_and(|parent| self.filter.packages.iter().any(|p| p == parent));
        if new_top_directory {
            let _ = watch(&mut self.watcher, path, RecursiveMode::Recursive);
        }
        true
    }
}

impl Filter {
    fn counts(&self, path: &Path) -> bool {
        if path.starts_with(&self.target_directory) {
            return false;
        }
        let in_package = self
            .packages
            .iter()
            .filter_map(|package| path.strip_prefix(package).ok())
            .any(|relative| relative.as_os_str().is_empty() || !ignored(relative));
        in_package
            || (path.parent() == Some(&self.workspace_root)
                && path
                    .file_name()
                    .is_some_and(|name| WORKSPACE_FILES.iter().any(|f| name == *f)))
    }
}

/// Whether a path inside a package is not a source: the target directory,
/// hidden entries (`.git`), editors' backup and swap files.
fn ignored(relative: &Path) -> bool {
    let mut components = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy());
    let first = components.next().unwrap_or_default();
    if first == "target" {
        return true;
    }
    let name = relative
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let hidden = std::iter::once(first)
        .chain(components)
        .any(|c| c.starts_with('.'));
    hidden
        || name.ends_with('~')
        || [".swp", ".swx", ".swo"].iter().any(|s| name.ends_with(s))
        // vim's probe of whether it may create files.
        || name == "4913"
}

/// Events that change what a build sees (reading a file is none).
fn counts(kind: EventKind) -> bool {
    !matches!(kind, EventKind::Access(_) | EventKind::Other)
}

/// A package's directory: the directory itself, then each entry that is
/// not ignored with everything in it, so that no watch is spent on the
/// target directory's thousands of directories.
fn watch_package(
    watcher: &mut RecommendedWatcher,
    filter: &Filter,
    package: &Path,
) -> anyhow::Result<()> {
    watch(watcher, package, RecursiveMode::NonRecursive)?;
    let entries = std::fs::read_dir(package)
        .with_context(|| format!("failed to read `{}`", package.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) && filter.counts(&path) {
            watch(watcher, &path, RecursiveMode::Recursive)?;
        }
    }
    Ok(())
}

fn watch(watcher: &mut RecommendedWatcher, path: &Path, mode: RecursiveMode) -> anyhow::Result<()> {
    watcher
        .watch(path, mode)
        .with_context(|| format!("failed to watch `{}` for changes", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> Filter {
        Filter {
            packages: vec![PathBuf::from("/ws/app"), PathBuf::from("/ws/lib")],
            workspace_root: PathBuf::from("/ws"),
            target_directory: PathBuf::from("/ws/target"),
        }
    }

    #[test]
    fn sources_count_and_the_rest_does_not() {
        let filter = filter();
        for source in [
            "/ws/app/src/main.rs",
            "/ws/app/build.rs",
            "/ws/app/Cargo.toml",
            "/ws/lib/src/deep/mod.rs",
            "/ws/Cargo.toml",
            "/ws/Cargo.lock",
            "/ws/app/src",
        ] {
            assert!(filter.counts(Path::new(source)), "{source}");
        }
        for other in [
            "/ws/target/debug/app",
            "/ws/app/target/debug/app",
            "/ws/app/.git/index",
            "/ws/app/src/.main.rs.swp",
            "/ws/app/src/main.rs~",
            "/ws/app/src/4913",
            "/ws/README.md",
            "/ws/other/src/main.rs",
        ] {
            assert!(!filter.counts(Path::new(other)), "{other}");
        }
    }

    #[test]
    fn a_target_directory_elsewhere_is_ignored_too() {
        let mut filter = filter();
        filter.target_directory = PathBuf::from("/ws/app/build");
        assert!(!filter.counts(Path::new("/ws/app/build/debug/app")));
    }
}
