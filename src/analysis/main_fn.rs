//! What `main` does with `otel::init`: whether it calls it, keeps the guard,
//! and ends the program with `std::process::exit` after it.

use syn::{
    Expr, ExprCall, Item, Pat, Stmt,
    spanned::Spanned as _,
    visit::{self, Visit},
};

/// How `main` treats the guard `otel::init*()` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// `let name = otel::init()...;`: alive until `main` returns.
    Kept(String),
    /// `let _ = otel::init()...;`: dropped (and shut down) at once.
    Underscore,
    /// `otel::init()...;` as a statement: dropped at the end of it.
    Statement,
    /// Inside some other expression: not judged.
    Nested,
}

#[derive(Debug, Clone)]
pub struct InitCall {
    pub line: usize,
    /// `init` or `init_providers`.
    pub function: String,
    pub guard: Guard,
    /// A `std::process::exit` after the call: line, and whether it is a
    /// statement of `main` itself (always reached) or nested in a branch.
    pub exit_after: Option<(usize, bool)>,
}

/// The first `otel::init*` call among the statements of `main`'s body.
pub fn init_call(main: &syn::Block) -> Option<InitCall> {
    let statements = &main.stmts;
    let index = statements.iter().position(|s| finds_init(s).is_some())?;
    let statement = &statements[index];
    let (line, function) = finds_init(statement).expect("just found");
    let guard = match statement {
        Stmt::Local(local) => match &local.pat {
            Pat::Wild(_) => Guard::Underscore,
            pattern => Guard::Kept(tokens(pattern)),
        },
        Stmt::Expr(expr, Some(_)) if is_init_chain(expr) => Guard::Statement,
        _ => Guard::Nested,
    };
    let exit_after = statements[index + 1..].iter().find_map(|s| {
        let mut finder = ExitFinder::default();
        finder.visit_stmt(s);
        let line = finder.line?;
        let direct = matches!(s, Stmt::Expr(Expr::Call(call), _) if is_exit(call));
        Some((line, direct))
    });
    Some(InitCall {
        line,
        function,
        guard,
        exit_after,
    })
}

/// Whether `items` declare the `otel` module.
pub fn declares_otel(items: &[Item]) -> bool {
    items
        .iter()
        .any(|item| matches!(item, Item::Mod(m) if m.ident == "otel"))
}

/// Whether `block` calls one of the module's `init` functions anywhere.
pub fn calls_init(block: &syn::Block) -> bool {
    let mut finder = InitFinder::default();
    finder.visit_block(block);
    finder.found.is_some()
}

/// `otel::init()`, `otel::init()?`, `otel::init().expect(..)`, ...: the
/// call itself and what is chained on its result.
fn is_init_chain(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => init_function(call).is_some(),
        Expr::Try(t) => is_init_chain(&t.expr),
        Expr::MethodCall(m) => is_init_chain(&m.receiver),
        Expr::Await(a) => is_init_chain(&a.base),
        _ => false,
    }
}

/// `Some("init")` for a call of `otel::init`, `crate::otel::init_providers`, ...
pub(crate) fn init_function(call: &ExprCall) -> Option<String> {
    match super::called_path(call)?.as_slice() {
        [.., module, function] if module == "otel" && function.starts_with("init") => {
            Some(function.clone())
        }
        _ => None,
    }
}

fn finds_init(statement: &Stmt) -> Option<(usize, String)> {
    let mut finder = InitFinder::default();
    finder.visit_stmt(statement);
    finder.found
}

#[derive(Default)]
struct InitFinder {
    found: Option<(usize, String)>,
}

impl<'ast> Visit<'ast> for InitFinder {
    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        if self.found.is_none()
            && let Some(function) = init_function(call)
        {
            self.found = Some((call.span().start().line, function));
        }
        visit::visit_expr_call(self, call);
    }
}

fn is_exit(call: &ExprCall) -> bool {
    let segments = super::called_path(call).unwrap_or_default();
    matches!(segments.as_slice(), [.., module, exit] if module == "process" && exit == "exit")
}

#[derive(Default)]
struct ExitFinder {
    line: Option<usize>,
}

impl<'ast> Visit<'ast> for ExitFinder {
    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        if self.line.is_none() && is_exit(call) {
            self.line = Some(call.span().start().line);
        }
        visit::visit_expr_call(self, call);
    }
}

fn tokens(tokens: &impl quote::ToTokens) -> String {
    tokens.to_token_stream().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(source: &str) -> Option<InitCall> {
        let file = syn::parse_file(source).unwrap();
        let main = file.items.iter().find_map(|item| match item {
            Item::Fn(f) if f.sig.ident == "main" => Some(f),
            _ => None,
        });
        init_call(&main.unwrap().block)
    }

    #[test]
    fn guards() {
        let kept =
            call("mod otel;\nfn main() {\n    let _otel = otel::init().unwrap();\n}\n").unwrap();
        assert_eq!(kept.guard, Guard::Kept("_otel".into()));
        assert_eq!(kept.line, 3);
        let dropped = call("fn main() { let _ = otel::init(); }").unwrap();
        assert_eq!(dropped.guard, Guard::Underscore);
        let statement = call("fn main() -> R { otel::init()?; Ok(()) }").unwrap();
        assert_eq!(statement.guard, Guard::Statement);
        let providers =
            call("fn main() { let g = crate::otel::init_providers().unwrap(); }").unwrap();
        assert_eq!(providers.function, "init_providers");
        assert!(call("fn main() { run(); }").is_none());
    }

    #[test]
    fn exits_after_init() {
        let direct =
            call("fn main() {\n let _g = otel::init();\n work();\n std::process::exit(3);\n}")
                .unwrap();
        assert_eq!(direct.exit_after, Some((4, true)));
        let nested =
            call("fn main() {\n let _g = otel::init();\n if bad { std::process::exit(1) }\n}")
                .unwrap();
        assert_eq!(nested.exit_after, Some((3, false)));
    }
}
