//! The resolved dependency graph, read from `Cargo.lock`: every package with
//! its exact version and what it depends on. Reading the file (rather than
//! `cargo metadata`) needs no download and never rewrites the lockfile.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context as _, bail};
use toml_edit::DocumentMut;

/// One `[[package]]` of the lockfile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Node {
    pub(super) name: String,
    pub(super) version: String,
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

#[derive(Debug, Default)]
pub(super) struct Graph {
    edges: BTreeMap<Node, Vec<Node>>,
}

/// Where the graph came from, for the report.
#[derive(Debug)]
pub(super) enum Origin {
    Lockfile(PathBuf),
    /// No `Cargo.lock`: resolved in a temporary copy of the workspace.
    TemporaryCopy,
}

impl Graph {
    /// The workspace's `Cargo.lock`, or (without one) a lockfile resolved in
    /// a temporary copy, so the user's tree gets no new file.
    pub(super) fn load(workspace_root: &Path) -> anyhow::Result<(Self, Origin)> {
        let path = workspace_root.join("Cargo.lock");
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            return Ok((Self::parse(&text)?, Origin::Lockfile(path)));
        }
        let text = resolve_in_copy(workspace_root)?;
        Ok((Self::parse(&text)?, Origin::TemporaryCopy))
    }

    pub(super) fn parse(text: &str) -> anyhow::Result<Self> {
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
    pub(super) fn versions(&self, name: &str) -> Vec<&Node> {
        let mut found: Vec<&Node> = self.edges.keys().filter(|n| n.name == name).collect();
        found.sort_by_key(|n| semver::Version::parse(&n.version).ok());
        found
    }

    pub(super) fn node(&self, name: &str) -> Option<&Node> {
        self.edges.keys().find(|n| n.name == name)
    }

    /// What `from` depends on directly.
    pub(super) fn dependencies(&self, from: &Node) -> &[Node] {
        self.edges.get(from).map_or(&[], Vec::as_slice)
    }

    /// The shortest chain of dependencies from `from` to `to` (both included).
    pub(super) fn path(&self, from: &Node, to: &Node) -> Option<Vec<Node>> {
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
    let temp = tempfile::tempdir().context("failed to create a temporary directory")?;
    copy_sources(workspace_root, temp.path())?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Offline first: the local index usually knows every crate already.
    for offline in [true, false] {
        let mut command = Command::new(&cargo);
        command.arg("generate-lockfile").current_dir(temp.path());
        if offline {
            command.arg("--offline");
        }
        let output = command
            .output()
            .context("failed to run `cargo generate-lockfile`")?;
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
}
