//! The module tree of a crate, from its root file: `mod x;` in `x.rs` or
//! `x/mod.rs`, `#[path = ".."]`, inline `mod x { .. }`, each module marked
//! with the `#[cfg]` that leaves it out of a plain build, if any. Test
//! modules are left out.

use std::path::{Path, PathBuf};

use proc_macro2::LineColumn;
use syn::{Item, ext::IdentExt as _, spanned::Spanned as _};

use super::cfg::{self, Config};
use crate::changeset::TextFile;

/// Which crate of the package a module belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrateKind {
    /// The binary (or example) being instrumented.
    Program,
    /// The package's library, which the program may call into.
    Lib,
}

/// A source file of the crate, as read.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The path as messages show it.
    pub shown: String,
    /// What the analysis and the edits work on: without a BOM, `\n` line
    /// ends ([`TextFile::text`]).
    pub text: String,
    /// The file as read, which an edit writes back in its own form.
    pub read: TextFile,
}

/// One module: a file, or an inline `mod x { .. }` in one.
pub struct Module {
    pub krate: CrateKind,
    /// Its path in its crate: `[]` for the root, `["telemetry"]`, ...
    pub path: Vec<String>,
    pub file: usize,
    pub items: Vec<Item>,
    pub parent: Option<usize>,
    pub children: Vec<(String, usize)>,
    /// The `#[cfg(..)]` that leaves it (or a parent) out of a plain build.
    pub inactive: Option<String>,
    /// The `{` of an inline module; `None` for a whole file.
    pub brace: Option<LineColumn>,
}

/// What loading found besides the modules: files that do not parse or are
/// missing, as messages.
#[derive(Default)]
pub(super) struct Tree {
    pub(super) files: Vec<SourceFile>,
    pub(super) modules: Vec<Module>,
    pub(super) errors: Vec<String>,
}

impl Tree {
    /// Loads the crate rooted at `root` into the tree; its root module's index.
    pub(super) fn load_crate(
        &mut self,
        krate: CrateKind,
        root: &Path,
        config: &Config,
        show: &dyn Fn(&Path) -> String,
    ) -> anyhow::Result<usize> {
        let shown = show(root);
        let read = TextFile::read(root, &shown)?;
        let syntax = parse(&shown, read.text())?;
        let dir = root.parent().unwrap_or(Path::new("")).to_path_buf();
        let file = self.add_file(root, shown, read);
        let context = Context {
            krate,
            config,
            show,
        };
        Ok(self.add_module(
            &context,
            file,
            syntax.items,
            Placement {
                path: Vec::new(),
                parent: None,
                inactive: None,
                brace: None,
                dir,
            },
        ))
    }

    fn add_file(&mut self, path: &Path, shown: String, read: TextFile) -> usize {
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            shown,
            text: read.text().to_owned(),
            read,
        });
        self.files.len() - 1
    }

    fn add_module(
        &mut self,
        context: &Context<'_>,
        file: usize,
        items: Vec<Item>,
        place: Placement,
    ) -> usize {
        let id = self.modules.len();
        let declarations: Vec<syn::ItemMod> = items
            .iter()
            .filter_map(|item| match item {
                Item::Mod(m) if !cfg::is_test_only(&m.attrs) => Some(m.clone()),
                _ => None,
            })
            .collect();
        let file_dir = self.files[file]
            .path
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        self.modules.push(Module {
            krate: context.krate,
            path: place.path.clone(),
            file,
            items,
            parent: place.parent,
            children: Vec::new(),
            inactive: place.inactive.clone(),
            brace: place.brace,
        });
        for declaration in declarations {
            let name = declaration.ident.unraw().to_string();
            let inactive = place
                .inactive
                .clone()
                .or_else(|| context.config.first_inactive(&declaration.attrs));
            let mut path = place.path.clone();
            path.push(name.clone());
            let child = match declaration.content {
                Some((brace, items)) => {
                    let child_place = Placement {
                        path,
                        parent: Some(id),
                        inactive,
                        brace: Some(brace.span.open().start()),
                        dir: place.dir.join(&name),
                    };
                    Some(self.add_module(context, file, items, child_place))
                }
                None => {
                    // `#[path]` is relative to the file's directory, or to an
                    // inline module's directory inside it.
                    let base = match place.brace {
                        None => &file_dir,
                        Some(_) => &place.dir,
                    };
                    let found = module_file(&declaration, base, &place.dir, &name);
                    self.load_file_module(context, found, path, id, inactive, &declaration)
                }
            };
            if let Some(child) = child {
                self.modules[id].children.push((name, child));
            }
        }
        id
    }

    fn load_file_module(
        &mut self,
        context: &Context<'_>,
        found: Option<(PathBuf, PathBuf)>,
        path: Vec<String>,
        parent: usize,
        inactive: Option<String>,
        declaration: &syn::ItemMod,
    ) -> Option<usize> {
        let Some((file_path, dir)) = found else {
            // `init` writes the generated module itself.
            if inactive.is_none() && declaration.ident != "otel" {
                let at = &self.files[self.modules[parent].file].shown;
                let line = declaration.span().start().line;
                self.errors.push(format!(
                    "`{at}:{line}` declares `mod {};` but its file is missing",
                    declaration.ident
                ));
            }
            return None;
        };
        let shown = (context.show)(&file_path);
        let read = match TextFile::read(&file_path, &shown) {
            Ok(read) => read,
            Err(error) => {
                self.errors.push(format!("{error:#}"));
                return None;
            }
        };
        let syntax = match parse(&shown, read.text()) {
            Ok(syntax) => syntax,
            Err(error) => {
                if inactive.is_none() {
                    self.errors.push(format!("{error:#}"));
                }
                return None;
            }
        };
        let file = self.add_file(&file_path, shown, read);
        let place = Placement {
            path,
            parent: Some(parent),
            inactive,
            brace: None,
            dir,
        };
        Some(self.add_module(context, file, syntax.items, place))
    }
}

struct Context<'a> {
    krate: CrateKind,
    config: &'a Config,
    show: &'a dyn Fn(&Path) -> String,
}

struct Placement {
    path: Vec<String>,
    parent: Option<usize>,
    inactive: Option<String>,
    brace: Option<LineColumn>,
    dir: PathBuf,
}

/// The file of `mod name;` and the directory of its own declarations:
/// `#[path]` (a directory of its own, like `mod.rs`), `dir/name.rs` (its
/// modules in `dir/name/`) or `dir/name/mod.rs`.
fn module_file(
    declaration: &syn::ItemMod,
    path_base: &Path,
    dir: &Path,
    name: &str,
) -> Option<(PathBuf, PathBuf)> {
    if let Some(path) = path_attribute(&declaration.attrs) {
        let file = path_base.join(path);
        let own_dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
        return file.is_file().then_some((file, own_dir));
    }
    let flat = dir.join(format!("{name}.rs"));
    if flat.is_file() {
        return Some((flat, dir.join(name)));
    }
    let nested = dir.join(name).join("mod.rs");
    nested.is_file().then(|| (nested, dir.join(name)))
}

/// The path a `#[path = ".."]` attribute names.
pub(crate) fn path_attribute(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        syn::Meta::NameValue(pair) if pair.path.is_ident("path") => match &pair.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(value),
                ..
            }) => Some(value.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Parses a file; the error names the position as `file:line:column`.
pub(crate) fn parse(shown: &str, text: &str) -> anyhow::Result<syn::File> {
    syn::parse_file(text).map_err(|error| {
        let start = error.span().start();
        anyhow::anyhow!(
            "`{shown}:{}:{}` does not parse: {error}\n\
             help: fix it (`cargo check` shows the same error) and run again",
            start.line,
            start.column + 1
        )
    })
}
