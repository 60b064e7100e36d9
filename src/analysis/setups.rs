//! What `init` needs to know about a logging setup beyond its call: where the
//! subscriber it installs is built, whether that subscriber has a global
//! filter, whether a `log` logger keeps its crate's default filter.

use proc_macro2::LineColumn;
use syn::{
    Expr,
    spanned::Spanned as _,
    visit::{self, Visit},
};

use super::{FnId, Kind, Origin, Program, Setup, installs};

/// What a subscriber is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Built {
    /// `registry()` / `Registry::default()` with layers: per-layer filters fit.
    Registry,
    /// `fmt()….finish()`: a `fmt::Subscriber`, which takes no per-layer filter.
    Fmt,
}

/// The methods of an env_logger builder (or words of its environment) that
/// set a filter in code rather than leaving it to the crate's default.
const EXPLICIT_FILTERS: [&str; 7] = [
    "filter",
    "filter_level",
    "filter_module",
    "parse_filters",
    "default_filter_or",
    "filter_or",
    "with_level",
];

impl Program {
    /// What a setup works on: the receiver of `x.init()`, the argument of
    /// `set_global_default(x)`.
    pub fn operand(&self, setup: &Setup) -> Option<Expr> {
        let (start, end) = setup.site.operand?;
        self.expr_at(setup.function, start, end)
    }

    /// Where the subscriber of `set_global_default(subscriber)` or
    /// `subscriber.init()` is built.
    pub fn subscriber_origin(&self, setup: &Setup) -> Option<Origin> {
        let operand = self.operand(setup)?;
        self.origin(setup.function, &operand, &|_, expr| {
            built_from(expr).is_some()
        })
    }

    /// Whether a chain's `.with(..)` calls add a filter for every layer
    /// (`.with(EnvFilter::..)`, `.with(filter)` of a variable holding one),
    /// rather than only per layer (`layer.with_filter(..)`).
    pub fn has_global_filter(&self, origin: &Origin) -> bool {
        self.chain_has_global_filter(origin.function, &origin.expr)
    }

    /// [`Self::has_global_filter`] for a chain in a function's body.
    pub fn chain_has_global_filter(&self, function: FnId, chain: &Expr) -> bool {
        let mut receiver = chain;
        while let Expr::MethodCall(call) = receiver {
            if call.method == "with"
                && let Some(argument) = call.args.first()
                && self.is_filter(function, argument)
            {
                return true;
            }
            receiver = &call.receiver;
        }
        false
    }

    fn is_filter(&self, function: FnId, argument: &Expr) -> bool {
        if let Some(name) = installs::variable(argument) {
            let f = &self.functions[function];
            let typed_parameter = f.sig.inputs.iter().any(|input| match input {
                syn::FnArg::Typed(typed) => {
                    installs::binding(&typed.pat).as_deref() == Some(name.as_str())
                        && filter_words(&tokens(&typed.ty))
                }
                syn::FnArg::Receiver(_) => false,
            });
            return typed_parameter
                || self
                    .binding(function, &name, argument.span().start())
                    .is_some_and(|(value, _)| filter_words(&tokens(&value)));
        }
        filter_words(&tokens(argument))
    }

    /// Whether an env_logger-like setup leaves the filter to the crate's
    /// default (`RUST_LOG`, else errors only): no filter set in code.
    pub fn logger_keeps_default_filter(&self, setup: &Setup) -> bool {
        if !matches!(setup.site.kind, Kind::EnvLogger | Kind::PrettyEnvLogger) {
            return false;
        }
        let body = tokens(&self.functions[setup.function].block);
        !body
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|word| EXPLICIT_FILTERS.contains(&word))
    }

    /// The expression spanning exactly `start..end` in a function's body.
    pub fn expr_at(&self, function: FnId, start: LineColumn, end: LineColumn) -> Option<Expr> {
        struct At {
            start: LineColumn,
            end: LineColumn,
            found: Option<Expr>,
        }
        impl<'ast> Visit<'ast> for At {
            fn visit_expr(&mut self, expr: &'ast Expr) {
                if self.found.is_none()
                    && expr.span().start() == self.start
                    && expr.span().end() == self.end
                {
                    self.found = Some(expr.clone());
                }
                visit::visit_expr(self, expr);
            }
            fn visit_macro(&mut self, mac: &'ast syn::Macro) {
                for expr in super::calls::macro_expressions(mac) {
                    self.visit_expr(&expr);
                }
            }
        }
        let mut at = At {
            start,
            end,
            found: None,
        };
        at.visit_block(&self.functions[function].block);
        at.found
    }
}

/// What a subscriber-building expression builds from, if it is one: a chain
/// (or call) rooted at `registry()`, or a `fmt` builder finished into a
/// subscriber.
pub fn built_from(expr: &Expr) -> Option<Built> {
    let text = tokens(expr);
    let root = match expr {
        Expr::MethodCall(call) => {
            let mut receiver = &*call.receiver;
            while let Expr::MethodCall(inner) = receiver {
                receiver = &inner.receiver;
            }
            tokens(receiver)
        }
        Expr::Call(_) => text.clone(),
        _ => return None,
    };
    if root.contains("otel") {
        return None;
    }
    if root.ends_with("registry ()")
        || root.contains("Registry :: default")
        || root.contains("Registry :: new")
    {
        return Some(Built::Registry);
    }
    let fmt_root = root.ends_with("fmt ()")
        || root.contains("FmtSubscriber")
        || root.contains("Subscriber :: builder")
        || root.contains("SubscriberBuilder");
    let finished = text.ends_with(". finish ()") || root.contains("FmtSubscriber :: new");
    (fmt_root && finished).then_some(Built::Fmt)
}

/// Words that make an expression a filter rather than a layer.
fn filter_words(text: &str) -> bool {
    let names_a_filter = [
        "EnvFilter",
        "LevelFilter",
        "Targets",
        "filter_fn",
        "FilterFn",
        "DynFilterFn",
    ]
    .iter()
    .any(|word| text.contains(word));
    names_a_filter && !text.contains("with_filter") && !text.contains("layer")
}

fn tokens(tokens: &impl quote::ToTokens) -> String {
    tokens.to_token_stream().to_string()
}
