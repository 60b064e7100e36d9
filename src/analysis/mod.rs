//! What a program's source does, read with syn across every module its
//! binary compiles (and the package's library, which it may call into): the
//! module tree, the functions `main` reaches, where logging is set up, where
//! the web or gRPC app is built, what `main` does with `otel::init`.
//!
//! `wiring` uses it to decide where to edit, `doctor` to explain what is
//! wrong; both therefore see the same program.

pub mod apps;
mod calls;
pub mod cfg;
mod flow;
mod hyper;
pub mod installs;
pub mod main_fn;
mod serving;
mod setups;
mod tree;

use std::path::{Path, PathBuf};

pub use calls::{Call, FnId, Function, Reach};
pub use flow::Origin;
pub use installs::{Global, Kind, Site};
pub use setups::{Built, built_from};
pub use tree::{CrateKind, Module, SourceFile};
pub(crate) use tree::{parse, path_attribute};

use crate::{
    paths,
    project::{Project, Target},
};

/// What to read: a crate root, and the package around it.
#[derive(Debug, Clone)]
pub struct Input {
    /// The root file of the crate to read: a binary's `main.rs`, or a
    /// library's `lib.rs` when the package is only a library.
    pub root: PathBuf,
    /// Whether the root is a program (it has a `main` to follow).
    pub program: bool,
    /// The package's library (its crate name and root file) when the root is
    /// a program: the program may call into it.
    pub lib: Option<(String, PathBuf)>,
    /// The package's `Cargo.toml`, for its default features.
    pub manifest: PathBuf,
    /// Paths in messages are shown relative to it.
    pub base: PathBuf,
}

impl Input {
    pub fn for_project(project: &Project) -> Self {
        let program = !matches!(project.target, Target::Lib { .. });
        let root = project.target.root().to_path_buf();
        let lib = program
            .then(|| library(project))
            .flatten()
            .filter(|(_, path)| *path != root);
        Self {
            root,
            program,
            lib,
            manifest: project.package_manifest.clone(),
            base: project.workspace_root.clone(),
        }
    }
}

/// The package's library: `[lib]`'s `name` and `path`, else the package's
/// name and `src/lib.rs` when that file exists.
fn library(project: &Project) -> Option<(String, PathBuf)> {
    let manifest: Option<toml_edit::DocumentMut> =
        std::fs::read_to_string(&project.package_manifest)
            .ok()
            .and_then(|text| text.parse().ok());
    let lib = manifest.as_ref().and_then(|m| m.get("lib"));
    let field = |key: &str| {
        lib.and_then(|l| l.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let path = match field("path") {
        Some(path) => project.package_root().join(path),
        None => project.package_root().join("src").join("lib.rs"),
    };
    let name = field("name").unwrap_or_else(|| project.package_name.replace('-', "_"));
    path.is_file().then_some((name, path))
}

/// The program, read.
pub struct Program {
    pub files: Vec<SourceFile>,
    pub modules: Vec<Module>,
    pub functions: Vec<Function>,
    /// The root module of the crate read.
    pub root: usize,
    /// The package's library crate: its name and root module.
    pub lib: Option<(String, usize)>,
    /// `fn main` of a program.
    pub main: Option<FnId>,
    /// What `main` reaches in a plain build.
    pub reach: Reach,
    /// Files of the crate that are missing or do not parse.
    pub errors: Vec<String>,
    pub config: cfg::Config,
    uses: Vec<Vec<calls::Use>>,
}

/// Whether a program listens for connections, as [`Program::serves`] tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serves {
    Never,
    EveryRun,
    /// Only in a branch whose other branches do not listen (a `serve`
    /// subcommand beside `build`, as mdBook has): a command-line program
    /// whose other runs are commands.
    InASubcommand,
}

/// A logging setup somewhere in the program.
#[derive(Debug, Clone)]
pub struct Setup {
    pub function: FnId,
    pub site: Site,
    /// Whether `main` reaches it in a plain build.
    pub reached: bool,
}

impl Program {
    /// The selected program (or library) and the library it may call, read.
    pub fn load_project(project: &Project) -> anyhow::Result<Self> {
        let root = project.target.root();
        if std::fs::symlink_metadata(root).is_err() {
            anyhow::bail!(
                "`{}`, the crate root of package `{}`, does not exist\n\
                 help: create it, or correct the target's `path` in `Cargo.toml`",
                paths::display(root, &project.workspace_root),
                project.package_name
            );
        }
        Self::load(&Input::for_project(project))
    }

    /// Reads the crate and the library it may call. A root file that cannot
    /// be read or parsed is an error; other files' problems are in `errors`.
    pub fn load(input: &Input) -> anyhow::Result<Self> {
        let config = std::fs::read_to_string(&input.manifest)
            .ok()
            .and_then(|text| text.parse::<toml_edit::DocumentMut>().ok())
            .map(|manifest| cfg::Config::from_manifest(&manifest))
            .unwrap_or_default();
        let show = |path: &Path| paths::display(path, &input.base);
        let mut tree = tree::Tree::default();
        let kind = match input.program {
            true => CrateKind::Program,
            false => CrateKind::Lib,
        };
        let root = tree.load_crate(kind, &input.root, &config, &show)?;
        let lib = match &input.lib {
            Some((name, path)) => tree
                .load_crate(CrateKind::Lib, path, &config, &show)
                .map(|id| (name.clone(), id))
                .map_err(|error| tree.errors.push(format!("{error:#}")))
                .ok(),
            None => None,
        };
        let functions = calls::index(&tree.modules, &config);
        let uses = calls::uses_of(&tree.modules);
        let main = input
            .program
            .then(|| {
                functions.iter().position(|f| {
                    f.module == root
                        && f.owner.is_none()
                        && f.name == "main"
                        && f.inactive.is_none()
                })
            })
            .flatten();
        let mut program = Self {
            files: tree.files,
            modules: tree.modules,
            functions,
            root,
            lib,
            main,
            reach: Reach::default(),
            errors: tree.errors,
            config,
            uses,
        };
        if let Some(main) = main {
            program.reach = calls::reach(&program.resolver(), &program.functions, main);
        }
        Ok(program)
    }

    fn resolver(&self) -> calls::Resolver<'_> {
        let lib = self.lib.as_ref().map(|(name, id)| (name.as_str(), *id));
        calls::Resolver::new(&self.modules, &self.functions, lib, &self.uses)
    }

    /// Every call from `function` into the crate.
    pub fn calls(&self, function: FnId) -> Vec<Call> {
        self.resolver().calls(function)
    }

    /// The file a function is written in.
    pub fn file_of(&self, function: FnId) -> usize {
        self.modules[self.functions[function].module].file
    }

    /// The root module of the crate `function` belongs to.
    pub fn crate_root_of(&self, function: FnId) -> usize {
        match self.modules[self.functions[function].module].krate {
            CrateKind::Lib => self.lib.as_ref().map_or(self.root, |(_, id)| *id),
            CrateKind::Program => self.root,
        }
    }

    /// The function `main` of the program.
    pub fn main_fn(&self) -> Option<&Function> {
        self.main.map(|id| &self.functions[id])
    }

    /// Every logging setup in the crate and the library, test code aside.
    pub fn setups(&self) -> Vec<Setup> {
        let mut setups = Vec::new();
        for (id, function) in self.functions.iter().enumerate() {
            for site in installs::find(&function.block) {
                if site.kind == Kind::Elsewhere && self.calls_own_code(id, &site) {
                    // `logging::init()` of the crate itself: its body counts.
                    continue;
                }
                setups.push(Setup {
                    function: id,
                    site,
                    reached: self.reach.contains(id),
                });
            }
        }
        setups
    }

    /// Whether the call at `site` lands in the crate's own functions.
    fn calls_own_code(&self, function: FnId, site: &Site) -> bool {
        let Some(syn::Expr::Call(call)) = self.expr_at(function, site.start, site.end) else {
            return false;
        };
        let syn::Expr::Path(path) = &*call.func else {
            return false;
        };
        !self.callees(function, &path.path).is_empty()
    }

    /// Whether the program's console is a `log` logger it installs (one
    /// `init` passes through the module).
    pub fn has_log_console(&self) -> bool {
        self.setups().iter().any(|s| {
            s.reached
                && matches!(
                    s.site.kind,
                    Kind::EnvLogger | Kind::PrettyEnvLogger | Kind::OwnLogger
                )
        })
    }

    /// The other `#[cfg]` variants of a function: same module, owner and
    /// name, left out of a plain build.
    pub fn variants_of(&self, function: FnId) -> Vec<FnId> {
        let f = &self.functions[function];
        self.functions
            .iter()
            .enumerate()
            .filter(|(id, g)| {
                *id != function
                    && g.module == f.module
                    && g.owner == f.owner
                    && g.name == f.name
                    && g.inactive.is_some()
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// The modules a plain build compiles.
    pub fn active_modules(&self) -> impl Iterator<Item = &Module> {
        self.modules.iter().filter(|m| m.inactive.is_none())
    }

    /// Whether the program's own code that `main` reaches uses `tracing`
    /// (its macros, spans or `#[instrument]`), as opposed to only its
    /// libraries doing so.
    pub fn uses_tracing(&self) -> bool {
        self.reached_code(|function, body, uses| {
            function.instrumented || body.contains("tracing ::") || uses.contains("use tracing ::")
        })
    }

    /// Whether the code `main` reaches opens spans of its own.
    pub fn creates_spans(&self) -> bool {
        self.reached_code(|function, body, _| {
            function.instrumented
                || body.contains("span !")
                || body.contains("Span :: new")
                || body.contains(". instrument (")
        })
    }

    /// Where the code `main` reaches listens for connections itself (a
    /// server is told by its framework too; see `init`).
    pub fn serves(&self) -> Serves {
        let Some(main) = self.main else {
            return Serves::Never;
        };
        let serving = serving::serving(self);
        if !serving.leads_to_listening.contains(&main) {
            Serves::Never
        } else if serving.listens_unconditionally.contains(&main) {
            Serves::EveryRun
        } else {
            Serves::InASubcommand
        }
    }

    /// Whether `test` holds for a reached function: with its body's tokens
    /// and its module's `use` items, tokens joined by spaces.
    fn reached_code(&self, test: impl Fn(&Function, &str, &str) -> bool) -> bool {
        self.reach.reached.keys().any(|id| {
            let function = &self.functions[*id];
            let body = quote::ToTokens::to_token_stream(&function.block).to_string();
            let uses: String = self.modules[function.module]
                .items
                .iter()
                .filter_map(|item| match item {
                    syn::Item::Use(u) => Some(quote::ToTokens::to_token_stream(u).to_string()),
                    _ => None,
                })
                .collect();
            test(function, &body, &uses)
        })
    }

    /// Whether the crate root declares the `otel` module.
    pub fn declares_otel(&self) -> bool {
        main_fn::declares_otel(&self.modules[self.root].items)
    }

    /// Whether the package's library declares the `otel` module.
    pub fn lib_declares_otel(&self) -> bool {
        self.lib
            .as_ref()
            .is_some_and(|(_, id)| main_fn::declares_otel(&self.modules[*id].items))
    }

    /// `file:line` of a position in a function's file.
    pub fn at(&self, function: FnId, line: usize) -> String {
        format!("{}:{line}", self.files[self.file_of(function)].shown)
    }
}

/// A path's segments: `["std", "process", "exit"]`.
fn segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// The segments of the path a call calls, when it calls a path.
pub(crate) fn called_path(call: &syn::ExprCall) -> Option<Vec<String>> {
    match &*call.func {
        syn::Expr::Path(path) => Some(segments(&path.path)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
