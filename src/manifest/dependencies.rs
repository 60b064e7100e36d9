//! Adding the pinned stack to a package, the way `cargo add` would, plus what
//! `cargo add` cannot do: put new crates in `[workspace.dependencies]` and
//! inherit them with `name.workspace = true`.
//!
//! Rules (cargo's `formatting.md`): an existing dependency keeps its form and
//! place and only gains missing features; a table is re-sorted only if it was
//! sorted; new entries use the shortest form.

use std::fmt;

use anyhow::bail;
use toml_edit::{Array, DocumentMut, InlineTable, Item, TableLike, Value};

use super::{LocalManifest, PinnedDependency, STACK};

/// One edit, for the status line that reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyChange {
    Added {
        name: &'static str,
        version: String,
        table: &'static str,
    },
    /// Added to `[workspace.dependencies]` and inherited by the member.
    AddedToWorkspace {
        name: &'static str,
        version: String,
    },
    Inherited {
        name: &'static str,
    },
    FeaturesAdded {
        name: &'static str,
        features: Vec<&'static str>,
    },
    Upgraded {
        name: &'static str,
        from: String,
        to: String,
    },
}

impl DependencyChange {
    /// The cargo-style status verb and message.
    pub fn status(&self) -> (&'static str, String) {
        match self {
            Self::Added {
                name,
                version,
                table,
            } => ("Adding", format!("{name} {version} to {table}")),
            Self::AddedToWorkspace { name, version } => (
                "Adding",
                format!("{name} {version} to workspace.dependencies, inherited"),
            ),
            Self::Inherited { name } => ("Adding", format!("{name} (workspace) to dependencies")),
            Self::FeaturesAdded { name, features } => (
                "Updating",
                format!("{name} with features {}", features.join(", ")),
            ),
            Self::Upgraded { name, from, to } => ("Upgrading", format!("{name} {from} -> {to}")),
        }
    }
}

/// A dependency the user has at a version our module cannot work with.
#[derive(Debug)]
struct Conflict {
    name: &'static str,
    found: String,
    needed: &'static str,
    table: &'static str,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            name,
            found,
            needed,
            table,
        } = self;
        write!(f, "  {name} = \"{found}\" in [{table}], needs {needed}")
    }
}

/// Adds every crate of [`STACK`] to `member`. `workspace` is the workspace
/// root's manifest when it is another file; with `[workspace.dependencies]`
/// there, new crates go there and the member inherits them.
///
/// Incompatible versions are an error naming each crate, unless `force`,
/// which upgrades them. Nothing is written here: the caller writes the
/// documents, or not.
pub fn add_stack(
    member: &mut LocalManifest,
    workspace: Option<&mut LocalManifest>,
    force: bool,
) -> anyhow::Result<Vec<DependencyChange>> {
    add_dependencies(member, workspace, STACK.iter(), force)
}

/// [`add_stack`] for any pinned crates (the stack plus the instrumentation
/// for the frameworks found), with the same rules.
pub fn add_dependencies(
    member: &mut LocalManifest,
    workspace: Option<&mut LocalManifest>,
    dependencies: impl IntoIterator<Item = &'static PinnedDependency>,
    force: bool,
) -> anyhow::Result<Vec<DependencyChange>> {
    let mut docs = Docs {
        member: &mut member.document,
        workspace: workspace.map(|w| &mut w.document),
    };
    let mut changes = Vec::new();
    let mut conflicts = Vec::new();
    for dependency in dependencies {
        let outcome = docs.add(dependency, force)?;
        changes.extend(outcome.changes);
        conflicts.extend(outcome.conflict);
    }
    if !conflicts.is_empty() {
        let list: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
        bail!(
            "this package depends on versions the generated module does not support:\n{}\n\
             help: `cargo otel init --force` upgrades them; your code may need changes for the new versions",
            list.join("\n")
        );
    }
    Ok(changes)
}

/// A dependency as a package declares it, `workspace = true` followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The version requirement; `None` for path and git dependencies.
    pub version: Option<String>,
    pub features: Vec<String>,
    pub default_features: bool,
}

/// How `member` declares crate `name` in `[dependencies]`, if it does.
/// `workspace` is the workspace root's manifest when it is another file.
pub fn declared(
    member: &LocalManifest,
    workspace: Option<&LocalManifest>,
    name: &str,
) -> Option<Declared> {
    let table = member.document.get("dependencies")?.as_table_like()?;
    let key = find(table, name, "dependencies").ok().flatten()?;
    let item = table.get(&key)?;
    if !inherits(item) {
        return Some(Declared {
            version: version(item),
            features: features(item),
            default_features: default_features(item),
        });
    }
    let root = workspace.map_or(&member.document, |w| &w.document);
    let shared = root
        .get("workspace")?
        .get("dependencies")?
        .as_table_like()?;
    let shared_key = find(shared, name, "workspace.dependencies")
        .ok()
        .flatten()?;
    let shared_item = shared.get(&shared_key)?;
    let mut all_features = features(shared_item);
    all_features.extend(features(item));
    Some(Declared {
        version: version(shared_item),
        features: all_features,
        default_features: default_features(shared_item),
    })
}

struct Docs<'a> {
    member: &'a mut DocumentMut,
    workspace: Option<&'a mut DocumentMut>,
}

#[derive(Default)]
struct Outcome {
    changes: Vec<DependencyChange>,
    conflict: Option<Conflict>,
}

impl Docs<'_> {
    fn workspace_dependencies(&mut self) -> Option<&mut dyn TableLike> {
        let doc = match &mut self.workspace {
            Some(workspace) => &mut **workspace,
            None => &mut *self.member,
        };
        doc.get_mut("workspace")?
            .get_mut("dependencies")?
            .as_table_like_mut()
    }

    fn member_dependencies(&mut self) -> anyhow::Result<&mut dyn TableLike> {
        let item = self
            .member
            .entry("dependencies")
            .or_insert_with(toml_edit::table);
        match item.as_table_like_mut() {
            Some(table) => Ok(table),
            None => bail!("`dependencies` in the manifest is not a table"),
        }
    }

    fn add(
        &mut self,
        dependency: &'static PinnedDependency,
        force: bool,
    ) -> anyhow::Result<Outcome> {
        let name = dependency.name;
        let member_key = find(self.member_dependencies()?, name, "dependencies")?;
        let Some(member_key) = member_key else {
            return self.add_missing(dependency, force);
        };
        let member_item = self
            .member_dependencies()?
            .get(&member_key)
            .cloned()
            .unwrap_or_default();
        let mut outcome = Outcome::default();
        let mut present = features(&member_item);
        let defaults = if inherits(&member_item) {
            let Some(workspace) = self.workspace_dependencies() else {
                return Ok(outcome); // cargo itself will report the broken inheritance.
            };
            let Some(key) = find(workspace, name, "workspace.dependencies")? else {
                return Ok(outcome);
            };
            let item = workspace.get_mut(&key).expect("key was just found");
            outcome.check_version(item, dependency, force, "workspace.dependencies");
            present.extend(features(item));
            default_features(item)
        } else {
            let table = self.member_dependencies()?;
            let item = table.get_mut(&member_key).expect("key was just found");
            outcome.check_version(item, dependency, force, "dependencies");
            default_features(item)
        };
        let missing = dependency.missing_features(&present, defaults);
        if !missing.is_empty() {
            let table = self.member_dependencies()?;
            add_features(table, &member_key, &missing);
            outcome.changes.push(DependencyChange::FeaturesAdded {
                name,
                features: missing,
            });
        }
        Ok(outcome)
    }

    /// The member does not have the crate: inherit it from the workspace
    /// (adding it there first if needed), or add it to the member.
    fn add_missing(
        &mut self,
        dependency: &'static PinnedDependency,
        force: bool,
    ) -> anyhow::Result<Outcome> {
        let name = dependency.name;
        let mut outcome = Outcome::default();
        let Some(workspace) = self.workspace_dependencies() else {
            insert_dependency(self.member_dependencies()?, name, new_spec(dependency));
            outcome.changes.push(DependencyChange::Added {
                name,
                version: dependency.display_version(),
                table: "dependencies",
            });
            return Ok(outcome);
        };
        let missing = match find(workspace, name, "workspace.dependencies")? {
            Some(key) => {
                let item = workspace.get_mut(&key).expect("key was just found");
                outcome.check_version(item, dependency, force, "workspace.dependencies");
                dependency.missing_features(&features(item), default_features(item))
            }
            None => {
                insert_dependency(workspace, name, new_spec(dependency));
                let version = dependency.display_version();
                outcome
                    .changes
                    .push(DependencyChange::AddedToWorkspace { name, version });
                insert_dependency(self.member_dependencies()?, name, inherit_spec(&[]));
                return Ok(outcome);
            }
        };
        insert_dependency(self.member_dependencies()?, name, inherit_spec(&missing));
        outcome.changes.push(DependencyChange::Inherited { name });
        Ok(outcome)
    }
}

impl Outcome {
    /// Records a conflict, or with `force` upgrades the requirement in place.
    fn check_version(
        &mut self,
        item: &mut Item,
        dependency: &'static PinnedDependency,
        force: bool,
        table: &'static str,
    ) {
        let Some(found) = version(item) else {
            return; // A path or git dependency: its version is the user's call.
        };
        if dependency.accepts(&found) {
            return;
        }
        if force {
            set_version(item, dependency.version);
            let (name, to) = (dependency.name, dependency.version.to_owned());
            self.changes.push(DependencyChange::Upgraded {
                name,
                from: found,
                to,
            });
        } else {
            let (name, needed) = (dependency.name, dependency.version);
            self.conflict = Some(Conflict {
                name,
                found,
                needed,
                table,
            });
        }
    }
}

/// The key under which `table` has crate `name`. A renamed one (`key = {
/// package = "name" }`) is an error: the generated module refers to the crate
/// by its own name, and cargo refuses one crate under two names.
fn find(table: &dyn TableLike, name: &str, label: &str) -> anyhow::Result<Option<String>> {
    let found = table.iter().find_map(|(key, item)| {
        let package = item
            .as_table_like()
            .and_then(|t| t.get("package"))
            .and_then(Item::as_str);
        (package.unwrap_or(key) == name).then(|| key.to_owned())
    });
    match found {
        Some(key) if key != name => bail!(
            "[{label}] has `{name}` renamed to `{key}`, but the generated module refers to it as `{name}`\n\
             help: rename the dependency back to `{name}` (`use {krate} as {alias};` keeps your code's name)",
            krate = name.replace('-', "_"),
            alias = key.replace('-', "_"),
        ),
        found => Ok(found),
    }
}

fn inherits(item: &Item) -> bool {
    let flag = item.as_table_like().and_then(|t| t.get("workspace"));
    flag.and_then(Item::as_bool).unwrap_or(false)
}

fn version(item: &Item) -> Option<String> {
    let version = match item.as_str() {
        Some(version) => Some(version),
        None => item
            .as_table_like()
            .and_then(|t| t.get("version"))
            .and_then(Item::as_str),
    };
    version.map(str::to_owned)
}

fn features(item: &Item) -> Vec<String> {
    let array = item
        .as_table_like()
        .and_then(|t| t.get("features"))
        .and_then(Item::as_array);
    let names = array
        .into_iter()
        .flat_map(|a| a.iter().filter_map(Value::as_str));
    names.map(str::to_owned).collect()
}

fn default_features(item: &Item) -> bool {
    let table = item.as_table_like();
    let flag = |key| table.and_then(|t| t.get(key)).and_then(Item::as_bool);
    flag("default-features")
        .or_else(|| flag("default_features"))
        .unwrap_or(true)
}

/// Replaces the version, keeping the comments and spacing around it.
fn set_version(item: &mut Item, version: &str) {
    if let Some(old) = item.as_value().filter(|old| old.is_str()) {
        let mut new = Value::from(version);
        *new.decor_mut() = old.decor().clone();
        *item = Item::Value(new);
        return;
    }
    if let Some(table) = item.as_table_like_mut() {
        let mut new = Value::from(version);
        if let Some(old) = table.get("version").and_then(Item::as_value) {
            *new.decor_mut() = old.decor().clone();
        }
        table.insert("version", Item::Value(new));
    }
}

/// Adds `missing` to the dependency's `features`, turning a bare version
/// string or a dotted `x.workspace = true` into an inline table if needed.
fn add_features(table: &mut dyn TableLike, key: &str, missing: &[&str]) {
    let item = table.get_mut(key).expect("the caller found the key");
    if let Some(bare) = item.as_value().filter(|v| v.is_str()) {
        let mut inline = InlineTable::new();
        inline.insert("version", Value::from(bare.as_str().unwrap_or_default()));
        let decor = bare.decor().clone();
        let mut value = Value::InlineTable(inline);
        *value.decor_mut() = decor;
        *item = Item::Value(value);
    } else if item.as_table().is_some_and(toml_edit::Table::is_dotted) {
        let dotted = item.as_table().expect("checked above");
        let mut inline = InlineTable::new();
        for (k, v) in dotted.iter() {
            if let Some(v) = v.as_value() {
                inline.insert(k, v.clone());
            }
        }
        *item = Item::Value(Value::InlineTable(inline));
    }
    if let Some(inline) = item.as_inline_table_mut() {
        inline.set_dotted(false);
    }
    let Some(dependency) = item.as_table_like_mut() else {
        return;
    };
    let features = dependency
        .entry("features")
        .or_insert_with(|| Item::Value(Value::Array(Array::new())));
    if let Some(array) = features.as_array_mut() {
        let was_sorted = is_sorted(array.iter().filter_map(Value::as_str));
        for feature in missing {
            array.push(*feature);
        }
        if was_sorted && array.len() > missing.len() {
            array.sort_by_key(|v| v.as_str().map(str::to_owned));
        }
    }
    if let Some(inline) = item.as_inline_table_mut() {
        inline.fmt();
    }
}

/// Appends the entry, or keeps the table sorted if it was.
fn insert_dependency(table: &mut dyn TableLike, name: &str, value: Value) {
    let was_sorted = is_sorted(table.iter().map(|(key, _)| key));
    table.insert(name, Item::Value(value));
    if was_sorted {
        table.sort_values();
    }
}

fn is_sorted<'a>(mut items: impl Iterator<Item = &'a str>) -> bool {
    let Some(mut previous) = items.next() else {
        return true;
    };
    items.all(|item| {
        let ordered = previous <= item;
        previous = item;
        ordered
    })
}

/// The shortest form that says what we need: `"1.2.3"`, or an inline table.
fn new_spec(dependency: &PinnedDependency) -> Value {
    let extra = if dependency.keep_defaults {
        dependency.missing_features(&[], true)
    } else {
        dependency.features.to_vec()
    };
    if dependency.keep_defaults && extra.is_empty() {
        return Value::from(dependency.version);
    }
    let mut spec = InlineTable::new();
    spec.insert("version", Value::from(dependency.version));
    if !dependency.keep_defaults {
        spec.insert("default-features", Value::from(false));
    }
    if !extra.is_empty() {
        spec.insert("features", Value::Array(extra.iter().copied().collect()));
    }
    spec.fmt();
    Value::InlineTable(spec)
}

/// `name.workspace = true`, or `{ workspace = true, features = [...] }`.
fn inherit_spec(features: &[&str]) -> Value {
    let mut spec = InlineTable::new();
    spec.insert("workspace", Value::from(true));
    if features.is_empty() {
        spec.set_dotted(true);
    } else {
        spec.insert("features", Value::Array(features.iter().copied().collect()));
        spec.fmt();
    }
    Value::InlineTable(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changeset::TextFile;

    fn manifest(text: &str) -> LocalManifest {
        LocalManifest {
            file: TextFile::unsaved("Cargo.toml", text),
            document: text.parse().unwrap(),
        }
    }

    #[test]
    fn fresh_package_gets_the_whole_stack_in_order() {
        let mut m = manifest("[package]\nname = \"demo\"\n\n[dependencies]\n");
        let changes = add_stack(&mut m, None, false).unwrap();
        assert_eq!(changes.len(), STACK.len());
        let text = m.contents();
        assert!(text.contains("tracing = \"0.1.44\"\n"), "{text}");
        assert!(
            text.contains(
                "tracing-subscriber = { version = \"0.3.23\", features = [\"env-filter\"] }"
            ),
            "{text}"
        );
        assert!(
            text.contains("tokio = { version = \"1.54.1\", features = [\"rt-multi-thread\"] }"),
            "{text}"
        );
    }

    #[test]
    fn existing_compatible_dependency_only_gains_features() {
        let mut m =
            manifest("[dependencies]\ntokio = { version = \"1\", features = [\"macros\"] } # rt\n");
        add_stack(&mut m, None, false).unwrap();
        let text = m.contents();
        assert!(
            text.contains(
                "tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] } # rt\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn incompatible_versions_are_listed_and_force_upgrades_them() {
        let text = "[dependencies]\nopentelemetry = \"0.30\"\ntracing-opentelemetry = { version = \"0.31\" }\n";
        let error = add_stack(&mut manifest(text), None, false)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("opentelemetry = \"0.30\" in [dependencies], needs 0.33.1"),
            "{error}"
        );
        assert!(
            error.contains("tracing-opentelemetry = \"0.31\""),
            "{error}"
        );
        let mut m = manifest(text);
        add_stack(&mut m, None, true).unwrap();
        assert!(
            m.contents().contains("\nopentelemetry = \"0.33.1\"\n"),
            "{}",
            m.contents()
        );
    }

    #[test]
    fn workspace_dependencies_receive_new_crates() {
        let mut root = manifest(
            "[workspace]\nmembers = [\"app\"]\n\n[workspace.dependencies]\ntokio = \"1\"\n",
        );
        let mut member =
            manifest("[package]\nname = \"app\"\n\n[dependencies]\ntokio.workspace = true\n");
        add_stack(&mut member, Some(&mut root), false).unwrap();
        let (root, member) = (root.contents(), member.contents());
        assert!(
            root.contains("opentelemetry = { version = \"0.33.1\", default-features = false"),
            "{root}"
        );
        assert!(
            member.contains("opentelemetry.workspace = true"),
            "{member}"
        );
        assert!(
            member.contains("tokio = { workspace = true, features = [\"rt-multi-thread\"] }"),
            "{member}"
        );
    }

    #[test]
    fn sorted_tables_stay_sorted() {
        let mut m = manifest("[dependencies]\naaa = \"1\"\nzzz = \"1\"\n");
        add_stack(&mut m, None, false).unwrap();
        let text = m.contents();
        let keys: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
    }
}
