//! Where a program builds the app its server runs, for each framework whose
//! request instrumentation `init` wires: the axum `Router` handed to
//! `serve` (built in `main`, a helper or a module), the actix-web `App` an
//! `HttpServer::new(|| ..)` closure returns, tonic's `Server::builder()`.

use proc_macro2::LineColumn;
use syn::{
    Expr, ExprCall, ExprMethodCall,
    spanned::Spanned as _,
    visit::{self, Visit},
};

use super::{FnId, Program, flow};
use crate::detect::Framework;

/// Where a framework's instrumentation goes, or why nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sites {
    /// The program already uses the module's piece.
    AlreadyDone,
    At(Vec<Place>),
    /// Why there is no safe place.
    Nowhere(String),
    /// The program runs no server of this framework (a gRPC client only).
    NoServer,
}

/// A place to add the module's piece: right after the expression (or the
/// statement) ending at `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub function: FnId,
    pub after: LineColumn,
    pub how: How,
}

/// How the piece goes in at a [`Place`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// A call (`.layer(..)`) appended to the value: on a new line indented
    /// like this position's line (a chain written one call per line), or
    /// inline when `None`.
    Append { indent_like: Option<LineColumn> },
    /// The value, from `start` to `after`, becomes the piece's argument
    /// (`otel::hyper_service(service_fn(..))`). `arguments`: the width of
    /// the one-line argument list rustfmt holds to its call width there,
    /// the enclosing call's (which the wrap `widens`) or the wrapped value
    /// itself (an argument on a line of its own); 0 when it spans lines.
    Wrap {
        start: LineColumn,
        arguments: usize,
        widens: bool,
    },
    /// `let name = ..;` ends at `after`: the next line rebinds `name` to
    /// the piece around it, indented like this position's line.
    Rebind {
        name: String,
        indent_like: LineColumn,
    },
}

/// Methods that keep an axum `Router` a `Router`: after them, `.layer`
/// still fits.
const ROUTING: [&str; 13] = [
    "route",
    "route_service",
    "nest",
    "nest_service",
    "merge",
    "fallback",
    "fallback_service",
    "layer",
    "route_layer",
    "with_state",
    "method_not_allowed_fallback",
    "without_v07_checks",
    "clone",
];

/// What turns a router into what `serve` takes.
const INTO_SERVICE: [&str; 4] = [
    "into_make_service",
    "into_make_service_with_connect_info",
    "into_service",
    "clone",
];

impl Program {
    /// Where `framework`'s server instrumentation goes.
    pub fn app_sites(&self, framework: Framework) -> Sites {
        let (piece, find): (&str, fn(&Self) -> Sites) = match framework {
            Framework::Axum => ("otel :: http_layer", Self::axum_sites),
            Framework::ActixWeb => ("otel :: actix_tracing", Self::actix_sites),
            Framework::Tonic => ("otel :: grpc_server_layer", Self::tonic_sites),
            Framework::Hyper => ("otel :: hyper_service", Self::hyper_sites),
            _ => return Sites::NoServer,
        };
        let used = self.reached_functions().any(|id| {
            quote::ToTokens::to_token_stream(&self.functions[id].block)
                .to_string()
                .contains(piece)
        });
        if used { Sites::AlreadyDone } else { find(self) }
    }

    pub(super) fn reached_functions(&self) -> impl Iterator<Item = FnId> + '_ {
        self.reach.reached.keys().copied()
    }

    /// The router each `axum::serve(listener, app)` runs, followed back to
    /// where it is built; without a `serve` call, the one `Router::new()`
    /// chain of the program.
    fn axum_sites(&self) -> Sites {
        let mut served = Vec::new();
        for id in self.reached_functions() {
            let mut finder = ServeFinder::default();
            finder.visit_block(&self.functions[id].block);
            served.extend(finder.apps.into_iter().map(|app| (id, app)));
        }
        if served.is_empty() {
            return self.only_router();
        }
        let accept = |function: FnId, expr: &Expr| self.is_router(function, expr);
        let mut places = Vec::new();
        for (function, app) in served {
            let router = strip_methods(&app, &INTO_SERVICE);
            match self.origin(function, router, &accept) {
                Some(origin) if !origin.typed => places.push(place_after(&origin)),
                _ => {
                    return Sites::Nowhere(format!(
                        "the router `{}` serves is not built by a `Router::new()...` chain of routing calls",
                        self.at(function, app.span().start().line)
                    ));
                }
            }
        }
        places.dedup();
        Sites::At(places)
    }

    fn only_router(&self) -> Sites {
        let mut chains = Vec::new();
        for id in self.reached_functions() {
            let mut finder = ChainFinder::rooted_at(&["Router", "new"]);
            finder.visit_block(&self.functions[id].block);
            chains.extend(finder.found.into_iter().map(|chain| (id, chain)));
        }
        match chains.as_slice() {
            [] => Sites::Nowhere(
                "the program builds no `Router::new()...` chain with routes".to_owned(),
            ),
            [(function, chain)] if self.is_router(*function, chain) => {
                Sites::At(vec![place_after(&flow::Origin {
                    function: *function,
                    start: chain.span().start(),
                    end: chain.span().end(),
                    expr: chain.clone(),
                    typed: false,
                })])
            }
            [(function, chain)] => Sites::Nowhere(format!(
                "the router at `{}` ends in a call after which a layer does not fit",
                self.at(*function, chain.span().start().line)
            )),
            _ => Sites::Nowhere(
                "the program builds several routers and serves none with `axum::serve`".to_owned(),
            ),
        }
    }

    /// A `Router` value: a chain of routing calls on `Router::new()`, on a
    /// variable or on a call, or a call of the crate's own function that
    /// returns a `Router`.
    fn is_router(&self, function: FnId, expr: &Expr) -> bool {
        match expr {
            Expr::MethodCall(call) => {
                methods(call).iter().all(|m| ROUTING.contains(&m.as_str()))
                    && match root(call) {
                        Expr::Call(c) => {
                            is_path_call(c, &["Router", "new"])
                                || self.returns(function, c, "Router")
                        }
                        Expr::Path(_) => true,
                        _ => false,
                    }
            }
            Expr::Call(call) => {
                is_path_call(call, &["Router", "new"]) || self.returns(function, call, "Router")
            }
            _ => false,
        }
    }

    /// Whether `call` calls a function of the crate declared to return a
    /// `type_name` (`-> Router`, `-> axum::Router<()>`).
    fn returns(&self, function: FnId, call: &ExprCall, type_name: &str) -> bool {
        let Expr::Path(path) = &*call.func else {
            return false;
        };
        let Some(callee) = self.unique_callee(function, &path.path) else {
            return false;
        };
        match &self.functions[callee].sig.output {
            syn::ReturnType::Type(_, ty) => {
                let text = quote::ToTokens::to_token_stream(ty).to_string();
                let last = text
                    .split("::")
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                last == type_name || last.starts_with(&format!("{type_name} <"))
            }
            syn::ReturnType::Default => false,
        }
    }

    /// The `App` each `HttpServer::new(|| ..)` closure returns.
    fn actix_sites(&self) -> Sites {
        let mut places = Vec::new();
        let accept = |function: FnId, expr: &Expr| match expr {
            Expr::MethodCall(call) => {
                matches!(root(call), Expr::Call(c) if is_path_call(c, &["App", "new"]))
            }
            Expr::Call(call) => {
                is_path_call(call, &["App", "new"]) || self.returns(function, call, "App")
            }
            _ => false,
        };
        for id in self.reached_functions() {
            let mut finder = CallFinder::named(&["HttpServer", "new"]);
            finder.visit_block(&self.functions[id].block);
            for server in finder.found {
                let Some(Expr::Closure(closure)) = server.args.first() else {
                    return Sites::Nowhere(format!(
                        "`HttpServer::new` at `{}` is not given a closure",
                        self.at(id, server.span().start().line)
                    ));
                };
                match self.origin(id, &closure.body, &accept) {
                    Some(origin) if !origin.typed => places.push(place_after(&origin)),
                    _ => {
                        return Sites::Nowhere(format!(
                            "the closure of `HttpServer::new` at `{}` does not end in an `App::new()...` chain",
                            self.at(id, server.span().start().line)
                        ));
                    }
                }
            }
        }
        match places.is_empty() {
            true => Sites::Nowhere(
                "the program calls no `HttpServer::new(|| App::new()...)`".to_owned(),
            ),
            false => Sites::At(places),
        }
    }

    /// Right after each `Server::builder()`: the layer must come before the
    /// services are added.
    fn tonic_sites(&self) -> Sites {
        let mut places = Vec::new();
        for id in self.reached_functions() {
            let mut finder = BuilderFinder::default();
            finder.visit_block(&self.functions[id].block);
            places.extend(finder.found.into_iter().map(|(after, indent_like)| Place {
                function: id,
                after,
                how: How::Append { indent_like },
            }));
        }
        match places.is_empty() {
            true => Sites::NoServer,
            false => Sites::At(places),
        }
    }
}

/// After the value, on a line of its own when the chain spans lines.
fn place_after(origin: &flow::Origin) -> Place {
    let indent_like = match &origin.expr {
        Expr::MethodCall(call) if origin.end.line > origin.start.line => {
            Some(call.method.span().start())
        }
        _ => None,
    };
    Place {
        function: origin.function,
        after: origin.end,
        how: How::Append { indent_like },
    }
}

/// `app.into_make_service()` -> `app`.
fn strip_methods<'e>(expr: &'e Expr, methods: &[&str]) -> &'e Expr {
    match expr {
        Expr::MethodCall(call) if methods.contains(&call.method.to_string().as_str()) => {
            strip_methods(&call.receiver, methods)
        }
        Expr::Paren(paren) => strip_methods(&paren.expr, methods),
        _ => expr,
    }
}

fn root(call: &ExprMethodCall) -> &Expr {
    let mut receiver = &*call.receiver;
    while let Expr::MethodCall(inner) = receiver {
        receiver = &inner.receiver;
    }
    receiver
}

/// The method names of a chain, first call first.
fn methods(call: &ExprMethodCall) -> Vec<String> {
    let mut names = vec![call.method.to_string()];
    let mut receiver = &*call.receiver;
    while let Expr::MethodCall(inner) = receiver {
        names.push(inner.method.to_string());
        receiver = &inner.receiver;
    }
    names.reverse();
    names
}

/// `Router::new()`, `axum::Router::new()`: a call of a path ending in `tail`.
pub(super) fn is_path_call(call: &ExprCall, tail: &[&str]) -> bool {
    super::called_path(call).is_some_and(|segments| {
        segments.len() >= tail.len() && segments[segments.len() - tail.len()..] == *tail
    })
}

/// The app of `axum::serve(listener, app)` and `bind(..).serve(app)`.
#[derive(Default)]
struct ServeFinder {
    apps: Vec<Expr>,
}

impl<'ast> Visit<'ast> for ServeFinder {
    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        if is_path_call(call, &["serve"]) && call.args.len() == 2 {
            self.apps.push(call.args[1].clone());
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        let receiver = quote::ToTokens::to_token_stream(&call.receiver).to_string();
        if call.method == "serve" && call.args.len() == 1 && receiver.contains("bind") {
            self.apps.push(call.args[0].clone());
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// The outermost method chains rooted at a call of `root`.
struct ChainFinder {
    root: &'static [&'static str],
    found: Vec<Expr>,
}

impl ChainFinder {
    fn rooted_at(root: &'static [&'static str]) -> Self {
        Self {
            root,
            found: Vec::new(),
        }
    }
}

impl<'ast> Visit<'ast> for ChainFinder {
    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        if matches!(root(call), Expr::Call(c) if is_path_call(c, self.root)) {
            self.found.push(Expr::MethodCall(call.clone()));
            // The arguments hold handlers, not routers we append to.
            return;
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Calls of a path ending in `name`.
struct CallFinder {
    name: &'static [&'static str],
    found: Vec<ExprCall>,
}

impl CallFinder {
    fn named(name: &'static [&'static str]) -> Self {
        Self {
            name,
            found: Vec::new(),
        }
    }
}

impl<'ast> Visit<'ast> for CallFinder {
    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        if is_path_call(call, self.name) {
            self.found.push(call.clone());
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Each `Server::builder()`: its end, and the `.` of the call after it when
/// that starts a new line.
#[derive(Default)]
struct BuilderFinder {
    found: Vec<(LineColumn, Option<LineColumn>)>,
}

impl<'ast> Visit<'ast> for BuilderFinder {
    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        if let Expr::Call(builder) = &*call.receiver
            && is_path_call(builder, &["Server", "builder"])
        {
            let end = builder.span().end();
            let dot = call.dot_token.span.start();
            let own_line = dot.line > end.line;
            self.found.push((end, own_line.then_some(dot)));
            for arg in &call.args {
                self.visit_expr(arg);
            }
            return;
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
