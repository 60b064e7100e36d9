//! Adding OpenTelemetry to logging `main` already sets up, instead of a
//! second global subscriber beside it:
//!
//! * a `registry()` chain (or `set_global_default` of one) gets
//!   `let otel = otel::init_providers()...;` before it and
//!   `.with(otel.layers())` in it, so its filters, format and writer stay;
//! * a `fmt()` builder gets `.finish().with(otel.fmt_layers())` (a
//!   `fmt::Subscriber` cannot carry per-layer filters);
//! * `fmt::init()`/`try_init()` becomes `otel::init_fmt(..)`, which prints the
//!   same console lines;
//! * a `log` logger (env_logger & co.) keeps the console and `log` records,
//!   and `otel::init_without_console()` after it exports `tracing` data.
//!
//! Anything else, or a setup outside `main`'s own statements, is left alone
//! with instructions.

use proc_macro2::LineColumn;
use syn::{Expr, ItemFn, Stmt, spanned::Spanned as _};

use super::{
    existing::{self, ExistingInit, Kind, Site},
    locate::LineIndex,
};

/// The edits that merge OpenTelemetry into the existing setup, or why not.
#[derive(Debug)]
pub(super) enum Merge {
    Edits {
        /// (start, end, replacement) byte ranges.
        edits: Vec<(usize, usize, String)>,
        added: String,
        note: Option<String>,
    },
    Manual {
        reason: String,
        /// The lines to add, each with where it goes.
        lines: Vec<(String, String)>,
    },
}

/// What `init` needs to know beyond the file.
pub(super) struct Context<'a> {
    pub(super) file_name: &'a str,
    pub(super) file: &'a syn::File,
    pub(super) index: &'a LineIndex,
    pub(super) main: Option<&'a ItemFn>,
    /// `error` with tracing-subscriber's `env-filter` feature, `info` without:
    /// what `fmt::init()` shows when `RUST_LOG` is unset.
    pub(super) fmt_default_filter: &'a str,
    /// What follows each `otel::init*()` call (see `try_suffix`).
    pub(super) try_suffix: &'a str,
}

/// `None` when the file sets up no logging.
pub(super) fn plan(cx: &Context<'_>) -> Option<Merge> {
    let found = existing::sites(cx.file);
    let (init, site) = found.first()?;
    let at = format!("`{}:{}` (`{}`)", cx.file_name, init.line, init.call);
    if found.len() > 1 {
        let others: Vec<String> = found[1..]
            .iter()
            .map(|(i, _)| format!("`{}` at line {}", i.call, i.line))
            .collect();
        let reason = format!(
            "it sets up logging more than once, at {at} and {}",
            others.join(", ")
        );
        return Some(manual(cx, init, reason));
    }
    let Some(stmt) = cx.main.and_then(|main| statement_of(main, site)) else {
        let inside_main = cx.main.is_some_and(|main| {
            let span = main.span();
            span.start() <= site.start && site.end <= span.end()
        });
        let place = if inside_main {
            "inside a block or closure of `main`"
        } else {
            "outside `main`"
        };
        let reason = format!(
            "it sets up logging at {at}, {place}, where cargo-otel cannot keep the guard alive until `main` returns"
        );
        return Some(manual(cx, init, reason));
    };
    if cx.main.is_some_and(|main| on_a_brace_line(main, stmt)) {
        // Lines are inserted before or after the statement: on `main`'s
        // opening or closing line they would land outside its body.
        let reason = format!(
            "it sets up logging at {at}, on the same line as a brace of `main`, where cargo-otel cannot add a line"
        );
        return Some(manual(cx, init, reason));
    }
    let edits = match init.kind {
        Kind::Registry | Kind::FmtSubscriber | Kind::FmtBuilder => chain(cx, init, site, stmt),
        Kind::SetGlobalDefault => set_global_default(cx, init, site, stmt),
        Kind::FmtInit => fmt_init(cx, init, stmt),
        Kind::LogLogger => log_logger(cx, stmt),
        Kind::Other => None,
    };
    Some(edits.unwrap_or_else(|| {
        let reason = format!(
            "it sets up logging at {at} in a way cargo-otel does not recognize, and a second global subscriber would make it fail at start"
        );
        manual(cx, init, reason)
    }))
}

fn on_a_brace_line(main: &ItemFn, stmt: &Stmt) -> bool {
    let braces = main.block.brace_token.span;
    let (open, close) = (braces.open().start().line, braces.close().start().line);
    let (first, last) = (stmt.span().start().line, stmt.span().end().line);
    first == open || last == close
}

/// The statement of `main`'s body that starts with the call (`call;`,
/// `call?;`, `let x = call.expect(..);`), not one that has it in a block or a
/// closure, where the guard or the layers would end up in the wrong scope.
fn statement_of<'a>(main: &'a ItemFn, site: &Site) -> Option<&'a Stmt> {
    main.block.stmts.iter().find(|stmt| {
        let leading = match stmt {
            Stmt::Expr(expr, _) => Some(expr.span()),
            Stmt::Local(local) => local.init.as_ref().map(|init| init.expr.span()),
            _ => None,
        };
        leading.is_some_and(|span| span.start() == site.start && site.end <= span.end())
    })
}

/// `.with(otel.layers())` before the chain's `.init()`, the guard before
/// the statement.
fn chain(cx: &Context<'_>, init: &ExistingInit, site: &Site, stmt: &Stmt) -> Option<Merge> {
    let dot = site.layer_at?;
    let (method, finish) = match init.kind {
        Kind::Registry => ("layers", ""),
        Kind::FmtSubscriber => ("fmt_layers", ""),
        _ => ("fmt_layers", ".finish()"),
    };
    let at = cx.index.offset(dot);
    let mut edits = vec![guard(cx, stmt)];
    let text = if cx.index.starts_line(dot) {
        let indent = cx.index.indentation(dot.line);
        let finish = match finish {
            "" => String::new(),
            f => format!("{f}\n{indent}"),
        };
        format!("{finish}.with(otel.{method}())\n{indent}")
    } else {
        format!("{finish}.with(otel.{method}())")
    };
    edits.push((at, at, text));
    edits.extend(trait_imports(cx, &[SUBSCRIBER_EXT, SUBSCRIBER_INIT_EXT]));
    let added = format!(
        "`.with(otel.{method}())` in the subscriber set up at line {}",
        init.line
    );
    Some(edits_with(edits, added, None))
}

/// `set_global_default(registry()…)`: the layers go at the end of the
/// argument. A subscriber built elsewhere (a variable) is not recognized.
fn set_global_default(
    cx: &Context<'_>,
    init: &ExistingInit,
    site: &Site,
    stmt: &Stmt,
) -> Option<Merge> {
    let expr = match stmt {
        Stmt::Expr(expr, _) => expr,
        Stmt::Local(local) => &*local.init.as_ref()?.expr,
        _ => return None,
    };
    let argument = first_call_argument(expr)?;
    let text = quote::ToTokens::to_token_stream(argument).to_string();
    let method = if text.contains("registry") || text.contains("Registry") {
        "layers"
    } else if text.contains("fmt") && text.ends_with(". finish ()") {
        "fmt_layers"
    } else {
        return None;
    };
    let end = cx.index.offset(site.layer_at?);
    let mut edits = vec![
        guard(cx, stmt),
        (end, end, format!(".with(otel.{method}())")),
    ];
    edits.extend(trait_imports(cx, &[SUBSCRIBER_EXT]));
    let added = format!(
        "`.with(otel.{method}())` in the subscriber set up at line {}",
        init.line
    );
    Some(edits_with(edits, added, None))
}

/// The argument of the outermost call in `expr` (through `?`, `.expect()`).
fn first_call_argument(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::Call(call) => call.args.first(),
        Expr::Try(t) => first_call_argument(&t.expr),
        Expr::MethodCall(m) => first_call_argument(&m.receiver),
        _ => None,
    }
}

/// `fmt::init();` becomes `let _otel = otel::init_fmt("error")...;`.
fn fmt_init(cx: &Context<'_>, init: &ExistingInit, stmt: &Stmt) -> Option<Merge> {
    if !is_plain_call_statement(stmt) {
        return None;
    }
    let (start, end) = (stmt.span().start(), stmt.span().end());
    let filter = cx.fmt_default_filter;
    let statement = format!("let _otel = otel::init_fmt({filter:?}){};", cx.try_suffix);
    let edits = vec![(cx.index.offset(start), cx.index.offset(end), statement)];
    let added = format!(
        "`otel::init_fmt({filter:?})` in place of `{}` (the same console output)",
        init.call
    );
    Some(edits_with(edits, added, None))
}

/// `call;`, `call?;`, `call.unwrap();`, `call.expect(..);` or `let _ = call;`:
/// a statement that only runs the call, so replacing it loses nothing.
fn is_plain_call_statement(stmt: &Stmt) -> bool {
    fn only_the_call(expr: &Expr) -> bool {
        match expr {
            Expr::Call(_) => true,
            Expr::Try(t) => only_the_call(&t.expr),
            Expr::MethodCall(m) => {
                matches!(m.method.to_string().as_str(), "unwrap" | "expect" | "ok")
                    && only_the_call(&m.receiver)
            }
            _ => false,
        }
    }
    match stmt {
        Stmt::Expr(expr, Some(_)) => only_the_call(expr),
        Stmt::Local(local) => {
            matches!(local.pat, syn::Pat::Wild(_))
                && local.init.as_ref().is_some_and(|i| only_the_call(&i.expr))
        }
        _ => false,
    }
}

/// The logger keeps `log` records and the console; the line after it adds
/// a subscriber with only the OpenTelemetry layers.
fn log_logger(cx: &Context<'_>, stmt: &Stmt) -> Option<Merge> {
    let end = stmt.span().end();
    let indent = cx.index.indentation(stmt.span().start().line);
    let at = cx.index.line_after(end);
    let statement = format!(
        "{indent}let _otel = otel::init_without_console(){};\n",
        cx.try_suffix
    );
    let note = "`log` records still go to your logger only: bridging them into tracing \
                (tracing-log) would replace its console format\n\
                help: to export them too, log with `tracing` or set up `tracing_subscriber` \
                instead, and run `cargo otel init` again"
        .to_owned();
    let added = "`otel::init_without_console()` after the `log` logger".to_owned();
    Some(edits_with(vec![(at, at, statement)], added, Some(note)))
}

/// `let otel = otel::init_providers()...;` on its own line before `stmt`.
fn guard(cx: &Context<'_>, stmt: &Stmt) -> (usize, usize, String) {
    let line = stmt.span().start().line;
    let at = cx.index.line_start_of(LineColumn { line, column: 0 });
    let indent = cx.index.indentation(line);
    let text = format!(
        "{indent}let otel = otel::init_providers(){};\n",
        cx.try_suffix
    );
    (at, at, text)
}

/// A trait by name, and how to import it from `tracing_subscriber`.
type Trait = (&'static str, &'static str);
/// `.with(..)` on a subscriber.
const SUBSCRIBER_EXT: Trait = ("SubscriberExt", "layer::SubscriberExt as _");
/// `.init()` on a subscriber.
const SUBSCRIBER_INIT_EXT: Trait = ("SubscriberInitExt", "util::SubscriberInitExt as _");

/// A `use` for those of `needed` the file does not import yet.
fn trait_imports(cx: &Context<'_>, needed: &[Trait]) -> Option<(usize, usize, String)> {
    let uses: Vec<&syn::ItemUse> = cx
        .file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Use(u) => Some(u),
            _ => None,
        })
        .collect();
    let texts: Vec<String> = uses
        .iter()
        .map(|u| quote::ToTokens::to_token_stream(u).to_string())
        .collect();
    // Only tracing-subscriber's prelude brings the traits (not rayon's).
    let prelude = texts
        .iter()
        .any(|t| t.contains("tracing_subscriber") && t.contains("prelude :: *"));
    let text = texts.concat();
    let missing: Vec<&str> = needed
        .iter()
        .filter(|(name, _)| !prelude && !has_ident(&text, name))
        .map(|(_, path)| *path)
        .collect();
    let line = match missing.as_slice() {
        [] => return None,
        [one] => format!("use tracing_subscriber::{one};"),
        many => format!("use tracing_subscriber::{{{}}};", many.join(", ")),
    };
    Some(match uses.last() {
        // A group of its own, which rustfmt leaves where it is.
        Some(last) => {
            let at = cx.index.line_after(last.span().end());
            (at, at, format!("\n{line}\n"))
        }
        None => {
            let at = cx.index.line_start_of(LineColumn { line: 1, column: 0 });
            let first = cx.file.items.first().map(|i| i.span().start());
            let at = first.map_or(at, |f| cx.index.above_comments(f));
            (at, at, format!("{line}\n\n"))
        }
    })
}

/// Whether `name` appears in `tokens` as a whole identifier.
fn has_ident(tokens: &str, name: &str) -> bool {
    tokens
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|t| t == name)
}

fn edits_with(edits: Vec<(usize, usize, String)>, added: String, note: Option<String>) -> Merge {
    Merge::Edits { edits, added, note }
}

/// The lines to add by hand, for a setup `init` does not edit.
fn manual(cx: &Context<'_>, init: &ExistingInit, reason: String) -> Merge {
    let suffix = cx.try_suffix;
    let lines = match init.kind {
        Kind::FmtInit => vec![(
            format!(
                "let _otel = otel::init_fmt({:?}){suffix};",
                cx.fmt_default_filter
            ),
            format!("in place of `{}`", init.call),
        )],
        Kind::LogLogger => vec![(
            format!("let _otel = otel::init_without_console(){suffix};"),
            format!("in `main`, after `{}`", init.call),
        )],
        kind => {
            let (layers, place) = match kind {
                Kind::Registry => (".with(otel.layers())", "before `.init()`"),
                Kind::FmtBuilder => (".finish().with(otel.fmt_layers())", "before `.init()`"),
                Kind::FmtSubscriber => (".with(otel.fmt_layers())", "before `.init()`"),
                _ => (
                    ".with(otel.layers())",
                    "on the subscriber (`otel.fmt_layers()` on a `fmt()….finish()` one)",
                ),
            };
            vec![
                (
                    format!("let otel = otel::init_providers(){suffix};"),
                    "first thing in `main`: `otel` must live until `main` returns".to_owned(),
                ),
                (
                    layers.to_owned(),
                    format!("{place} in the setup at `{}:{}`", cx.file_name, init.line),
                ),
            ]
        }
    };
    Merge::Manual { reason, lines }
}
