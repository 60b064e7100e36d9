//! What the crate root's `main` does with `otel::init`: read with syn.

use syn::{
    Expr, ExprCall, Item, ItemFn, Pat, Stmt,
    spanned::Spanned as _,
    visit::{self, Visit},
};

/// How `main` treats the guard `otel::init*()` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Guard {
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
pub(super) struct InitCall {
    pub(super) line: usize,
    /// `init` or `init_providers`.
    pub(super) function: String,
    pub(super) guard: Guard,
    /// A `std::process::exit` after the call: line, and whether it is a
    /// statement of `main` itself (always reached) or nested in a branch.
    pub(super) exit_after: Option<(usize, bool)>,
}

/// The first `otel::init*` call in `main`, if any; `Err` when there is no `fn main`.
pub(super) fn init_call(file: &syn::File) -> Result<Option<InitCall>, ()> {
    let main = find_main(file).ok_or(())?;
    let statements = &main.block.stmts;
    let Some(index) = statements.iter().position(|s| finds_init(s).is_some()) else {
        return Ok(None);
    };
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
    Ok(Some(InitCall {
        line,
        function,
        guard,
        exit_after,
    }))
}

fn find_main(file: &syn::File) -> Option<&ItemFn> {
    file.items.iter().find_map(|item| match item {
        Item::Fn(f) if f.sig.ident == "main" => Some(f),
        _ => None,
    })
}

pub(super) fn declares_otel(file: &syn::File) -> bool {
    file.items
        .iter()
        .any(|item| matches!(item, Item::Mod(m) if m.ident == "otel"))
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
fn init_function(call: &ExprCall) -> Option<String> {
    match crate::wiring::call_path(call)?.as_slice() {
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
    let segments = crate::wiring::call_path(call).unwrap_or_default();
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
        init_call(&syn::parse_file(source).unwrap()).unwrap()
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
        assert!(init_call(&syn::parse_file("fn other() {}").unwrap()).is_err());
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
