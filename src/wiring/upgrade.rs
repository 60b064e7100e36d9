//! Calls written for an `otel` module whose `init*` functions returned a
//! `Result` (templates v1 and v2): `otel::init().expect(..)`, `.unwrap()`,
//! `otel::init()?` (also through `.context(..)` or `.map_err(..)`). The
//! current module's `init*` return the guard itself, so these no longer
//! compile; they become `otel::init()`. Any other use of the `Result` (a
//! `match`, `.ok()`) is left for a hand edit, and named.

use proc_macro2::LineColumn;
use syn::{
    Expr, ExprCall, ExprMethodCall,
    spanned::Spanned as _,
    visit::{self, Visit},
};

use super::{edits::apply, locate::LineIndex};
use crate::analysis::{main_fn, parse};

/// The functions that returned a `Result` and now return the guard.
const INIT_FUNCTIONS: [&str; 4] = ["init", "init_fmt", "init_without_console", "init_providers"];
/// What unwrapped the `Result`: removed with the call's `Result`.
const UNWRAPS: [&str; 2] = ["expect", "unwrap"];
/// What converted the error before a `?`: removed with the `?`.
const ERROR_ADAPTERS: [&str; 5] = [
    "context",
    "with_context",
    "map_err",
    "wrap_err",
    "wrap_err_with",
];

/// What upgrading one file's calls came to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Upgraded {
    /// The new text, when a call was rewritten.
    pub source: Option<String>,
    /// Each use of the old `Result` left for a hand edit: `` `file:line` (`how`) ``.
    pub left: Vec<String>,
}

/// Rewrites the calls in `source` that unwrap an `otel::init*()` result.
pub fn upgrade_calls(file_name: &str, source: &str) -> anyhow::Result<Upgraded> {
    let file = parse(file_name, source)?;
    let mut calls = OldCalls::default();
    calls.visit_file(&file);
    let index = LineIndex::new(source);
    let edits: Vec<(usize, usize, String)> = calls
        .removals
        .iter()
        .map(|(from, to)| (index.offset(*from), index.offset(*to), String::new()))
        .collect();
    let left = calls
        .left
        .iter()
        .map(|(line, how)| format!("`{file_name}:{line}` ({how})"))
        .collect();
    let source = (!edits.is_empty()).then(|| apply(source, edits));
    Ok(Upgraded { source, left })
}

#[derive(Default)]
struct OldCalls {
    /// Text to delete: from the end of the call to the end of what unwrapped it.
    removals: Vec<(LineColumn, LineColumn)>,
    /// Line and description of each other use of the `Result`.
    left: Vec<(usize, String)>,
}

impl<'ast> Visit<'ast> for OldCalls {
    fn visit_expr(&mut self, expr: &'ast Expr) {
        match expr {
            // `otel::init()?`, `otel::init().context("..")?`
            Expr::Try(t) => {
                let call = through_adapters(&t.expr);
                if let Some(call) = call.filter(|c| is_init(c)) {
                    self.removals.push((call.span().end(), t.span().end()));
                    return;
                }
            }
            // `otel::init().expect("..")`, `otel::init().unwrap()`
            Expr::MethodCall(m) if is_init_expr(&m.receiver) => {
                let method = m.method.to_string();
                if UNWRAPS.contains(&method.as_str()) {
                    self.removals
                        .push((m.receiver.span().end(), m.span().end()));
                } else {
                    self.leave(m.span().start().line, format!("`.{method}(..)`"));
                }
                return;
            }
            Expr::Match(m) if is_init_expr(&m.expr) => {
                self.leave(m.span().start().line, "`match`".to_owned());
            }
            Expr::Let(l) if is_init_expr(&l.expr) => {
                self.leave(l.span().start().line, "`if let`".to_owned());
            }
            _ => {}
        }
        visit::visit_expr(self, expr);
    }
}

impl OldCalls {
    fn leave(&mut self, line: usize, how: String) {
        self.left.push((line, how));
    }
}

/// The call under a chain of error adapters (`.context(..)`, `.map_err(..)`).
fn through_adapters(expr: &Expr) -> Option<&ExprCall> {
    match expr {
        Expr::Call(call) => Some(call),
        Expr::MethodCall(ExprMethodCall {
            receiver, method, ..
        }) if ERROR_ADAPTERS.contains(&method.to_string().as_str()) => through_adapters(receiver),
        _ => None,
    }
}

fn is_init_expr(expr: &Expr) -> bool {
    matches!(expr, Expr::Call(call) if is_init(call))
}

/// `otel::init()`, `crate::otel::init_providers()`, `demo::otel::init_fmt(..)`.
fn is_init(call: &ExprCall) -> bool {
    main_fn::init_function(call).is_some_and(|function| INIT_FUNCTIONS.contains(&function.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgraded(source: &str) -> Upgraded {
        upgrade_calls("src/main.rs", source).unwrap()
    }

    fn text(source: &str) -> String {
        upgraded(source).source.expect("an edit")
    }

    #[test]
    fn unwrapping_and_question_marks_go() {
        assert_eq!(
            text(
                "fn main() {\n    let _otel = otel::init().expect(\"failed to initialize OpenTelemetry\");\n}\n"
            ),
            "fn main() {\n    let _otel = otel::init();\n}\n"
        );
        assert_eq!(
            text(
                "fn main() -> R {\n    let otel = crate::otel::init_providers()?;\n    Ok(())\n}\n"
            ),
            "fn main() -> R {\n    let otel = crate::otel::init_providers();\n    Ok(())\n}\n"
        );
        assert_eq!(
            text(
                "fn main() {\n    let _g = demo::otel::init_fmt(\"error\")\n        .unwrap();\n}\n"
            ),
            "fn main() {\n    let _g = demo::otel::init_fmt(\"error\");\n}\n"
        );
        assert_eq!(
            text(
                "fn main() -> anyhow::Result<()> {\n    let _o = otel::init_without_console().context(\"otel\")?;\n    Ok(())\n}\n"
            ),
            "fn main() -> anyhow::Result<()> {\n    let _o = otel::init_without_console();\n    Ok(())\n}\n"
        );
    }

    #[test]
    fn calls_in_helpers_and_closures_too() {
        let out = text(
            "fn setup() -> Guard {\n    otel::init().unwrap()\n}\nfn main() {\n    let f = || otel::init_providers().expect(\"x\");\n}\n",
        );
        assert!(out.contains("    otel::init()\n}"), "{out}");
        assert!(out.contains("|| otel::init_providers();"), "{out}");
    }

    #[test]
    fn other_uses_are_named_and_current_calls_left_alone() {
        let found = upgraded(
            "fn main() {\n    let g = otel::init().ok();\n    match otel::init() { _ => {} }\n    if let Ok(g) = otel::init_providers() {}\n}\n",
        );
        assert_eq!(found.source, None);
        assert_eq!(
            found.left,
            [
                "`src/main.rs:2` (`.ok(..)`)",
                "`src/main.rs:3` (`match`)",
                "`src/main.rs:4` (`if let`)"
            ]
        );
        let current = "fn main() {\n    let _otel = otel::init();\n    let s = otel::try_init().unwrap();\n    other::init().unwrap();\n}\n";
        assert_eq!(upgraded(current), Upgraded::default());
    }
}
