//! The resolved dependency graph, read from `Cargo.lock`: every package with
//! its exact version and what it depends on. Reading the file (rather than
//! `cargo metadata`) needs no download and never rewrites the lockfile.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use toml_edit::DocumentMut;

use super::PinnedDependency;

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

/// Copies the workspace (without `target/` and `.git/`) to a temporary
/// directory and lets cargo write a lockfile there.
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
    let temp = tempfile::tempdir().context("failed to create a temporary directory")?;
    copy_sources(workspace_root, temp.path())?;
    for (path, text) in edits {
        let relative = path
            .strip_prefix(workspace_root)
            .with_context(|| format!("`{}` is outside the workspace", path.display()))?;
        std::fs::write(temp.path().join(relative), text)
            .with_context(|| format!("failed to write a copy of `{}`", path.display()))?;
    }
    anchor_path_dependencies(workspace_root, temp.path())?;
    let locked = temp.path().join("Cargo.lock").is_file();
    // Offline first: the local index usually knows every crate already.
    for offline in [true, false] {
        let mut command = crate::cargo::command();
        match locked {
            true => command.args(["update", "--workspace"]),
            false => command.arg("generate-lockfile"),
        };
        command.current_dir(temp.path());
        if offline {
            command.arg("--offline");
        }
        let output = command
            .output()
            .context("failed to run cargo to resolve the dependencies")?;
        if output.status.success() {
            let lock = temp.path().join("Cargo.lock");
            return std::fs::read_to_string(&lock).context("cargo wrote no lockfile");
        }
        if !offline {
            bail!(
                "cargo could not resolve the dependencies: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
    }
    unreachable!("the online attempt returns")
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
