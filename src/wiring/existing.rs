//! Logging a program already sets up. A second global tracing subscriber
//! makes the first `.init()` panic ("a global default trace dispatcher has
//! already been set") and `try_init()?` fail, so `init` never adds
//! `otel::init()` beside one: it merges with it (see `merge`) or says where
//! it is.

use proc_macro2::LineColumn;
use syn::{
    Expr, ExprCall, ExprMethodCall,
    spanned::Spanned as _,
    visit::{self, Visit},
};

/// A call that installs a global subscriber or logger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingInit {
    pub line: usize,
    /// The call as written, tokens joined: `tracing_subscriber::fmt::init()`.
    pub call: String,
    pub kind: Kind,
}

/// What kind of setup a call is, which decides how `init` merges with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `tracing_subscriber::fmt::init()` or `try_init()`.
    FmtInit,
    /// `tracing_subscriber::fmt()….init()`: a fmt builder.
    FmtBuilder,
    /// `fmt()….finish()….init()`: a subscriber built on a fmt builder (it
    /// cannot carry per-layer filters).
    FmtSubscriber,
    /// `tracing_subscriber::registry()….init()`.
    Registry,
    /// `tracing::subscriber::set_global_default(..)`.
    SetGlobalDefault,
    /// A `log` logger: env_logger, simple_logger, log4rs, pretty_env_logger.
    LogLogger,
    /// Anything else that installs a subscriber.
    Other,
}

/// Where a call is, for editing around it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Site {
    pub(super) start: LineColumn,
    pub(super) end: LineColumn,
    /// Where a `.with(..)` goes: the `.` of `.init()` in a chain, or the end
    /// of `set_global_default`'s argument.
    pub(super) layer_at: Option<LineColumn>,
}

/// Crates (and types) that set up the `log` crate's global logger.
const LOG_LOGGERS: [&str; 5] = [
    "env_logger",
    "simple_logger",
    "SimpleLogger",
    "log4rs",
    "pretty_env_logger",
];

/// Every such call in the file (in `main` and the functions it calls).
pub fn find(file: &syn::File) -> Vec<ExistingInit> {
    sites(file).into_iter().map(|(init, _)| init).collect()
}

/// [`find`], with where each call is.
pub(super) fn sites(file: &syn::File) -> Vec<(ExistingInit, Site)> {
    let mut finder = Finder::default();
    finder.visit_file(file);
    finder.found
}

#[derive(Default)]
struct Finder {
    found: Vec<(ExistingInit, Site)>,
    /// `let` bindings holding a subscriber: `subscriber.init()` installs it.
    subscriber_vars: Vec<String>,
}

impl<'ast> Visit<'ast> for Finder {
    /// Test code sets up its own subscribers and never runs with `main`.
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        if !is_test_only(&module.attrs) {
            visit::visit_item_mod(self, module);
        }
    }

    fn visit_item_fn(&mut self, function: &'ast syn::ItemFn) {
        if !is_test_only(&function.attrs) {
            visit::visit_item_fn(self, function);
        }
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let (syn::Pat::Ident(name), Some(init)) = (&local.pat, &local.init) {
            let value = tokens(&init.expr);
            if value.contains("registry") || value.contains("Registry") || value.contains("fmt") {
                self.subscriber_vars.push(name.ident.to_string());
            }
        }
        visit::visit_local(self, local);
    }

    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        let func = tokens(&call.func);
        let name = func.rsplit("::").next().unwrap_or_default().trim();
        let kind = if name == "set_global_default" {
            Some(Kind::SetGlobalDefault)
        } else if LOG_LOGGERS.iter().any(|k| func.contains(k)) && name.starts_with("init")
            || matches!(name, "set_logger" | "set_boxed_logger") && func.contains("log")
        {
            Some(Kind::LogLogger)
        } else if matches!(name, "init" | "try_init") && func.contains("SubscriberInitExt") {
            Some(Kind::Other)
        } else if matches!(name, "init" | "try_init") && mentions_logging(&func) {
            let bare_fmt = func.ends_with("fmt :: init") || func.ends_with("fmt :: try_init");
            Some(if bare_fmt { Kind::FmtInit } else { Kind::Other })
        } else {
            None
        };
        if let Some(kind) = kind.filter(|_| !func.contains("otel")) {
            let layer_at = (kind == Kind::SetGlobalDefault)
                .then(|| call.args.first().map(|arg| arg.span().end()))
                .flatten();
            let site = Site {
                start: call.span().start(),
                end: call.span().end(),
                layer_at,
            };
            self.note(kind, site, &Expr::Call(call.clone()));
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        let method = call.method.to_string();
        if matches!(method.as_str(), "init" | "try_init") {
            let receiver = tokens(&call.receiver);
            let chain = receiver.contains("registry")
                || receiver.contains("Registry")
                || receiver.contains("fmt")
                || mentions_logging(&receiver);
            if chain && !receiver.contains("otel") {
                let site = Site {
                    start: call.span().start(),
                    end: call.span().end(),
                    layer_at: Some(call.dot_token.span.start()),
                };
                self.note(chain_kind(&receiver), site, &Expr::MethodCall(call.clone()));
                return; // The chain's own calls are part of this one.
            }
            if self.subscriber_vars.contains(&receiver) {
                let site = Site {
                    start: call.span().start(),
                    end: call.span().end(),
                    layer_at: None,
                };
                self.note(Kind::Other, site, &Expr::MethodCall(call.clone()));
            }
        }
        visit::visit_expr_method_call(self, call);
    }
}

impl Finder {
    fn note(&mut self, kind: Kind, site: Site, expr: &Expr) {
        let call = tokens(expr)
            .replace(" :: ", "::")
            .replace(" . ", ".")
            .replace(" (", "(")
            .replace("( ", "(")
            .replace(" )", ")");
        let init = ExistingInit {
            line: site.start.line,
            call: abbreviate(&call),
            kind,
        };
        self.found.push((init, site));
    }
}

/// `#[test]`, `#[tokio::test]`, `#[cfg(test)]`.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        let text = quote::ToTokens::to_token_stream(attr).to_string();
        // `#[cfg(test)]` exactly: `#[cfg(not(test))]` is the real program.
        path.segments.last().is_some_and(|s| s.ident == "test")
            || (path.is_ident("cfg") && text.replace(' ', "") == "#[cfg(test)]")
    })
}

/// What a chain ending in `.init()` builds, from its tokens.
fn chain_kind(receiver: &str) -> Kind {
    if LOG_LOGGERS.iter().any(|k| receiver.contains(k)) {
        Kind::LogLogger
    } else if receiver.contains("registry") || receiver.contains("Registry") {
        Kind::Registry
    } else if receiver.contains("fmt") && receiver.contains(". finish ()") {
        Kind::FmtSubscriber
    } else if receiver.contains("fmt") {
        Kind::FmtBuilder
    } else if receiver.contains("Builder") {
        // `Builder::from_default_env()….init()` after `use env_logger::Builder`.
        Kind::LogLogger
    } else {
        Kind::Other
    }
}

/// A long builder chain as its head and its last call:
/// `tracing_subscriber::registry()….init()`.
fn abbreviate(call: &str) -> String {
    const LONGEST: usize = 60;
    let head_end = call.find("()").map(|i| i + 2);
    let tail_start = call.rfind('.');
    match (head_end, tail_start) {
        (Some(head), Some(tail)) if call.len() > LONGEST && head < tail => {
            format!("{}…{}", &call[..head], &call[tail..])
        }
        _ => call.to_owned(),
    }
}

fn mentions_logging(text: &str) -> bool {
    text.contains("tracing_subscriber")
        // `FmtSubscriber::builder()….init()` after a `use`.
        || text.contains("FmtSubscriber")
        || LOG_LOGGERS.iter().any(|krate| text.contains(krate))
        || text.starts_with("fmt ::")
        || text.contains("Builder")
}

fn tokens(expr: &Expr) -> String {
    quote::ToTokens::to_token_stream(expr).to_string()
}
