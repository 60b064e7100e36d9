//! Keeping the guard `otel::init*()` returns alive (for `doctor --fix`).

use syn::{Item, Pat, Stmt, spanned::Spanned as _};

use super::locate::LineIndex;
use crate::analysis::parse;

/// Makes `main` keep the guard `otel::init*()` returns, so telemetry is
/// flushed when `main` ends: `let _ = otel::init()...;` becomes `let _otel =
/// ...`, and a bare `otel::init()...;` statement gains `let _otel = `.
/// `None` when there is nothing to change.
pub fn keep_guard(file_name: &str, source: &str) -> anyhow::Result<Option<String>> {
    let file = parse(file_name, source)?;
    let main = file.items.iter().find_map(|item| match item {
        Item::Fn(f) if f.sig.ident == "main" => Some(f),
        _ => None,
    });
    let Some(main) = main else {
        return Ok(None);
    };
    let index = LineIndex::new(source);
    for statement in &main.block.stmts {
        if !quote::ToTokens::to_token_stream(statement)
            .to_string()
            .contains("otel :: init")
        {
            continue;
        }
        let edit = match statement {
            Stmt::Local(local) => match &local.pat {
                Pat::Wild(wild) => {
                    let at = index.offset(wild.underscore_token.span.start());
                    Some((at, at + 1, "_otel"))
                }
                _ => None,
            },
            Stmt::Expr(expr, Some(_)) => {
                let at = index.offset(expr.span().start());
                Some((at, at, "let _otel = "))
            }
            _ => None,
        };
        return Ok(edit.map(|(from, to, text)| {
            let mut edited = source.to_owned();
            edited.replace_range(from..to, text);
            edited
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(source: &str) -> Option<String> {
        keep_guard("src/main.rs", source).unwrap()
    }

    #[test]
    fn underscore_and_bare_calls_get_a_name() {
        assert_eq!(
            kept("fn main() {\n    let _ = otel::init().unwrap(); // why\n}\n").as_deref(),
            Some("fn main() {\n    let _otel = otel::init().unwrap(); // why\n}\n")
        );
        assert_eq!(
            kept("fn main() -> R {\n    otel::init()?;\n    Ok(())\n}\n").as_deref(),
            Some("fn main() -> R {\n    let _otel = otel::init()?;\n    Ok(())\n}\n")
        );
    }

    #[test]
    fn a_named_guard_is_left_alone() {
        assert_eq!(
            kept("fn main() {\n    let guard = otel::init();\n}\n"),
            None
        );
        assert_eq!(kept("fn main() {}\n"), None);
    }
}
