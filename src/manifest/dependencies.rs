//! Adding the pinned stack to a package, the way `cargo add` would, plus what
//! `cargo add` cannot do: put new crates in `[workspace.dependencies]` and
//! inherit them with `name.workspace = true`.
//!
//! Rules (cargo's `formatting.md`): an existing dependency keeps its form and
//! place and only gains missing features; a table is re-sorted only if it was
//! sorted; new entries use the shortest form.
//!
//! Every dependency table of the package counts, whatever its name:
//! `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, each also
//! under `[target.'cfg(..)']`. A crate the program links at a version the
//! module cannot use is a conflict wherever it is declared; a declaration the
//! module cannot rely on (optional, or for one platform only) stays as it is,
//! and one the module can rely on is added beside it.

use std::{collections::BTreeSet, fmt};

use anyhow::bail;
use toml_edit::{Array, DocumentMut, InlineTable, Item, TableLike, Value};

use super::{LocalManifest, PinnedDependency, STACK};

/// Where the program's crates go: `[dependencies]`, or for an example
/// `[dev-dependencies]`, which examples link and a library's users never
/// build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Home {
    #[default]
    Dependencies,
    DevDependencies,
}

impl Home {
    fn kind(self) -> Kind {
        match self {
            Self::Dependencies => Kind::Normal,
            Self::DevDependencies => Kind::Dev,
        }
    }

    /// Whether the program links the crates of a table of `kind`.
    fn links(self, kind: Kind) -> bool {
        match self {
            Self::Dependencies => kind == Kind::Normal,
            Self::DevDependencies => matches!(kind, Kind::Normal | Kind::Dev),
        }
    }
}

/// One edit, for the status line that reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyChange {
    Added {
        name: &'static str,
        version: String,
        table: String,
    },
    /// Added to `[workspace.dependencies]` and inherited by the member.
    AddedToWorkspace {
        name: &'static str,
        version: String,
        table: String,
    },
    Inherited {
        name: &'static str,
        table: String,
    },
    FeaturesAdded {
        name: &'static str,
        features: Vec<&'static str>,
        /// Set when they come with a new entry in this table (an example's
        /// dev-dependency beside the library's own entry).
        beside: Option<String>,
    },
    Upgraded {
        name: &'static str,
        from: String,
        to: String,
    },
    /// Features an upgraded crate no longer has.
    FeaturesDropped {
        name: &'static str,
        features: Vec<String>,
    },
    /// An optional dependency, off by default, at a version the module
    /// cannot use: kept as it is.
    OptionalKept {
        name: &'static str,
        found: String,
        table: String,
        /// The package's features that turn it on.
        features: Vec<String>,
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
            } => (
                "Adding",
                format!("{name} {version} to {table}{}", beside(table)),
            ),
            Self::AddedToWorkspace {
                name,
                version,
                table,
            } => {
                let place = match table.as_str() {
                    "dependencies" => String::new(),
                    other => format!(" in {other}"),
                };
                (
                    "Adding",
                    format!("{name} {version} to workspace.dependencies, inherited{place}"),
                )
            }
            Self::Inherited { name, table } => (
                "Adding",
                format!("{name} (workspace) to {table}{}", beside(table)),
            ),
            Self::FeaturesAdded {
                name,
                features,
                beside: None,
            } => (
                "Updating",
                format!("{name} with features {}", features.join(", ")),
            ),
            Self::FeaturesAdded {
                name,
                features,
                beside: Some(table),
            } => (
                "Adding",
                format!(
                    "{name} to {table} with features {} (the library's entry stays as it is)",
                    features.join(", ")
                ),
            ),
            Self::Upgraded { name, from, to } => ("Upgrading", format!("{name} {from} -> {to}")),
            Self::OptionalKept { name, found, .. } => (
                "Keeping",
                format!("{name} {found} (optional, off by default)"),
            ),
            Self::FeaturesDropped { name, features } => {
                let list: Vec<String> = features.iter().map(|f| format!("`{f}`")).collect();
                let (what, none) = match features.len() {
                    1 => ("feature", "no such feature"),
                    _ => ("features", "none of these"),
                };
                (
                    "Removing",
                    format!(
                        "{what} {} of {name}: the new version has {none}",
                        list.join(", ")
                    ),
                )
            }
        }
    }
}

/// One warning for the optional dependencies kept at versions the module
/// cannot use: the package builds and exports, but a build with the features
/// that turn them on meets two versions of the same crate.
pub fn optional_kept_warning(changes: &[DependencyChange]) -> Option<String> {
    let mut crates = Vec::new();
    let mut features: Vec<&str> = Vec::new();
    for change in changes {
        if let DependencyChange::OptionalKept {
            name,
            found,
            table,
            features: enabling,
        } = change
        {
            crates.push(format!("{name} = \"{found}\" in [{table}]"));
            for feature in enabling {
                if !features.contains(&feature.as_str()) {
                    features.push(feature);
                }
            }
        }
    }
    if crates.is_empty() {
        return None;
    }
    let features: Vec<String> = features.iter().map(|f| format!("`{f}`")).collect();
    Some(format!(
        "kept the optional {}: the package builds and exports as it is, but with feature {} \
         two versions of a crate meet and it does not compile\n\
         help: move that feature's code to OpenTelemetry {} to use both",
        crates.join(", "),
        features.join(" or "),
        STACK[0].version,
    ))
}

/// Why a crate went to the always-true target table.
fn beside(table: &str) -> &'static str {
    match table.contains(ALWAYS) {
        true => " (always on; your optional one stays as it is)",
        false => "",
    }
}

/// A dependency the user has at a version our module cannot work with.
#[derive(Debug)]
struct Conflict {
    name: &'static str,
    found: String,
    needed: &'static str,
    table: String,
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

/// Adds the crates of [`STACK`] a module with or without `exit_hooks`
/// needs (see [`super::stack_for`]) to `member`'s `[dependencies]`. See
/// [`add_dependencies`].
pub fn add_stack(
    member: &mut LocalManifest,
    workspace: Option<&mut LocalManifest>,
    exit_hooks: bool,
    force: bool,
) -> anyhow::Result<Vec<DependencyChange>> {
    let stack = super::stack_for(exit_hooks);
    add_dependencies(member, workspace, stack, Home::Dependencies, force)
}

/// Adds the pinned crates (the stack plus the instrumentation for the
/// frameworks found) to `member`, for a program whose crates go to `home`.
/// `workspace` is the workspace root's manifest when it is another file;
/// with `[workspace.dependencies]` there, new crates go there and the member
/// inherits them.
///
/// Incompatible versions are an error naming each crate and where it is
/// declared, unless `force`, which upgrades them. Nothing is written here:
/// the caller writes the documents, or not.
pub fn add_dependencies(
    member: &mut LocalManifest,
    workspace: Option<&mut LocalManifest>,
    dependencies: impl IntoIterator<Item = &'static PinnedDependency>,
    home: Home,
    force: bool,
) -> anyhow::Result<Vec<DependencyChange>> {
    let mut docs = Docs {
        member: &mut member.document,
        workspace: workspace.map(|w| &mut w.document),
        home,
    };
    let mut changes = Vec::new();
    let mut conflicts = Vec::new();
    for dependency in dependencies {
        let outcome = docs.add(dependency, force)?;
        changes.extend(outcome.changes);
        conflicts.extend(outcome.conflicts);
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
    let key = table
        .iter()
        .find(|(key, item)| package_name(key, item) == name)?
        .0;
    let item = table.get(key)?;
    if !inherits(item) {
        return Some(Declared {
            version: version(item),
            features: features(item),
            default_features: default_features(item),
        });
    }
    let root = workspace.map_or(&member.document, |w| &w.document);
    let shared_item = shared_dependencies(root)?.get(key)?;
    let mut all_features = features(shared_item);
    all_features.extend(features(item));
    Some(Declared {
        version: version(shared_item),
        features: all_features,
        default_features: default_features(shared_item),
    })
}

/// The target table that applies on every platform: for a crate that must
/// be there whatever the features, when `[dependencies]` already has an
/// optional one under that name.
const ALWAYS: &str = "cfg(all())";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Dev,
    Build,
}

/// A dependency table of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Table {
    /// `cfg(unix)` for `[target.'cfg(unix)'.dependencies]`.
    target: Option<String>,
    /// The key as the manifest spells it (`dev-dependencies`, `dev_dependencies`).
    key: String,
    kind: Kind,
}

impl Table {
    const KEYS: [(&'static str, Kind); 5] = [
        ("dependencies", Kind::Normal),
        ("dev-dependencies", Kind::Dev),
        ("dev_dependencies", Kind::Dev),
        ("build-dependencies", Kind::Build),
        ("build_dependencies", Kind::Build),
    ];

    /// The table of `doc` (under `target`) new crates of `home` go to,
    /// spelled as `doc` already spells it (`dev_dependencies` in old
    /// manifests: cargo refuses both spellings at once).
    fn home(doc: &DocumentMut, home: Home, target: Option<&str>) -> Self {
        let spelled = Self::all(doc)
            .into_iter()
            .find(|t| t.kind == home.kind() && t.target.as_deref() == target);
        spelled.unwrap_or_else(|| Self {
            target: target.map(str::to_owned),
            key: match home {
                Home::Dependencies => "dependencies",
                Home::DevDependencies => "dev-dependencies",
            }
            .to_owned(),
            kind: home.kind(),
        })
    }

    /// Whether its crates are there on every platform.
    fn everywhere(&self) -> bool {
        self.target.as_deref().is_none_or(|t| t == ALWAYS)
    }

    /// Every dependency table `doc` has.
    fn all(doc: &DocumentMut) -> Vec<Self> {
        let mut tables = Vec::new();
        let mut add = |target: Option<&str>, parent: &dyn TableLike| {
            for (key, kind) in Self::KEYS {
                if parent.get(key).is_some_and(|t| t.is_table_like()) {
                    tables.push(Self {
                        target: target.map(str::to_owned),
                        key: key.to_owned(),
                        kind,
                    });
                }
            }
        };
        add(None, doc.as_table());
        let targets = doc.get("target").and_then(Item::as_table_like);
        for (cfg, item) in targets.into_iter().flat_map(|t| t.iter()) {
            if let Some(table) = item.as_table_like() {
                add(Some(cfg), table);
            }
        }
        tables
    }

    fn get<'d>(&self, doc: &'d DocumentMut) -> Option<&'d dyn TableLike> {
        let parent = match &self.target {
            None => doc.as_table() as &dyn TableLike,
            Some(cfg) => doc.get("target")?.get(cfg)?.as_table_like()?,
        };
        parent.get(&self.key)?.as_table_like()
    }

    /// The table, created (with its `[target.'..']` parents) if missing.
    fn get_or_create<'d>(&self, doc: &'d mut DocumentMut) -> anyhow::Result<&'d mut dyn TableLike> {
        let parent: &mut dyn TableLike = match &self.target {
            None => doc.as_table_mut(),
            Some(cfg) => {
                let targets = implicit_table(doc.as_table_mut(), "target")?;
                implicit_table(targets, cfg)?
            }
        };
        let item = parent.entry(&self.key).or_insert_with(toml_edit::table);
        match item.as_table_like_mut() {
            Some(table) => Ok(table),
            None => bail!("`{self}` in the manifest is not a table"),
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            None => write!(f, "{}", self.key),
            Some(cfg) => {
                let bare = cfg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                match bare {
                    true => write!(f, "target.{cfg}.{}", self.key),
                    false => write!(f, "target.'{cfg}'.{}", self.key),
                }
            }
        }
    }
}

/// `parent[key]` as a table that gets no header of its own (`[target]`),
/// its key written the way cargo's documentation does (`'cfg(unix)'`).
fn implicit_table<'t>(
    parent: &'t mut dyn TableLike,
    key: &str,
) -> anyhow::Result<&'t mut dyn TableLike> {
    let literal = format!("'{key}'").parse::<toml_edit::Key>();
    let key = match literal {
        Ok(quoted)
            if !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            quoted
        }
        _ => toml_edit::Key::new(key),
    };
    let item = parent.entry_format(&key).or_insert_with(|| {
        let mut table = toml_edit::Table::new();
        table.set_implicit(true);
        Item::Table(table)
    });
    match item.as_table_like_mut() {
        Some(table) => Ok(table),
        None => bail!("`{key}` in the manifest is not a table"),
    }
}

/// One declaration of a crate in one of the package's tables.
#[derive(Debug, Clone)]
struct Declaration {
    table: Table,
    key: String,
    /// Declared under another name (`key = { package = "name" }`).
    renamed: bool,
    optional: bool,
    /// Not optional, or turned on by the default features.
    on_by_default: bool,
    /// `workspace = true`: the version lives in `[workspace.dependencies]`.
    inherits: bool,
}

struct Docs<'a> {
    member: &'a mut DocumentMut,
    workspace: Option<&'a mut DocumentMut>,
    home: Home,
}

#[derive(Default)]
struct Outcome {
    changes: Vec<DependencyChange>,
    conflicts: Vec<Conflict>,
}

impl Docs<'_> {
    fn workspace_doc(&self) -> &DocumentMut {
        self.workspace.as_deref().unwrap_or(self.member)
    }

    fn workspace_dependencies(&mut self) -> Option<&mut dyn TableLike> {
        let doc = match &mut self.workspace {
            Some(workspace) => &mut **workspace,
            None => &mut *self.member,
        };
        doc.get_mut("workspace")?
            .get_mut("dependencies")?
            .as_table_like_mut()
    }

    /// Every declaration of crate `name` in the member's tables.
    fn declarations(&self, name: &str) -> Vec<Declaration> {
        let shared = shared_dependencies(self.workspace_doc());
        let default_on = enabled_by_default(self.member);
        let mut found = Vec::new();
        for table in Table::all(self.member) {
            let Some(entries) = table.get(self.member) else {
                continue;
            };
            for (key, item) in entries.iter() {
                let inherits = inherits(item);
                // `key.workspace = true` names the shared entry, which may
                // itself rename the crate.
                let package = match shared.and_then(|s| s.get(key)).filter(|_| inherits) {
                    Some(shared) => package_name(key, shared),
                    None => package_name(key, item),
                };
                if package == name {
                    let optional = flag(item, "optional").unwrap_or(false);
                    found.push(Declaration {
                        table: table.clone(),
                        key: key.to_owned(),
                        renamed: key != name,
                        optional,
                        on_by_default: !optional || default_on.contains(key),
                        inherits,
                    });
                }
            }
        }
        found
    }

    fn item(&self, declaration: &Declaration) -> Option<&Item> {
        declaration.table.get(self.member)?.get(&declaration.key)
    }

    /// The item that holds the declaration's version: the shared one for an
    /// inherited declaration.
    fn version_item(&self, declaration: &Declaration) -> Option<&Item> {
        match declaration.inherits {
            true => shared_dependencies(self.workspace_doc())?.get(&declaration.key),
            false => self.item(declaration),
        }
    }

    fn version_item_mut(&mut self, declaration: &Declaration) -> Option<&mut Item> {
        if declaration.inherits {
            return self.workspace_dependencies()?.get_mut(&declaration.key);
        }
        let table = declaration.table.get_or_create(self.member).ok()?;
        table.get_mut(&declaration.key)
    }

    fn add(
        &mut self,
        dependency: &'static PinnedDependency,
        force: bool,
    ) -> anyhow::Result<Outcome> {
        let declarations = self.declarations(dependency.name);
        self.refuse_renamed(dependency, &declarations)?;
        let mut outcome = Outcome::default();
        self.check_versions(dependency, &declarations, force, &mut outcome);
        let home = self.home;
        // What the module can rely on: linked, under its own name, whatever
        // the features, on every platform.
        let relied_on: Vec<&Declaration> = declarations
            .iter()
            .filter(|d| home.links(d.table.kind) && !d.renamed && !d.optional)
            .filter(|d| d.table.everywhere())
            .collect();
        match relied_on.is_empty() {
            true => self.add_missing(dependency, &declarations, &mut outcome)?,
            false => self.add_missing_features(dependency, &relied_on, &mut outcome)?,
        }
        Ok(outcome)
    }

    /// Every declaration the program links by default must accept our
    /// version (an inherited one is checked once, in the workspace).
    fn check_versions(
        &mut self,
        dependency: &'static PinnedDependency,
        declarations: &[Declaration],
        force: bool,
        outcome: &mut Outcome,
    ) {
        let home = self.home;
        let mut shared_checked = false;
        let linked = declarations
            .iter()
            .filter(|d| home.links(d.table.kind) && !d.renamed);
        for declaration in linked {
            if !declaration.on_by_default {
                self.note_optional(dependency, declaration, outcome);
                continue;
            }
            if declaration.inherits && std::mem::replace(&mut shared_checked, true) {
                continue;
            }
            let table = match declaration.inherits {
                true => "workspace.dependencies".to_owned(),
                false => declaration.table.to_string(),
            };
            // A broken inheritance is cargo's to report.
            if let Some(item) = self.version_item_mut(declaration) {
                outcome.check_version(item, dependency, force, table);
            }
        }
    }

    /// The features `relied_on` lack together, added to the first of them in
    /// the home table.
    fn add_missing_features(
        &mut self,
        dependency: &'static PinnedDependency,
        relied_on: &[&Declaration],
        outcome: &mut Outcome,
    ) -> anyhow::Result<()> {
        let mut present = Vec::new();
        let mut defaults = false;
        for declaration in relied_on {
            present.extend(self.item(declaration).map(features).unwrap_or_default());
            if let Some(item) = self.version_item(declaration) {
                defaults |= default_features(item);
                if declaration.inherits {
                    present.extend(features(item));
                }
            }
        }
        let missing = dependency.missing_features(&present, defaults);
        if missing.is_empty() {
            return Ok(());
        }
        let kind = self.home.kind();
        let beside = match relied_on.iter().find(|d| d.table.kind == kind) {
            Some(declaration) => {
                let table = declaration.table.get_or_create(self.member)?;
                add_features(table, &declaration.key, &missing);
                None
            }
            // An example whose crate is in `[dependencies]`: a library's
            // users should not build more for it, so a dev-dependency of the
            // same source brings the features.
            None => {
                let item = self.item(relied_on[0]).cloned().unwrap_or_default();
                let home = Table::home(self.member, self.home, None);
                let table = home.get_or_create(self.member)?;
                insert_dependency(table, dependency.name, with_features_only(&item, &missing));
                Some(home.to_string())
            }
        };
        outcome.changes.push(DependencyChange::FeaturesAdded {
            name: dependency.name,
            features: missing,
            beside,
        });
        Ok(())
    }

    /// An optional dependency the default features leave off is not the
    /// program's unless asked for: at a version the module cannot use, it is
    /// kept, and the user told which features would bring it in.
    fn note_optional(
        &self,
        dependency: &'static PinnedDependency,
        declaration: &Declaration,
        outcome: &mut Outcome,
    ) {
        let Some(found) = self.version_item(declaration).and_then(version) else {
            return;
        };
        if !dependency.check_version || dependency.accepts(&found) {
            return;
        }
        outcome.changes.push(DependencyChange::OptionalKept {
            name: dependency.name,
            found,
            table: declaration.table.to_string(),
            features: features_enabling(self.member, &declaration.key),
        });
    }

    /// The module names each crate by its own name, and cargo refuses one
    /// crate under two names: a renamed declaration the program links, or
    /// one cargo would unify with ours, leaves no way to add ours.
    fn refuse_renamed(
        &self,
        dependency: &PinnedDependency,
        declarations: &[Declaration],
    ) -> anyhow::Result<()> {
        let name = dependency.name;
        let blocking = declarations.iter().filter(|d| d.renamed).find(|d| {
            let version = self.version_item(d).and_then(version);
            self.home.links(d.table.kind) || version.is_none_or(|v| dependency.accepts(&v))
        });
        let Some(Declaration { table, key, .. }) = blocking else {
            return Ok(());
        };
        bail!(
            "[{table}] has `{name}` renamed to `{key}`, but the generated module refers to it as `{name}`\n\
             help: rename the dependency back to `{name}` (`use {krate} as {alias};` keeps your code's name)",
            krate = name.replace('-', "_"),
            alias = key.replace('-', "_"),
        )
    }

    /// No declaration the program can rely on: inherit the crate from the
    /// workspace (adding it there first if needed), or add it to the home
    /// table. Where that table already has it as an optional dependency,
    /// the new one goes to `[target.'cfg(all())'.<table>]`, so the optional
    /// one keeps its meaning for the package's features.
    fn add_missing(
        &mut self,
        dependency: &'static PinnedDependency,
        declarations: &[Declaration],
        outcome: &mut Outcome,
    ) -> anyhow::Result<()> {
        let name = dependency.name;
        let home = Table::home(self.member, self.home, None);
        let taken = declarations
            .iter()
            .any(|d| d.table.target.is_none() && d.table.kind == home.kind && d.key == name);
        let table = match taken {
            true => Table::home(self.member, self.home, Some(ALWAYS)),
            false => home,
        };
        let shown = table.to_string();
        let Some(workspace) = self.workspace_dependencies() else {
            let created = table.get(self.member).is_none();
            let entries = table.get_or_create(self.member)?;
            insert_dependency(entries, name, new_spec(dependency));
            if created && taken {
                explain_always_table(self.member);
            }
            outcome.changes.push(DependencyChange::Added {
                name,
                version: dependency.display_version(),
                table: shown,
            });
            return Ok(());
        };
        let missing = match workspace.get_mut(name) {
            Some(item) if package_name(name, item) == name => {
                outcome.check_version(item, dependency, false, "workspace.dependencies".to_owned());
                dependency.missing_features(&features(item), default_features(item))
            }
            Some(_) => bail!(
                "[workspace.dependencies] has `{name}` for another crate\n\
                 help: rename that entry so `{name}` can be shared"
            ),
            None => {
                insert_dependency(workspace, name, new_spec(dependency));
                let version = dependency.display_version();
                outcome.changes.push(DependencyChange::AddedToWorkspace {
                    name,
                    version,
                    table: shown,
                });
                let entries = table.get_or_create(self.member)?;
                insert_dependency(entries, name, inherit_spec(&[]));
                return Ok(());
            }
        };
        let entries = table.get_or_create(self.member)?;
        insert_dependency(entries, name, inherit_spec(&missing));
        outcome
            .changes
            .push(DependencyChange::Inherited { name, table: shown });
        Ok(())
    }
}

impl Outcome {
    /// Records a conflict, or with `force` upgrades the requirement in place
    /// (dropping the features the new version does not have).
    fn check_version(
        &mut self,
        item: &mut Item,
        dependency: &'static PinnedDependency,
        force: bool,
        table: String,
    ) {
        if !dependency.check_version {
            return;
        }
        let Some(found) = version(item) else {
            return; // A path or git dependency: its version is the user's call.
        };
        if dependency.accepts(&found) {
            return;
        }
        let name = dependency.name;
        if !force {
            let needed = dependency.version;
            self.conflicts.push(Conflict {
                name,
                found,
                needed,
                table,
            });
            return;
        }
        set_version(item, dependency.version);
        let to = dependency.version.to_owned();
        self.changes.push(DependencyChange::Upgraded {
            name,
            from: found,
            to,
        });
        let dropped = remove_features(item, |f| !dependency.has_feature(f));
        if !dropped.is_empty() {
            self.changes.push(DependencyChange::FeaturesDropped {
                name,
                features: dropped,
            });
        }
    }
}

/// The keys of the optional dependencies the default features turn on.
fn enabled_by_default(doc: &DocumentMut) -> BTreeSet<String> {
    enabled_by(doc, "default")
}

/// The keys of the optional dependencies feature `start` turns on, directly
/// or through other features (`dep:name`, `name`, `name/feature`; not the
/// weak `name?/feature`).
fn enabled_by(doc: &DocumentMut, start: &str) -> BTreeSet<String> {
    let features = doc.get("features").and_then(Item::as_table_like);
    let mut seen = BTreeSet::new();
    let mut enabled = BTreeSet::new();
    let mut pending = vec![start.to_owned()];
    while let Some(feature) = pending.pop() {
        if !seen.insert(feature.clone()) {
            continue;
        }
        let list = features
            .and_then(|f| f.get(&feature))
            .and_then(Item::as_array);
        let Some(list) = list else {
            // An optional dependency's own implicit feature.
            enabled.insert(feature);
            continue;
        };
        for item in list.iter().filter_map(Value::as_str) {
            if let Some(dependency) = item.strip_prefix("dep:") {
                enabled.insert(dependency.to_owned());
            } else if let Some((dependency, _)) = item.split_once('/') {
                if !dependency.ends_with('?') {
                    enabled.insert(dependency.to_owned());
                }
            } else {
                pending.push(item.to_owned());
            }
        }
    }
    enabled
}

/// The package's features that turn on optional dependency `key`.
fn features_enabling(doc: &DocumentMut, key: &str) -> Vec<String> {
    let features = doc.get("features").and_then(Item::as_table_like);
    let names = features
        .into_iter()
        .flat_map(|f| f.iter().map(|(name, _)| name));
    let mut enabling: Vec<String> = names
        .filter(|name| *name != "default" && enabled_by(doc, name).contains(key))
        .map(str::to_owned)
        .collect();
    if enabling.is_empty() {
        enabling.push(key.to_owned());
    }
    enabling
}

/// The package names of the crates `member` declares but a program whose
/// crates go to `home` does not link: only optional dependencies the default
/// features leave off, or only in tables it does not build with
/// (`[build-dependencies]`, or `[dev-dependencies]` for a binary). A
/// resolved graph holds them all.
pub fn not_linked(
    member: &LocalManifest,
    workspace: Option<&LocalManifest>,
    home: Home,
) -> Vec<String> {
    let default_on = enabled_by_default(&member.document);
    let shared = shared_dependencies(workspace.map_or(&member.document, |w| &w.document));
    let mut on = BTreeSet::new();
    let mut off = BTreeSet::new();
    for table in Table::all(&member.document) {
        let Some(entries) = table.get(&member.document) else {
            continue;
        };
        for (key, item) in entries.iter() {
            let package = match shared.and_then(|s| s.get(key)).filter(|_| inherits(item)) {
                Some(shared) => package_name(key, shared),
                None => package_name(key, item),
            };
            let optional = flag(item, "optional").unwrap_or(false);
            let linked = home.links(table.kind) && (!optional || default_on.contains(key));
            match linked {
                true => on.insert(package.to_owned()),
                false => off.insert(package.to_owned()),
            };
        }
    }
    off.difference(&on).cloned().collect()
}

/// The crate an entry stands for: its `package`, else its key.
fn package_name<'a>(key: &'a str, item: &'a Item) -> &'a str {
    let package = item
        .as_table_like()
        .and_then(|t| t.get("package"))
        .and_then(Item::as_str);
    package.unwrap_or(key)
}

fn shared_dependencies(doc: &DocumentMut) -> Option<&dyn TableLike> {
    doc.get("workspace")?.get("dependencies")?.as_table_like()
}

fn flag(item: &Item, key: &str) -> Option<bool> {
    item.as_table_like()
        .and_then(|t| t.get(key))
        .and_then(Item::as_bool)
}

/// A comment over the `[target.'cfg(all())'...]` table, which would puzzle
/// a reader otherwise.
fn explain_always_table(doc: &mut DocumentMut) {
    let Some(table) = doc
        .get_mut("target")
        .and_then(|t| t.get_mut(ALWAYS))
        .and_then(Item::as_table_like_mut)
    else {
        return;
    };
    for (_, item) in table.iter_mut() {
        if let Some(table) = item.as_table_mut()
            && table.decor().prefix().is_none()
        {
            table.decor_mut().set_prefix(
                "\n# On every platform and whatever the features: the `otel` module needs\n\
                 # these crates, and an optional dependency may be off.\n",
            );
        }
    }
}

/// A copy of a dependency's entry (its version, path, git, registry and
/// default-features) with only `features` as its features.
fn with_features_only(item: &Item, features: &[&str]) -> Value {
    let mut spec = InlineTable::new();
    match item {
        Item::Value(Value::String(version)) => {
            spec.insert("version", Value::from(version.value().as_str()));
        }
        _ => {
            for (key, value) in item.as_table_like().into_iter().flat_map(|t| t.iter()) {
                let skip = matches!(key, "features" | "optional" | "package");
                if let (false, Some(value)) = (skip, value.as_value()) {
                    let mut value = value.clone();
                    value.decor_mut().clear();
                    spec.insert(key, value);
                }
            }
        }
    }
    spec.insert("features", Value::Array(features.iter().copied().collect()));
    spec.fmt();
    Value::InlineTable(spec)
}

/// Removes the features `drop` picks; returns them.
fn remove_features(item: &mut Item, drop: impl Fn(&str) -> bool) -> Vec<String> {
    let Some(array) = item
        .as_table_like_mut()
        .and_then(|t| t.get_mut("features"))
        .and_then(Item::as_array_mut)
    else {
        return Vec::new();
    };
    let dropped: Vec<String> = array
        .iter()
        .filter_map(Value::as_str)
        .filter(|f| drop(f))
        .map(str::to_owned)
        .collect();
    array.retain(|v| v.as_str().is_none_or(|f| !drop(f)));
    array.fmt();
    if let Some(inline) = item.as_inline_table_mut() {
        inline.fmt();
    }
    dropped
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
    flag(item, "default-features")
        .or_else(|| flag(item, "default_features"))
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
        let changes = add_stack(&mut m, None, true, false).unwrap();
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
        add_stack(&mut m, None, true, false).unwrap();
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
        let error = add_stack(&mut manifest(text), None, true, false)
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
        add_stack(&mut m, None, true, true).unwrap();
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
        add_stack(&mut member, Some(&mut root), true, false).unwrap();
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
        add_stack(&mut m, None, true, false).unwrap();
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

    #[test]
    fn target_specific_versions_are_checked_and_forced_there() {
        let text =
            "[dependencies]\n\n[target.'cfg(unix)'.dependencies]\nopentelemetry = \"0.20\"\n";
        let error = add_stack(&mut manifest(text), None, true, false)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("opentelemetry = \"0.20\" in [target.'cfg(unix)'.dependencies]"),
            "{error}"
        );
        let mut m = manifest(text);
        add_stack(&mut m, None, true, true).unwrap();
        let text = m.contents();
        assert!(
            text.contains("[target.'cfg(unix)'.dependencies]\nopentelemetry = \"0.33.1\"\n"),
            "{text}"
        );
        // Only on unix there: the module needs it everywhere.
        let (everywhere, _) = text.split_once("[target.").unwrap();
        assert!(
            everywhere.contains("\nopentelemetry = { version = \"0.33.1\""),
            "{text}"
        );
    }

    #[test]
    fn renamed_crates_in_any_table_are_refused() {
        for table in [
            "dependencies",
            "target.'cfg(unix)'.dependencies",
            "build-dependencies",
        ] {
            let text = format!(
                "[{table}]\notel = {{ package = \"opentelemetry\", version = \"0.33\" }}\n"
            );
            let error = add_stack(&mut manifest(&text), None, true, false)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(&format!("[{table}] has `opentelemetry` renamed to `otel`")),
                "{error}"
            );
        }
        // Another version, in a table a binary does not link: cargo keeps them apart.
        let text =
            "[dev-dependencies]\nold = { package = \"opentelemetry\", version = \"0.20\" }\n";
        add_stack(&mut manifest(text), None, true, false).unwrap();
    }

    #[test]
    fn an_optional_dependency_is_kept_and_an_always_on_one_added_beside_it() {
        let text = "[dependencies]\ntracing-subscriber = { version = \"0.3\", optional = true }\n\n\
                    [features]\nlogging = [\"dep:tracing-subscriber\"]\n";
        let mut m = manifest(text);
        let changes = add_stack(&mut m, None, true, false).unwrap();
        let text = m.contents();
        assert!(
            text.contains("tracing-subscriber = { version = \"0.3\", optional = true }"),
            "{text}"
        );
        assert!(
            text.contains(
                "[target.'cfg(all())'.dependencies]\ntracing-subscriber = { version = \"0.3.23\", features = [\"env-filter\"] }\n"
            ),
            "{text}"
        );
        assert!(
            changes.contains(&DependencyChange::Added {
                name: "tracing-subscriber",
                version: "v0.3.23".into(),
                table: "target.'cfg(all())'.dependencies".into(),
            }),
            "{changes:?}"
        );
        // Again: nothing more to do.
        assert!(add_stack(&mut m, None, true, false).unwrap().is_empty());
    }

    #[test]
    fn an_old_optional_dependency_off_by_default_is_kept_with_a_warning() {
        let text = "[dependencies]\nopentelemetry = { version = \"0.20\", optional = true }\n\n\
                    [features]\notel = [\"dep:opentelemetry\"]\n";
        let changes = add_stack(&mut manifest(text), None, true, false).unwrap();
        let warning = optional_kept_warning(&changes).unwrap();
        assert!(
            warning.contains("opentelemetry = \"0.20\" in [dependencies]")
                && warning.contains("with feature `otel`"),
            "{warning}"
        );
        // Turned on by default, it is the program's: a conflict.
        let on = text.replace("[features]\n", "[features]\ndefault = [\"otel\"]\n");
        assert!(add_stack(&mut manifest(&on), None, true, false).is_err());
    }

    #[test]
    fn default_features_are_followed_to_the_optional_dependencies_they_enable() {
        let doc: DocumentMut = "[features]\ndefault = [\"a\"]\na = [\"b\", \"x/f\", \"y?/f\"]\nb = [\"dep:z\"]\nc = [\"dep:w\"]\n"
            .parse()
            .unwrap();
        let on: Vec<String> = enabled_by_default(&doc).into_iter().collect();
        assert_eq!(on, ["x", "z"]);
        assert_eq!(features_enabling(&doc, "z"), ["a", "b"]);
    }

    #[test]
    fn an_example_gets_dev_dependencies_and_leaves_the_library_alone() {
        let text = "[dependencies]\ntokio = { version = \"1\", features = [\"sync\"] }\n";
        let mut m = manifest(text);
        add_dependencies(&mut m, None, STACK.iter(), Home::DevDependencies, false).unwrap();
        let text = m.contents();
        assert!(
            text.starts_with(
                "[dependencies]\ntokio = { version = \"1\", features = [\"sync\"] }\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("[dev-dependencies]\n")
                && text.contains("opentelemetry = { version = \"0.33.1\"")
                && text.contains("tokio = { version = \"1\", features = [\"rt-multi-thread\"] }"),
            "{text}"
        );
    }

    #[test]
    fn force_drops_features_the_new_version_does_not_have() {
        let text = "[dependencies]\nopentelemetry = { version = \"0.20\", features = [\"rt-tokio\", \"trace\"] }\n";
        let mut m = manifest(text);
        let changes = add_stack(&mut m, None, true, true).unwrap();
        assert!(
            m.contents()
                .contains("\nopentelemetry = { version = \"0.33.1\", features = [\"trace\"] }\n"),
            "{}",
            m.contents()
        );
        assert!(changes.contains(&DependencyChange::FeaturesDropped {
            name: "opentelemetry",
            features: vec!["rt-tokio".into()],
        }));
    }

    #[test]
    fn an_old_spelling_of_the_table_is_kept() {
        let mut m = manifest("[dev_dependencies]\ntracing = \"0.1\"\n");
        add_dependencies(&mut m, None, STACK.iter(), Home::DevDependencies, false).unwrap();
        let text = m.contents();
        assert!(!text.contains("[dev-dependencies]"), "{text}");
        assert!(
            text.starts_with("[dev_dependencies]\nlibc = ") && text.contains("\nopentelemetry = "),
            "{text}"
        );
    }
}
