//! Logging a program already sets up. A second global tracing subscriber
//! makes the first `.init()` panic ("a global default trace dispatcher has
//! already been set") and `try_init()?` fail, so `init` must not add
//! `otel::init()` beside one; it says where the existing one is instead.

use syn::{
    Expr, ExprCall, ExprMethodCall,
    spanned::Spanned as _,
    visit::{self, Visit},
};

/// A call that installs a global subscriber or logger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ExistingInit {
    pub(super) line: usize,
    /// The call as written, tokens joined: `tracing_subscriber::fmt::init()`.
    pub(super) call: String,
}

/// Crates whose `init`/`try_init` installs a global subscriber or logger.
const LOGGING_CRATES: [&str; 5] = [
    "tracing_subscriber",
    "env_logger",
    "simple_logger",
    "log4rs",
    "pretty_env_logger",
];

/// Every such call in the file (in `main` and the functions it calls).
pub(super) fn find(file: &syn::File) -> Vec<ExistingInit> {
    let mut finder = Finder::default();
    finder.visit_file(file);
    finder.found
}

#[derive(Default)]
struct Finder {
    found: Vec<ExistingInit>,
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        let func = tokens(&call.func);
        let name = func.rsplit("::").next().unwrap_or_default().trim();
        let installs = matches!(name, "init" | "try_init") && mentions_logging(&func)
            || name == "set_global_default";
        if installs && !func.contains("otel") {
            self.note(call.span().start().line, &Expr::Call(call.clone()));
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        let method = call.method.to_string();
        if matches!(method.as_str(), "init" | "try_init") {
            let receiver = tokens(&call.receiver);
            let chain = receiver.contains("registry")
                || receiver.contains("fmt")
                || mentions_logging(&receiver);
            if chain && !receiver.contains("otel") {
                self.note(call.span().start().line, &Expr::MethodCall(call.clone()));
                return; // The chain's own calls are part of this one.
            }
        }
        visit::visit_expr_method_call(self, call);
    }
}

impl Finder {
    fn note(&mut self, line: usize, expr: &Expr) {
        let call = tokens(expr)
            .replace(" :: ", "::")
            .replace(" . ", ".")
            .replace(" (", "(")
            .replace("( ", "(")
            .replace(" )", ")");
        self.found.push(ExistingInit {
            line,
            call: abbreviate(&call),
        });
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
    LOGGING_CRATES.iter().any(|krate| text.contains(krate))
        || text.starts_with("fmt ::")
        || text.contains("Builder")
}

fn tokens(expr: &Expr) -> String {
    quote::ToTokens::to_token_stream(expr).to_string()
}
