//! The functions of the crate and which call which: paths resolved through
//! the module tree and `use` items (`crate::`, `self::`, `super::`, the
//! package's library by name, `Type::function`, globs), method calls matched
//! by name, and functions passed as values. Approximate by design: a method
//! call may reach every method of that name, which errs towards finding a
//! setup rather than missing one.

use std::collections::{BTreeMap, VecDeque};

use proc_macro2::LineColumn;
use syn::{
    Expr, ImplItem, Item, TraitItem, UseTree,
    spanned::Spanned as _,
    visit::{self, Visit},
};

use super::{
    cfg::{self, Config},
    tree::{CrateKind, Module},
};

/// A function's index in [`super::Program::functions`].
pub type FnId = usize;

/// A function or method with a body.
pub struct Function {
    pub module: usize,
    pub name: String,
    /// The type (or trait) of the `impl` it is in, by its last path segment.
    pub owner: Option<String>,
    /// A method (`&self`, `self`, ...), called as `x.name()`.
    pub has_receiver: bool,
    pub sig: syn::Signature,
    pub block: syn::Block,
    /// The `#[cfg]` that leaves it out of a plain build, if any.
    pub inactive: Option<String>,
    /// `#[instrument]` (or `#[tracing::instrument]`) on it.
    pub instrumented: bool,
}

/// Every function of `modules`, test code left out.
pub(super) fn index(modules: &[Module], config: &Config) -> Vec<Function> {
    let mut functions = Vec::new();
    for (id, module) in modules.iter().enumerate() {
        for item in &module.items {
            index_item(&mut functions, id, module, item, config);
        }
    }
    functions
}

fn index_item(
    functions: &mut Vec<Function>,
    id: usize,
    module: &Module,
    item: &Item,
    config: &Config,
) {
    let inactive = |attrs: &[syn::Attribute]| {
        module
            .inactive
            .clone()
            .or_else(|| config.first_inactive(attrs))
    };
    match item {
        Item::Fn(f) if !cfg::is_test_only(&f.attrs) => functions.push(Function {
            module: id,
            name: f.sig.ident.to_string(),
            owner: None,
            has_receiver: false,
            sig: f.sig.clone(),
            block: (*f.block).clone(),
            inactive: inactive(&f.attrs),
            instrumented: instrumented(&f.attrs),
        }),
        Item::Impl(block) if !cfg::is_test_only(&block.attrs) => {
            let owner = last_segment(&block.self_ty);
            let outer = inactive(&block.attrs);
            for member in &block.items {
                let ImplItem::Fn(f) = member else { continue };
                if cfg::is_test_only(&f.attrs) {
                    continue;
                }
                functions.push(Function {
                    module: id,
                    name: f.sig.ident.to_string(),
                    owner: owner.clone(),
                    has_receiver: f.sig.receiver().is_some(),
                    sig: f.sig.clone(),
                    block: f.block.clone(),
                    inactive: outer.clone().or_else(|| inactive(&f.attrs)),
                    instrumented: instrumented(&f.attrs),
                });
            }
        }
        Item::Trait(tr) if !cfg::is_test_only(&tr.attrs) => {
            for member in &tr.items {
                let TraitItem::Fn(f) = member else { continue };
                let Some(block) = &f.default else { continue };
                functions.push(Function {
                    module: id,
                    name: f.sig.ident.to_string(),
                    owner: Some(tr.ident.to_string()),
                    has_receiver: f.sig.receiver().is_some(),
                    sig: f.sig.clone(),
                    block: block.clone(),
                    inactive: inactive(&tr.attrs),
                    instrumented: instrumented(&f.attrs),
                });
            }
        }
        _ => {}
    }
}

fn instrumented(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "instrument")
    })
}

fn last_segment(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(reference) => last_segment(&reference.elem),
        _ => None,
    }
}

/// A call (or a use of a function as a value) inside a function's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub callee: FnId,
    /// Where the callee is named, in the caller's file.
    pub start: LineColumn,
    pub end: LineColumn,
    /// Resolved through a path, not guessed from a method name.
    pub certain: bool,
}

/// Names in scope in each module.
pub(super) struct Resolver<'a> {
    modules: &'a [Module],
    functions: &'a [Function],
    lib: Option<(&'a str, usize)>,
    uses: &'a [Vec<Use>],
}

/// A name a `use` item brings into a module.
#[derive(Debug, Clone)]
pub(super) struct Use {
    /// The name it brings in; empty for a glob.
    alias: String,
    path: Vec<String>,
}

/// What a path names.
#[derive(Debug, PartialEq, Eq)]
enum Named {
    Module(usize),
    Functions(Vec<FnId>),
    Nothing,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(
        modules: &'a [Module],
        functions: &'a [Function],
        lib: Option<(&'a str, usize)>,
        uses: &'a [Vec<Use>],
    ) -> Self {
        Self {
            modules,
            functions,
            lib,
            uses,
        }
    }

    /// Every call in `function`'s body that lands in the crate.
    pub(super) fn calls(&self, function: FnId) -> Vec<Call> {
        let f = &self.functions[function];
        let mut finder = CallFinder {
            resolver: self,
            function: f,
            found: Vec::new(),
        };
        finder.visit_block(&f.block);
        let mut calls = finder.found;
        calls.dedup();
        calls
    }

    /// The functions a path in `module` may name (`owner` for `Self::`).
    pub(super) fn functions_named(
        &self,
        module: usize,
        path: &syn::Path,
        owner: Option<&str>,
    ) -> Vec<FnId> {
        let segments = super::segments(path);
        if let [first, name] = segments.as_slice()
            && first == "Self"
        {
            return self.associated(owner.unwrap_or_default(), name);
        }
        match self.resolve(module, &segments, 0) {
            Named::Functions(ids) => ids,
            _ => Vec::new(),
        }
    }

    fn resolve(&self, from: usize, segments: &[String], depth: usize) -> Named {
        let Some((first, rest)) = segments.split_first() else {
            return Named::Module(from);
        };
        if depth > 8 {
            return Named::Nothing;
        }
        if rest.is_empty() {
            return self.value(from, first, depth);
        }
        let start = match first.as_str() {
            "crate" => Some(self.crate_root(from)),
            "self" => Some(from),
            "super" => self.modules[from].parent,
            name => self.child(from, name).or_else(|| self.lib_root(from, name)),
        };
        if let Some(start) = start {
            return self.walk(start, rest, depth);
        }
        if let Some(entry) = self.uses[from].iter().find(|u| u.alias == *first) {
            let mut path = entry.path.clone();
            path.extend_from_slice(rest);
            return self.resolve(self.use_base(from, &entry.path), &path, depth + 1);
        }
        if rest.len() == 1 && self.declares_type(from, first) {
            return Named::Functions(self.associated(first, &rest[0]));
        }
        self.through_globs(from, segments, depth)
    }

    /// A name in the value namespace of a module (a function, not the module
    /// of the same name): declared there, brought in (or re-exported) by a
    /// `use`, or by a glob.
    fn value(&self, module: usize, name: &str, depth: usize) -> Named {
        let local = self.free_functions(module, name);
        if !local.is_empty() {
            return Named::Functions(local);
        }
        if let Some(entry) = self.uses[module].iter().find(|u| u.alias == name) {
            return self.resolve(self.use_base(module, &entry.path), &entry.path, depth + 1);
        }
        self.through_globs(module, &[name.to_owned()], depth)
    }

    fn through_globs(&self, from: usize, segments: &[String], depth: usize) -> Named {
        for glob in self.uses[from].iter().filter(|u| u.alias.is_empty()) {
            let mut path = glob.path.clone();
            path.extend_from_slice(segments);
            let named = self.resolve(self.use_base(from, &glob.path), &path, depth + 1);
            if named != Named::Nothing {
                return named;
            }
        }
        Named::Nothing
    }

    /// Follows the rest of a path from a module it starts in.
    fn walk(&self, mut module: usize, rest: &[String], depth: usize) -> Named {
        for (i, segment) in rest.iter().enumerate() {
            if i + 1 == rest.len() {
                return self.value(module, segment, depth + 1);
            }
            if segment == "super" {
                match self.modules[module].parent {
                    Some(parent) => module = parent,
                    None => return Named::Nothing,
                }
                continue;
            }
            if let Some(child) = self.child(module, segment) {
                module = child;
                continue;
            }
            if i + 2 == rest.len() && self.declares_type(module, segment) {
                return Named::Functions(self.associated(segment, &rest[i + 1]));
            }
            // A `pub use` re-export inside that module.
            return self.resolve(module, &rest[i..], depth + 1);
        }
        Named::Module(module)
    }

    /// `use` paths start from the crate root in 2015 code and from the module
    /// in 2018 code; a name that is a child module or item of the module
    /// resolves the same either way, so the module is tried first.
    fn use_base(&self, from: usize, path: &[String]) -> usize {
        match path.first() {
            Some(first) if self.child(from, first).is_none() && !self.declares_any(from, first) => {
                self.crate_root(from)
            }
            _ => from,
        }
    }

    fn crate_root(&self, mut module: usize) -> usize {
        while let Some(parent) = self.modules[module].parent {
            module = parent;
        }
        module
    }

    fn child(&self, module: usize, name: &str) -> Option<usize> {
        self.modules[module]
            .children
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }

    /// The package's library, named from the program (`my_app::telemetry`).
    fn lib_root(&self, from: usize, name: &str) -> Option<usize> {
        let (lib_name, root) = self.lib?;
        (self.modules[from].krate == CrateKind::Program && name == lib_name).then_some(root)
    }

    fn free_functions(&self, module: usize, name: &str) -> Vec<FnId> {
        self.functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.module == module && f.owner.is_none() && f.name == name)
            .map(|(id, _)| id)
            .collect()
    }

    fn associated(&self, owner: &str, name: &str) -> Vec<FnId> {
        self.functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.owner.as_deref() == Some(owner) && f.name == name)
            .map(|(id, _)| id)
            .collect()
    }

    fn methods(&self, name: &str) -> Vec<FnId> {
        self.functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.has_receiver && f.name == name)
            .map(|(id, _)| id)
            .collect()
    }

    fn declares_type(&self, module: usize, name: &str) -> bool {
        self.modules[module].items.iter().any(|item| match item {
            Item::Struct(s) => s.ident == name,
            Item::Enum(e) => e.ident == name,
            Item::Type(t) => t.ident == name,
            Item::Trait(t) => t.ident == name,
            Item::Union(u) => u.ident == name,
            _ => false,
        }) || self.uses[module]
            .iter()
            .any(|u| u.alias == name && u.path.last().is_some_and(|l| starts_upper(l)))
    }

    fn declares_any(&self, module: usize, name: &str) -> bool {
        self.declares_type(module, name) || !self.free_functions(module, name).is_empty()
    }
}

fn starts_upper(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_uppercase)
}

/// The `use` items of each module.
pub(super) fn uses_of(modules: &[Module]) -> Vec<Vec<Use>> {
    modules.iter().map(|m| module_uses(&m.items)).collect()
}

/// The paths `segments` may stand for where `uses` are in scope: as
/// written, through the `use` that brings in its first segment, and
/// through each glob.
pub(super) fn written_out(uses: &[Use], segments: &[String]) -> Vec<Vec<String>> {
    let Some((first, rest)) = segments.split_first() else {
        return Vec::new();
    };
    let mut paths = vec![segments.to_vec()];
    for entry in uses {
        let tail = match entry.alias.as_str() {
            "" => segments,
            alias if alias == first => rest,
            _ => continue,
        };
        paths.push(entry.path.iter().chain(tail).cloned().collect());
    }
    paths
}

/// The `use` items of a module, flattened: `use a::{b, c as d, e::*}`.
pub(super) fn module_uses(items: &[Item]) -> Vec<Use> {
    let mut uses = Vec::new();
    for item in items {
        if let Item::Use(u) = item
            && !cfg::is_test_only(&u.attrs)
        {
            flatten(&u.tree, &mut Vec::new(), &mut uses);
        }
    }
    uses
}

fn flatten(tree: &UseTree, prefix: &mut Vec<String>, out: &mut Vec<Use>) {
    match tree {
        UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            flatten(&path.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(name) => {
            let ident = name.ident.to_string();
            if ident == "self" {
                if let Some(last) = prefix.last() {
                    out.push(Use {
                        alias: last.clone(),
                        path: prefix.clone(),
                    });
                }
            } else {
                let mut path = prefix.clone();
                path.push(ident.clone());
                out.push(Use { alias: ident, path });
            }
        }
        UseTree::Rename(rename) => {
            let mut path = prefix.clone();
            path.push(rename.ident.to_string());
            out.push(Use {
                alias: rename.rename.to_string(),
                path,
            });
        }
        UseTree::Glob(_) => out.push(Use {
            alias: String::new(),
            path: prefix.clone(),
        }),
        UseTree::Group(group) => {
            for tree in &group.items {
                flatten(tree, prefix, out);
            }
        }
    }
}

struct CallFinder<'r, 'a> {
    resolver: &'r Resolver<'a>,
    function: &'r Function,
    found: Vec<Call>,
}

impl CallFinder<'_, '_> {
    fn record(&mut self, ids: Vec<FnId>, span: proc_macro2::Span, certain: bool) {
        for callee in ids {
            self.found.push(Call {
                callee,
                start: span.start(),
                end: span.end(),
                certain,
            });
        }
    }
}

impl<'ast> Visit<'ast> for CallFinder<'_, '_> {
    fn visit_expr_path(&mut self, expr: &'ast syn::ExprPath) {
        let ids = self.resolver.functions_named(
            self.function.module,
            &expr.path,
            self.function.owner.as_deref(),
        );
        self.record(ids, expr.span(), true);
        visit::visit_expr_path(self, expr);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let ids = self.resolver.methods(&call.method.to_string());
        self.record(ids, call.method.span(), false);
        visit::visit_expr_method_call(self, call);
    }

    /// Calls inside `tokio::select! { .. }`, `vec![..]`, `format!(..)`:
    /// whatever parses as expressions.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        for expr in macro_expressions(mac) {
            self.visit_expr(&expr);
        }
    }

    /// Items nested in a body are functions of their own, indexed or not.
    fn visit_item(&mut self, _: &'ast Item) {}
}

/// The expressions a macro's arguments hold, where they parse as a list of
/// expressions or as statements.
pub(super) fn macro_expressions(mac: &syn::Macro) -> Vec<Expr> {
    use syn::parse::Parser as _;
    let list = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
    if let Ok(exprs) = list.parse2(mac.tokens.clone()) {
        return exprs.into_iter().collect();
    }
    let statements = syn::Block::parse_within.parse2(mac.tokens.clone());
    statements
        .map(|stmts| {
            vec![Expr::Block(syn::ExprBlock {
                attrs: Vec::new(),
                label: None,
                block: syn::Block {
                    brace_token: Default::default(),
                    stmts,
                },
            })]
        })
        .unwrap_or_default()
}

/// How each function reachable from `main` is reached: the caller and the
/// call, for every function but `main` itself.
#[derive(Debug, Default)]
pub struct Reach {
    pub reached: BTreeMap<FnId, Option<(FnId, Call)>>,
}

impl Reach {
    pub fn contains(&self, function: FnId) -> bool {
        self.reached.contains_key(&function)
    }

    /// The calls from `main` down to `function`, `main`'s first.
    pub fn path_to(&self, function: FnId) -> Vec<(FnId, Call)> {
        let mut path = Vec::new();
        let mut at = function;
        while let Some(Some((caller, call))) = self.reached.get(&at) {
            path.push((*caller, *call));
            at = *caller;
        }
        path.reverse();
        path
    }
}

/// Breadth first from `main`, through functions a plain build compiles;
/// resolved calls are followed before guessed ones, so each function's
/// recorded path is the most certain short one.
pub(super) fn reach(resolver: &Resolver<'_>, functions: &[Function], main: FnId) -> Reach {
    let mut reach = Reach::default();
    reach.reached.insert(main, None);
    let mut queue = VecDeque::from([main]);
    while let Some(caller) = queue.pop_front() {
        let mut calls = resolver.calls(caller);
        calls.sort_by_key(|c| !c.certain);
        for call in calls {
            if functions[call.callee].inactive.is_some() || reach.contains(call.callee) {
                continue;
            }
            reach.reached.insert(call.callee, Some((caller, call)));
            queue.push_back(call.callee);
        }
    }
    reach
}
