//! Where a program builds a hyper 1 service with `hyper::service::service_fn`
//! (any path form), so `init` can wrap it in the module's server span.
//! There is no framework object to attach a layer to: the service itself
//! is what the connection builders serve.

use proc_macro2::LineColumn;
use syn::{
    Expr, ExprCall, ExprMethodCall, Local, Pat,
    spanned::Spanned as _,
    visit::{self, Visit},
};

use super::{
    FnId, Program,
    apps::{How, Place, Sites},
    calls::{self, Use},
};

const SERVICE_FN: [&str; 3] = ["hyper", "service", "service_fn"];
const SERVICE: [&str; 3] = ["hyper", "service", "Service"];

impl Program {
    /// Whether the program serves a hyper service the module's
    /// `hyper_service` piece wraps (or would wrap, once the user does).
    pub fn serves_hyper(&self) -> bool {
        !matches!(self.hyper_sites(), Sites::NoServer)
    }

    /// Each `service_fn(..)` of hyper in the code `main` reaches: the
    /// service it makes, rebound where a `let` binds it, else wrapped in
    /// place.
    pub(super) fn hyper_sites(&self) -> Sites {
        let mut places = Vec::new();
        for id in self.reached_functions() {
            let function = &self.functions[id];
            let mut uses = self.uses[function.module].clone();
            uses.extend(calls::module_uses(&block_items(&function.block)));
            let mut finder = ServiceFnFinder {
                program: self,
                function: id,
                uses: &uses,
                found: Vec::new(),
                chained: Vec::new(),
            };
            finder.visit_block(&function.block);
            for found in finder.found {
                match found {
                    Ok(place) => places.push(place),
                    Err(line) => {
                        return Sites::Nowhere(format!(
                            "the hyper service made at `{}` is not bound by a `let` of its own, nor an argument on one line or on lines of its own",
                            self.at(id, line)
                        ));
                    }
                }
            }
        }
        if !places.is_empty() {
            return Sites::At(places);
        }
        match self.service_impls().first() {
            Some(at) => Sites::Nowhere(format!(
                "`{at}` implements hyper's `Service` itself, and `init` wraps only the services `service_fn` makes"
            )),
            None => Sites::NoServer,
        }
    }

    /// `impl hyper::service::Service<..> for T` in the modules a plain
    /// build compiles, as `file:line`.
    fn service_impls(&self) -> Vec<String> {
        let mut found = Vec::new();
        for (id, module) in self.modules.iter().enumerate() {
            if module.inactive.is_some() {
                continue;
            }
            for item in &module.items {
                let syn::Item::Impl(block) = item else {
                    continue;
                };
                let Some((_, path, _)) = &block.trait_ else {
                    continue;
                };
                let segments: Vec<String> =
                    path.segments.iter().map(|s| s.ident.to_string()).collect();
                let hyper = calls::written_out(&self.uses[id], &segments)
                    .iter()
                    .any(|written| *written == SERVICE);
                if hyper {
                    let line = block.impl_token.span.start().line;
                    found.push(format!("{}:{line}", self.files[module.file].shown));
                }
            }
        }
        found
    }
}

/// The `use` items at the top of a function's body.
fn block_items(block: &syn::Block) -> Vec<syn::Item> {
    block
        .stmts
        .iter()
        .filter_map(|stmt| match stmt {
            syn::Stmt::Item(item @ syn::Item::Use(_)) => Some(item.clone()),
            _ => None,
        })
        .collect()
}

struct ServiceFnFinder<'p> {
    program: &'p Program,
    function: FnId,
    uses: &'p [Use],
    /// A place for each call, or the line of one that has none.
    found: Vec<Result<Place, usize>>,
    /// Calls whose value a method call or `.await` takes: part of a chain.
    chained: Vec<LineColumn>,
}

impl ServiceFnFinder<'_> {
    fn is_service_fn(&self, call: &ExprCall) -> bool {
        let Expr::Path(path) = &*call.func else {
            return false;
        };
        let segments: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        calls::written_out(self.uses, &segments)
            .iter()
            .any(|written| *written == SERVICE_FN)
    }

    /// `let name = service_fn(..);` alone on its line(s), and nothing but a
    /// comment after it.
    fn rebind(&self, local: &Local) -> Option<Place> {
        let init = local.init.as_ref()?;
        if init.diverge.is_some() {
            return None;
        }
        let Expr::Call(call) = &*init.expr else {
            return None;
        };
        let pattern = match &local.pat {
            Pat::Type(typed) => &*typed.pat,
            pattern => pattern,
        };
        let Pat::Ident(ident) = pattern else {
            return None;
        };
        if !self.is_service_fn(call) || ident.subpat.is_some() || ident.by_ref.is_some() {
            return None;
        }
        let start = local.let_token.span.start();
        let end = local.semi_token.span.end();
        let text = &self.program.files[self.program.file_of(self.function)].text;
        let line = |n: usize| text.lines().nth(n - 1).unwrap_or_default();
        let after: String = line(end.line).chars().skip(end.column).collect();
        let after = after.trim();
        let alone = self.starts_line(start) && (after.is_empty() || after.starts_with("//"));
        alone.then(|| Place {
            function: self.function,
            after: LineColumn {
                line: end.line,
                column: line(end.line).chars().count(),
            },
            how: How::Rebind {
                name: ident.ident.to_string(),
                indent_like: start,
            },
        })
    }

    /// A `service_fn(..)` among the arguments of a call, wrapped in place
    /// where rustfmt keeps the layout: with every argument on one line
    /// (unless the call is part of a chain written on one line), or on
    /// lines of its own (arguments laid out one per line). Not where it
    /// spans lines after other arguments on its first line: wrapped,
    /// rustfmt would no longer let its closure overflow.
    fn arguments(
        &mut self,
        args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>,
        parens: proc_macro2::Span,
        chained_on_one_line: bool,
    ) {
        for arg in args {
            let Expr::Call(call) = arg else { continue };
            if !self.is_service_fn(call) {
                continue;
            }
            let (open, close) = (parens.start(), parens.end());
            let (start, end) = (call.span().start(), call.span().end());
            let (arguments, widens) = match (start.line == end.line, open.line == close.line) {
                (true, true) if !chained_on_one_line => (close.column - open.column - 2, true),
                (true, false) if self.starts_line(start) => (end.column - start.column, false),
                (false, _) if self.starts_line(start) => (0, false),
                _ => {
                    self.found.push(Err(start.line));
                    continue;
                }
            };
            self.found.push(Ok(Place {
                function: self.function,
                after: end,
                how: How::Wrap {
                    start,
                    arguments,
                    widens,
                },
            }));
        }
    }

    /// Whether only whitespace comes before `at` on its line.
    fn starts_line(&self, at: LineColumn) -> bool {
        let text = &self.program.files[self.program.file_of(self.function)].text;
        let line = text.lines().nth(at.line - 1).unwrap_or_default();
        line.chars().take(at.column).all(char::is_whitespace)
    }
}

impl<'ast> Visit<'ast> for ServiceFnFinder<'_> {
    fn visit_local(&mut self, local: &'ast Local) {
        if let Some(place) = self.rebind(local) {
            self.found.push(Ok(place));
            return;
        }
        visit::visit_local(self, local);
    }

    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        if self.is_service_fn(call) {
            // Not an argument on one line, nor bound by a `let` of its own.
            if !self
                .found
                .iter()
                .flatten()
                .any(|p| p.after == call.span().end())
            {
                self.found.push(Err(call.span().start().line));
            }
            return;
        }
        let chained = self.chained.contains(&call.span().start())
            && call.span().start().line == call.span().end().line;
        self.arguments(&call.args, call.paren_token.span.join(), chained);
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        self.chained.push(call.receiver.span().start());
        let dot = call.dot_token.span.start();
        let own_line = dot.line > call.receiver.span().end().line;
        let one_line = call.span().start().line == call.span().end().line;
        self.arguments(
            &call.args,
            call.paren_token.span.join(),
            !own_line && one_line,
        );
        visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_await(&mut self, expr: &'ast syn::ExprAwait) {
        self.chained.push(expr.base.span().start());
        visit::visit_expr_await(self, expr);
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
