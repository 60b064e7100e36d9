//! The resolved dependency graph, read from `Cargo.lock`: every package with
//! its exact version and what it depends on. Reading the file (rather than
//! `cargo metadata`) needs no download and never rewrites the lockfile.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    path::{Path, PathBuf},
};

use anyhow::Context as _;
use toml_edit::DocumentMut;

use super::{LockFloor, PinnedDependency};

/// One `[[package]]` of the lockfile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) version: String,
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Graph {
    edges: BTreeMap<Node, Vec<Node>>,
}

/// Where the graph came from, for the report.
#[derive(Debug)]
pub(crate) enum Origin {
    Lockfile(PathBuf),
    /// No `Cargo.lock`: resolved in a temporary copy of the workspace.
    TemporaryCopy,
}

impl Graph {
    /// The workspace's `Cargo.lock`, or (without one) a lockfile resolved in
    /// a temporary copy, so the user's tree gets no new file.
    pub(crate) fn load(workspace_root: &Path) -> anyhow::Result<(Self, Origin)> {
        let path = workspace_root.join("Cargo.lock");
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            return Ok((Self::parse(&text)?, Origin::Lockfile(path)));
        }
        let text = resolve_in_copy(workspace_root)?;
        Ok((Self::parse(&text)?, Origin::TemporaryCopy))
    }

    pub(crate) fn parse(text: &str) -> anyhow::Result<Self> {
        let doc: DocumentMut = text.parse().context("`Cargo.lock` is not valid TOML")?;
        let packages = doc
            .get("package")
            .and_then(|p| p.as_array_of_tables())
            .map(|a| a.iter().collect::<Vec<_>>())
            .unwrap_or_default();
        let field = |t: &toml_edit::Table, key: &str| {
            t.get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let nodes: Vec<Node> = packages
            .iter()
            .map(|t| Node {
                name: field(t, "name"),
                version: field(t, "version"),
            })
            .collect();
        let mut versions: HashMap<&str, Vec<&str>> = HashMap::new();
        for node in &nodes {
            versions.entry(&node.name).or_default().push(&node.version);
        }
        let mut edges = BTreeMap::new();
        for (table, node) in packages.iter().zip(&nodes) {
            let deps = table
                .get("dependencies")
                .and_then(|d| d.as_array())
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>())
                .unwrap_or_default();
            // `"name"` when only one version is locked, else `"name version"`
            // (plus ` (source)` when two sources share it).
            let targets = deps.into_iter().filter_map(|dep| {
                let mut parts = dep.split(' ');
                let name = parts.next()?;
                let version = match parts.next() {
                    Some(version) => version,
                    None => versions.get(name)?.first()?,
                };
                Some(Node {
                    name: name.to_owned(),
                    version: version.to_owned(),
                })
            });
            edges.insert(node.clone(), targets.collect());
        }
        Ok(Self { edges })
    }

    /// The locked versions of `name`, oldest first.
    pub(crate) fn versions(&self, name: &str) -> Vec<&Node> {
        let mut found: Vec<&Node> = self.edges.keys().filter(|n| n.name == name).collect();
        found.sort_by_key(|n| semver::Version::parse(&n.version).ok());
        found
    }

    pub(crate) fn node(&self, name: &str) -> Option<&Node> {
        self.edges.keys().find(|n| n.name == name)
    }

    /// What `from` depends on directly.
    pub(crate) fn dependencies(&self, from: &Node) -> &[Node] {
        self.edges.get(from).map_or(&[], Vec::as_slice)
    }

    /// For each crate of `pinned`, the versions other than the one pinned
    /// that package `root` links, each with the shortest chain that pulls it
    /// in. Direct dependencies named in `unused` (optional ones the default
    /// features leave off) are not followed.
    pub(crate) fn other_versions<'p>(
        &self,
        root: &str,
        unused: &[String],
        pinned: impl IntoIterator<Item = &'p PinnedDependency>,
    ) -> Vec<Vec<Node>> {
        let Some(root) = self.node(root) else {
            return Vec::new();
        };
        let starts: Vec<&Node> = self
            .dependencies(root)
            .iter()
            .filter(|d| !unused.contains(&d.name))
            .collect();
        let mut chains = Vec::new();
        for pinned in pinned {
            for other in self.versions(pinned.name) {
                if pinned.accepts(&other.version) {
                    continue;
                }
                let shortest = starts
                    .iter()
                    .filter_map(|start| self.path(start, other))
                    .min_by_key(Vec::len);
                if let Some(chain) = shortest {
                    chains.push([vec![root.clone()], chain].concat());
                }
            }
        }
        chains
    }

    /// The shortest chain of dependencies from `from` to `to` (both included).
    pub(crate) fn path(&self, from: &Node, to: &Node) -> Option<Vec<Node>> {
        let mut parent: HashMap<&Node, &Node> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(node) = queue.pop_front() {
            if node == to {
                let mut chain = vec![node.clone()];
                let mut at = node;
                while let Some(previous) = parent.get(at) {
                    chain.push((*previous).clone());
                    at = previous;
                }
                chain.reverse();
                return Some(chain);
            }
            for next in self.dependencies(node) {
                if next != from && !parent.contains_key(next) {
                    parent.insert(next, node);
                    queue.push_back(next);
                }
            }
        }
        None
    }
}

/// Lets cargo write a lockfile in a copy of the workspace.
fn resolve_in_copy(workspace_root: &Path) -> anyhow::Result<String> {
    resolve_with(workspace_root, &[])
}

/// The lockfile cargo would write for the workspace at `workspace_root`
/// with `edits` (whole files, by path) in place: resolved in a temporary
/// copy, so the user's tree is never touched. With a `Cargo.lock`, only what
/// the edits need changes in it (`cargo update --workspace`), as in the
/// user's next build.
pub(crate) fn resolve_with(
    workspace_root: &Path,
    edits: &[(PathBuf, String)],
) -> anyhow::Result<String> {
    let copy = WorkspaceCopy::new(workspace_root, edits)?;
    let args: &[&str] = match copy.lock_path().is_file() {
        true => &["update", "--workspace"],
        false => &["generate-lockfile"],
    };
    // Offline first: the local index usually knows every crate already.
    if copy.cargo(args, true)?.is_err() {
        copy.cargo(args, false)?.map_err(|stderr| {
            anyhow::anyhow!("cargo could not resolve the dependencies: {stderr}")
        })?;
    }
    copy.lock()
}

/// A locked package raised to its floor, or left below it.
#[derive(Debug)]
pub(crate) struct Raise {
    pub(crate) floor: &'static LockFloor,
    pub(crate) from: String,
    /// `None`: cargo could not raise it without moving other locked
    /// packages, or a requirement holds it back.
    pub(crate) to: Option<String>,
}

/// The packages of `graph` locked below a floor, each with its version.
pub(crate) fn below_floors(
    graph: &Graph,
    floors: &'static [LockFloor],
) -> Vec<(&'static LockFloor, String)> {
    floors
        .iter()
        .flat_map(|floor| {
            graph
                .versions(floor.name)
                .into_iter()
                .filter(|node| floor.is_below(&node.version))
                .map(move |node| (floor, node.version.clone()))
        })
        .collect()
}

/// `lock` (the workspace's `Cargo.lock`) with each package of `below`
/// raised in a temporary copy of the workspace: to the version cargo picks
/// when only that package is updated, else to the floor itself, whichever
/// moves no other locked package that something else uses (see
/// [`moved_alone`]), so nothing else the program builds changes under it.
pub(crate) fn raise(
    workspace_root: &Path,
    lock: &str,
    below: &[(&'static LockFloor, String)],
) -> anyhow::Result<(String, Vec<Raise>)> {
    let copy = WorkspaceCopy::new(workspace_root, &[])?;
    let mut lock = lock.to_owned();
    let mut raises = Vec::new();
    for (floor, from) in below {
        let to = copy.raise(&lock, floor, from)?;
        if to.is_some() {
            lock = copy.lock()?;
        }
        raises.push(Raise {
            floor,
            from: from.clone(),
            to,
        });
    }
    Ok((lock, raises))
}

/// A copy of a workspace (without `target/` and `.git/`) in a temporary
/// directory, where cargo may rewrite the lockfile.
struct WorkspaceCopy {
    dir: tempfile::TempDir,
}

impl WorkspaceCopy {
    /// The workspace at `root` with `edits` (whole files, by path) in place.
    fn new(root: &Path, edits: &[(PathBuf, String)]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("failed to create a temporary directory")?;
        copy_sources(root, dir.path())?;
        for (path, text) in edits {
            let relative = path
                .strip_prefix(root)
                .with_context(|| format!("`{}` is outside the workspace", path.display()))?;
            std::fs::write(dir.path().join(relative), text)
                .with_context(|| format!("failed to write a copy of `{}`", path.display()))?;
        }
        anchor_path_dependencies(root, dir.path())?;
        Ok(Self { dir })
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.path().join("Cargo.lock")
    }

    fn lock(&self) -> anyhow::Result<String> {
        std::fs::read_to_string(self.lock_path()).context("cargo wrote no lockfile")
    }

    /// Runs cargo with `args` in the copy: `Err` holds what it printed when
    /// it failed.
    fn cargo(&self, args: &[&str], offline: bool) -> anyhow::Result<Result<(), String>> {
        let mut command = crate::cargo::command();
        command.args(args).current_dir(self.dir.path());
        if offline {
            command.arg("--offline");
        }
        let output = command
            .output()
            .context("failed to run cargo to resolve the dependencies")?;
        match output.status.success() {
            true => Ok(Ok(())),
            false => Ok(Err(String::from_utf8_lossy(&output.stderr)
                .trim()
                .to_owned())),
        }
    }

    /// Raises `floor`'s package from `from` in the copy, whose lockfile is
    /// set to `lock` before each try; the version it reached, if any did.
    /// Offline first, even for the floor itself: a version in cargo's cache
    /// needs no download, and asking the index takes long.
    fn raise(&self, lock: &str, floor: &LockFloor, from: &str) -> anyhow::Result<Option<String>> {
        let before = Graph::parse(lock)?;
        let spec = format!("{}@{from}", floor.name);
        let newest = ["update", "-p", &spec];
        let lowest = ["update", "-p", &spec, "--precise", floor.version];
        for offline in [true, false] {
            for args in [&newest[..], &lowest[..]] {
                std::fs::write(self.lock_path(), lock)
                    .context("failed to write a copy of `Cargo.lock`")?;
                if self.cargo(args, offline)?.is_err() {
                    continue;
                }
                let after = Graph::parse(&self.lock()?)?;
                if let Some(to) = moved_alone(&before, &after, floor) {
                    return Ok(Some(to));
                }
            }
        }
        Ok(None)
    }
}

/// The version `floor`'s package reached from `before` to `after`, if it
/// reached the floor and every other locked package that changed version is
/// used only by packages that changed too (tokio's own macros may follow
/// tokio; a libc other crates use may not). Packages may come and go.
fn moved_alone(before: &Graph, after: &Graph, floor: &LockFloor) -> Option<String> {
    let moved: Vec<&Node> = before
        .edges
        .keys()
        .filter(|node| !after.edges.contains_key(*node) && after.node(&node.name).is_some())
        .collect();
    let used_elsewhere = moved.iter().any(|node| {
        node.name != floor.name
            && before
                .edges
                .iter()
                .any(|(user, deps)| deps.contains(node) && !moved.contains(&user))
    });
    let reached = after
        .versions(floor.name)
        .into_iter()
        .find(|node| !before.edges.contains_key(*node))?;
    let still_below = after
        .versions(floor.name)
        .iter()
        .any(|node| floor.is_below(&node.version));
    (!used_elsewhere && !still_below).then(|| reached.version.clone())
}

/// Path dependencies that lead out of the workspace would point nowhere
/// from the copy: they get the original's absolute path.
fn anchor_path_dependencies(original: &Path, copy: &Path) -> anyhow::Result<()> {
    let mut manifests = Vec::new();
    find_manifests(copy, &mut manifests);
    for manifest in manifests {
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let Ok(mut doc) = text.parse::<DocumentMut>() else {
            continue; // cargo reports it.
        };
        let relative_dir = manifest
            .parent()
            .and_then(|dir| dir.strip_prefix(copy).ok())
            .unwrap_or(Path::new(""));
        let original_dir = original.join(relative_dir);
        let mut changed = false;
        visit_path_values(doc.as_table_mut(), &mut |value| {
            let Some(path) = value.as_str() else {
                return;
            };
            let target = normalize(&original_dir.join(path));
            if !target.starts_with(original) {
                *value = toml_edit::Value::from(target.display().to_string());
                changed = true;
            }
        });
        if changed {
            std::fs::write(&manifest, doc.to_string())
                .with_context(|| format!("failed to write `{}`", manifest.display()))?;
        }
    }
    Ok(())
}

fn find_manifests(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_manifests(&path, found);
        } else if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            found.push(path);
        }
    }
}

/// Every `path = ".."` value of a dependency, a patch or a shared
/// dependency, wherever it is in the manifest.
fn visit_path_values(
    table: &mut dyn toml_edit::TableLike,
    visit: &mut dyn FnMut(&mut toml_edit::Value),
) {
    for (key, item) in table.iter_mut() {
        if key == "path" {
            if let Some(value) = item.as_value_mut() {
                visit(value);
            }
        } else if !matches!(key.get(), "package" | "lib" | "bin")
            && let Some(inner) = item.as_table_like_mut()
        {
            visit_path_values(inner, visit);
        }
    }
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                normal.pop();
            }
            std::path::Component::CurDir => {}
            other => normal.push(other),
        }
    }
    normal
}

fn copy_sources(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("failed to create `{}`", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("failed to read `{}`", from.display()))?
    {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_sources(&entry.path(), &target)?;
        } else if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("failed to copy `{}`", entry.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["old-instrumentation", "opentelemetry 0.33.1"]

[[package]]
name = "old-instrumentation"
version = "0.2.0"
dependencies = ["opentelemetry 0.30.0"]

[[package]]
name = "opentelemetry"
version = "0.30.0"

[[package]]
name = "opentelemetry"
version = "0.33.1"
"#;

    #[test]
    fn finds_who_pulls_a_version() {
        let graph = Graph::parse(LOCK).unwrap();
        let versions = graph.versions("opentelemetry");
        assert_eq!(versions.len(), 2);
        let app = graph.node("app").unwrap();
        let chain = graph.path(app, versions[0]).unwrap();
        let names: Vec<String> = chain.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "app 0.1.0",
                "old-instrumentation 0.2.0",
                "opentelemetry 0.30.0"
            ]
        );
    }

    #[test]
    fn other_versions_skip_dependencies_the_program_does_not_link() {
        let graph = Graph::parse(LOCK).unwrap();
        let otel = super::super::STACK
            .iter()
            .filter(|d| d.name == "opentelemetry");
        let chains = graph.other_versions("app", &[], otel.clone());
        assert_eq!(chains.len(), 1);
        assert_eq!(
            chains[0].last().unwrap().to_string(),
            "opentelemetry 0.30.0"
        );
        let unused = ["old-instrumentation".to_owned()];
        assert!(graph.other_versions("app", &unused, otel).is_empty());
    }

    const FLOOR: LockFloor = LockFloor {
        name: "tokio-util",
        version: "0.7.5",
        needed_by: "tonic 0.14.9",
    };

    fn lock_with_deps(packages: &[(&str, &str, &[&str])]) -> Graph {
        let text: String = packages
            .iter()
            .map(|(name, version, deps)| {
                let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
                format!(
                    "[[package]]\nname = \"{name}\"\nversion = \"{version}\"\ndependencies = [{}]\n\n",
                    deps.join(", ")
                )
            })
            .collect();
        Graph::parse(&text).unwrap()
    }

    #[test]
    fn only_the_series_below_a_floor_is_found() {
        static FLOORS: [LockFloor; 1] = [FLOOR];
        let graph = lock_with_deps(&[("tokio-util", "0.6.10", &[]), ("tokio-util", "0.7.4", &[])]);
        let below = below_floors(&graph, &FLOORS);
        assert_eq!(below.len(), 1);
        assert_eq!(below[0].1, "0.7.4");
        let raised = lock_with_deps(&[("tokio-util", "0.7.5", &[])]);
        assert!(below_floors(&raised, &FLOORS).is_empty());
    }

    #[test]
    fn a_raise_may_take_along_what_only_it_uses() {
        let tokio = LockFloor {
            name: "tokio",
            version: "1.38.0",
            needed_by: "tokio-stream 0.1.18",
        };
        let before = lock_with_deps(&[
            ("app", "0.1.0", &["tokio", "libc"]),
            ("tokio", "1.34.0", &["tokio-macros", "libc"]),
            ("tokio-macros", "2.2.0", &[]),
            ("libc", "0.2.150", &[]),
        ]);
        let macros_follow = lock_with_deps(&[
            ("app", "0.1.0", &["tokio", "libc"]),
            ("tokio", "1.38.0", &["tokio-macros", "libc"]),
            ("tokio-macros", "2.3.0", &[]),
            ("libc", "0.2.150", &[]),
        ]);
        assert_eq!(
            moved_alone(&before, &macros_follow, &tokio).as_deref(),
            Some("1.38.0")
        );
        let libc_follows = lock_with_deps(&[
            ("app", "0.1.0", &["tokio", "libc"]),
            ("tokio", "1.38.0", &["tokio-macros", "libc"]),
            ("tokio-macros", "2.2.0", &[]),
            ("libc", "0.2.191", &[]),
        ]);
        assert_eq!(moved_alone(&before, &libc_follows, &tokio), None);
    }

    #[test]
    fn a_raise_that_moves_a_package_in_use_does_not_count() {
        let before = lock_with_deps(&[
            ("app", "0.1.0", &["tokio", "tokio-util"]),
            ("tokio", "1.38.0", &[]),
            ("tokio-util", "0.7.4", &["tokio", "old"]),
            ("old", "1.0.0", &[]),
        ]);
        let alone = lock_with_deps(&[
            ("app", "0.1.0", &["tokio", "tokio-util"]),
            ("tokio", "1.38.0", &[]),
            ("tokio-util", "0.7.11", &["tokio", "new"]),
            ("new", "1.0.0", &[]),
        ]);
        assert_eq!(
            moved_alone(&before, &alone, &FLOOR).as_deref(),
            Some("0.7.11")
        );
        let tokio_too = lock_with_deps(&[
            ("app", "0.1.0", &["tokio", "tokio-util"]),
            ("tokio", "1.54.1", &[]),
            ("tokio-util", "0.7.20", &["tokio"]),
        ]);
        assert_eq!(moved_alone(&before, &tokio_too, &FLOOR), None);
        assert_eq!(moved_alone(&before, &before, &FLOOR), None);
    }

    #[test]
    fn path_dependencies_out_of_the_workspace_point_at_the_original() {
        let original = tempfile::tempdir().unwrap();
        let root = original.path().join("ws");
        let copy = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(copy.path().join("app")).unwrap();
        let manifest = copy.path().join("app/Cargo.toml");
        std::fs::write(
            &manifest,
            "[dependencies]\nfork = { path = \"../../vendor/fork\" }\nlocal = { path = \"../local\" }\n\n\
             [patch.crates-io]\naxum = { path = \"../../vendor/axum\" }\n",
        )
        .unwrap();
        anchor_path_dependencies(&root, copy.path()).unwrap();
        let text = std::fs::read_to_string(&manifest).unwrap();
        let vendor = original.path().join("vendor");
        assert!(
            text.contains(&format!(
                "fork = {{ path = \"{}\" }}",
                vendor.join("fork").display()
            )),
            "{text}"
        );
        assert!(text.contains("local = { path = \"../local\" }"), "{text}");
        assert!(
            text.contains(&format!(
                "axum = {{ path = \"{}\" }}",
                vendor.join("axum").display()
            )),
            "{text}"
        );
    }
}
