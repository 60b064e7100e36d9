//! `.layer(otel::http_layer())` at the end of the axum `Router` that `main`
//! builds, when that is unambiguous: exactly one `Router::new()...` chain in
//! `main`, made only of routing calls (so the result is still a `Router`).
//! Anything else is left to the user, with the line to add.

use syn::{Expr, ExprMethodCall, ItemFn, spanned::Spanned as _, visit::Visit};

use super::{find_main, locate::LineIndex, parse, quote_tokens};

/// The call `init` appends.
pub const HTTP_LAYER: &str = ".layer(otel::http_layer())";

/// What became of the router.
#[derive(Debug, PartialEq, Eq)]
pub enum RouterWiring {
    AlreadyDone,
    Edited(String),
    Manual(String),
}

/// Methods that keep a `Router` a `Router`: after them, `.layer` still fits.
const ROUTING: [&str; 12] = [
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
];

pub fn add_http_layer(file_name: &str, source: &str) -> anyhow::Result<RouterWiring> {
    let file = parse(file_name, source)?;
    let Some(main) = find_main(&file) else {
        return Ok(RouterWiring::Manual(format!(
            "`{file_name}` has no plain `fn main`"
        )));
    };
    if quote_tokens(&main.block).contains("otel :: http_layer") {
        return Ok(RouterWiring::AlreadyDone);
    }
    let chains = router_chains(main);
    let chain = match chains.as_slice() {
        [one] => *one,
        [] => {
            return Ok(RouterWiring::Manual(format!(
                "`main` in `{file_name}` builds no `Router::new()...` chain with routes"
            )));
        }
        _ => {
            return Ok(RouterWiring::Manual(format!(
                "`main` in `{file_name}` builds several routers"
            )));
        }
    };
    if let Some(other) = methods(chain)
        .into_iter()
        .find(|m| !ROUTING.contains(&m.as_str()))
    {
        return Ok(RouterWiring::Manual(format!(
            "the router in `main` of `{file_name}` ends in `.{other}(..)`, after which a layer does not fit"
        )));
    }
    Ok(RouterWiring::Edited(insert_after(source, chain)))
}

/// Appends the call after the chain: on a line of its own, indented like the
/// chain's last `.call()`, when the chain spans lines; inline otherwise.
fn insert_after(source: &str, chain: &ExprMethodCall) -> String {
    let index = LineIndex::new(source);
    let end = chain.span().end();
    let at = index.offset(end);
    let start = chain.span().start();
    let text = if end.line > start.line {
        let last_call = chain.method.span().start();
        let indentation = index.indentation(last_call.line);
        format!("\n{indentation}{HTTP_LAYER}")
    } else {
        HTTP_LAYER.to_owned()
    };
    let mut edited = source.to_owned();
    edited.insert_str(at, &text);
    edited
}

/// The outermost method-call chains rooted in `Router::new()` (or
/// `axum::Router::new()`) with at least one call after it.
fn router_chains(main: &ItemFn) -> Vec<&ExprMethodCall> {
    struct Finder<'a> {
        found: Vec<&'a ExprMethodCall>,
    }
    impl<'a> Visit<'a> for Finder<'a> {
        fn visit_expr_method_call(&mut self, call: &'a ExprMethodCall) {
            if is_router_new(root(call)) {
                self.found.push(call);
                // The arguments may hold handlers, not routers we append to.
                return;
            }
            syn::visit::visit_expr_method_call(self, call);
        }
    }
    let mut finder = Finder { found: Vec::new() };
    finder.visit_block(&main.block);
    finder.found
}

fn root(call: &ExprMethodCall) -> &Expr {
    let mut receiver = &*call.receiver;
    while let Expr::MethodCall(inner) = receiver {
        receiver = &inner.receiver;
    }
    receiver
}

fn is_router_new(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else {
        return false;
    };
    let segments = super::call_path(call).unwrap_or_default();
    segments.ends_with(&["Router".to_owned(), "new".to_owned()]) && call.args.is_empty()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(source: &str) -> RouterWiring {
        add_http_layer("src/main.rs", source).unwrap()
    }

    #[test]
    fn a_multiline_chain_gets_the_layer_on_its_own_line() {
        let source = "fn main() {\n    let app = Router::new()\n        .route(\"/\", get(root))\n        .with_state(3);\n    serve(app);\n}\n";
        let RouterWiring::Edited(edited) = wire(source) else {
            panic!()
        };
        assert_eq!(
            edited,
            "fn main() {\n    let app = Router::new()\n        .route(\"/\", get(root))\n        .with_state(3)\n        .layer(otel::http_layer());\n    serve(app);\n}\n"
        );
        assert_eq!(wire(&edited), RouterWiring::AlreadyDone);
    }

    #[test]
    fn a_one_line_chain_inside_a_call_gets_it_inline() {
        let source = "fn main() {\n    axum::serve(l, axum::Router::new().route(\"/\", get(|| async { Router::new() })));\n}\n";
        let RouterWiring::Edited(edited) = wire(source) else {
            panic!()
        };
        assert!(
            edited.contains(
                ".route(\"/\", get(|| async { Router::new() })).layer(otel::http_layer()))"
            ),
            "{edited}"
        );
    }

    #[test]
    fn unsafe_places_are_left_alone() {
        for source in [
            "fn main() { let app = app(); }",
            "fn main() { let mut app = Router::new(); app = app.route(\"/\", get(x)); }",
            "fn main() { let a = Router::new().route(\"/\", x); let b = Router::new().route(\"/\", y); }",
            "fn main() { let s = Router::new().route(\"/\", x).into_make_service(); }",
        ] {
            assert!(matches!(wire(source), RouterWiring::Manual(_)), "{source}");
        }
    }
}
