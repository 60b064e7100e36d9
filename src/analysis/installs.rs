//! Calls that install a process-wide logging setup: a global tracing
//! subscriber (`fmt::init()`, a `registry()` chain's `.init()`,
//! `set_global_default`), a `log` logger (env_logger & co., a program's own
//! `log::Log` behind `log::set_logger`) or tracing-log's `LogTracer`. A
//! second one of a kind fails at start (`.init()` panics with "a global
//! default trace dispatcher has already been set"), so `init` merges with
//! the one there is.

use proc_macro2::LineColumn;
use syn::{
    Expr, ExprCall, ExprMethodCall,
    spanned::Spanned as _,
    visit::{self, Visit},
};

/// What kind of setup a call is, which decides how `init` merges with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `tracing_subscriber::fmt::init()` or `try_init()`.
    FmtInit,
    /// `fmt()….init()`, `FmtSubscriber::builder()….init()`: a fmt builder.
    FmtBuilder,
    /// `fmt()….finish()….init()`: a subscriber built on a fmt builder (it
    /// cannot carry per-layer filters).
    FmtSubscriber,
    /// `tracing_subscriber::registry()….init()`.
    Registry,
    /// `tracing::subscriber::set_global_default(..)`.
    SetGlobalDefault,
    /// tracing-log's `LogTracer::init()`: `log` records into tracing.
    LogTracer,
    /// env_logger: `env_logger::init()`, `Builder::…init()`, `builder.init()`.
    EnvLogger,
    /// `pretty_env_logger::init()` and its kin.
    PrettyEnvLogger,
    /// `log::set_logger(..)` / `log::set_boxed_logger(..)`: the program's
    /// own `log::Log`.
    OwnLogger,
    /// fern: `Dispatch::new()….apply()`.
    Fern,
    /// simplelog: `TermLogger::init(..)`, `CombinedLogger::init(..)`, ...
    Simplelog,
    /// log4rs: `log4rs::init_file(..)`.
    Log4rs,
    /// Another `log` logger (simple_logger, log4rs, fern, flexi_logger...).
    LogLogger,
    /// Anything else that installs a subscriber.
    Other,
    /// A call that sets up logging in another crate (`logging::init()`),
    /// which `init` cannot see into.
    Elsewhere,
}

/// Which global a kind of setup installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    /// tracing's global dispatcher.
    Tracing,
    /// `log`'s global logger, as the console.
    Log,
    /// `log`'s global logger, forwarding into tracing.
    LogIntoTracing,
}

impl Kind {
    pub fn global(self) -> Global {
        match self {
            Self::LogTracer => Global::LogIntoTracing,
            Self::EnvLogger
            | Self::PrettyEnvLogger
            | Self::OwnLogger
            | Self::Fern
            | Self::Simplelog
            | Self::Log4rs
            | Self::LogLogger => Global::Log,
            _ => Global::Tracing,
        }
    }
}

/// One such call, where it is in its function's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub kind: Kind,
    /// The call as written, tokens joined: `tracing_subscriber::fmt::init()`.
    pub call: String,
    pub start: LineColumn,
    pub end: LineColumn,
    /// The function or method called: `init`, `try_init`, `set_logger`, ...
    pub name: String,
    /// What the call works on: the receiver of `x.init()`, the argument of
    /// `set_global_default(x)` or `set_logger(x)`.
    pub operand: Option<(LineColumn, LineColumn)>,
    /// The operand, when it is a plain variable.
    pub variable: Option<String>,
    /// Where a `.with(..)` goes: the `.` of `.init()` in a chain.
    pub layer_at: Option<LineColumn>,
}

/// Crates (and types) that set up the `log` crate's global logger.
const LOG_LOGGERS: [&str; 20] = [
    "env_logger",
    "pretty_env_logger",
    "simple_logger",
    "SimpleLogger",
    "log4rs",
    "fern",
    "flexi_logger",
    "simplelog",
    "stderrlog",
    "femme",
    "syslog",
    "systemd_journal_logger",
    "JournalLog",
    "tui_logger",
    "simple_logging",
    "android_logger",
    "oslog",
    "slog_stdlog",
    "colog",
    "loggerv",
];

/// What a function or method that sets up logging is called, in crates
/// init does not know: `logging::init()`, `telemetry::setup()`.
const SETUP_NAMES: [&str; 6] = ["init", "try_init", "setup", "start", "install", "configure"];

/// Path segments that say a call is about logging, in crates init does
/// not know (a workspace's own `telemetry` crate).
const LOGGING_WORDS: [&str; 7] = [
    "log",
    "logger",
    "logging",
    "logs",
    "telemetry",
    "tracing",
    "observability",
];

/// simplelog's loggers, as `Logger::init(..)` calls them.
const SIMPLELOG_LOGGERS: [&str; 5] = [
    "TermLogger :: init",
    "WriteLogger :: init",
    "CombinedLogger :: init",
    "TestLogger :: init",
    "simplelog :: SimpleLogger :: init",
];

/// Every such call in a function body.
pub fn find(block: &syn::Block) -> Vec<Site> {
    let mut finder = Finder::default();
    finder.visit_block(block);
    finder.found
}

#[derive(Default)]
struct Finder {
    found: Vec<Site>,
    /// `let` bindings holding a subscriber: `subscriber.init()` installs it.
    subscriber_vars: Vec<String>,
    /// `let` bindings holding an env_logger builder.
    builder_vars: Vec<String>,
}

impl<'ast> Visit<'ast> for Finder {
    /// Items nested in a body are functions of their own.
    fn visit_item(&mut self, _: &'ast syn::Item) {}

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let (Some(name), Some(init)) = (binding(&local.pat), &local.init) {
            let value = tokens(&init.expr);
            if value.contains("env_logger") || value.starts_with("Builder ::") {
                self.builder_vars.push(name);
            } else if value.contains("registry")
                || value.contains("Registry")
                || value.contains("fmt")
                || value.contains("FmtSubscriber")
            {
                self.subscriber_vars.push(name);
            }
        }
        visit::visit_local(self, local);
    }

    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        let func = tokens(&call.func);
        let name = func
            .rsplit("::")
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if let Some(kind) = function_kind(&func, &name).filter(|_| !func.contains("otel")) {
            let argument = call.args.first();
            self.note(
                Site {
                    kind,
                    call: String::new(),
                    start: call.span().start(),
                    end: call.span().end(),
                    name,
                    operand: argument.map(|a| (a.span().start(), a.span().end())),
                    variable: argument.and_then(variable),
                    layer_at: None,
                },
                &Expr::Call(call.clone()),
            );
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        let method = call.method.to_string();
        if matches!(method.as_str(), "start" | "install" | "start_with_specfile") {
            // flexi_logger's `Logger::try_with_str(..)?.start()` and the like.
            let receiver = tokens(&call.receiver);
            if LOG_LOGGERS.iter().any(|k| receiver.contains(k)) {
                let site = Site {
                    kind: Kind::LogLogger,
                    call: String::new(),
                    start: call.span().start(),
                    end: call.span().end(),
                    name: method,
                    operand: None,
                    variable: None,
                    layer_at: None,
                };
                self.note(site, &Expr::MethodCall(call.clone()));
                return;
            }
        }
        if matches!(method.as_str(), "init" | "try_init" | "apply") {
            let receiver = tokens(&call.receiver);
            let var = variable(&call.receiver);
            let kind = if let Some(var) = &var {
                if self.builder_vars.contains(var) && method != "apply" {
                    Some(Kind::EnvLogger)
                } else if self.subscriber_vars.contains(var) && method != "apply" {
                    Some(Kind::Other)
                } else {
                    None
                }
            } else if method == "apply" {
                (receiver.contains("fern") || receiver.contains("Dispatch")).then_some(Kind::Fern)
            } else {
                let chain = receiver.contains("registry")
                    || receiver.contains("Registry")
                    || receiver.contains("fmt")
                    || mentions_logging(&receiver);
                (chain && !receiver.contains("otel")).then(|| chain_kind(&receiver))
            };
            if let Some(kind) = kind {
                let site = Site {
                    kind,
                    call: String::new(),
                    start: call.span().start(),
                    end: call.span().end(),
                    name: method,
                    operand: Some((call.receiver.span().start(), call.receiver.span().end())),
                    variable: var,
                    layer_at: Some(call.dot_token.span.start()),
                };
                self.note(site, &Expr::MethodCall(call.clone()));
                if kind != Kind::Other {
                    return; // The chain's own calls are part of this one.
                }
            }
        }
        visit::visit_expr_method_call(self, call);
    }

    /// Setups inside macros (`vec![..]`, `tokio::select! { .. }`) count too:
    /// parsed where the arguments are expressions, else told by their words.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let expressions = super::calls::macro_expressions(mac);
        if expressions.is_empty() && looks_like_a_setup(&mac.tokens.to_string()) {
            let site = Site {
                kind: Kind::Other,
                call: String::new(),
                start: mac.span().start(),
                end: mac.span().end(),
                name: mac
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default(),
                operand: None,
                variable: None,
                layer_at: None,
            };
            let text = quote::ToTokens::to_token_stream(mac).to_string();
            self.found.push(Site {
                call: abbreviate(&text),
                ..site
            });
        }
        for expr in expressions {
            self.visit_expr(&expr);
        }
    }
}

impl Finder {
    fn note(&mut self, mut site: Site, expr: &Expr) {
        let call = tokens(expr)
            .replace(" :: ", "::")
            .replace(" . ", ".")
            .replace(" (", "(")
            .replace("( ", "(")
            .replace(" )", ")");
        site.call = abbreviate(&call);
        self.found.push(site);
    }
}

/// The kind of a plain function call, from its path and name.
fn function_kind(func: &str, name: &str) -> Option<Kind> {
    let is_init = matches!(name, "init" | "try_init");
    if name == "set_global_default" {
        Some(Kind::SetGlobalDefault)
    } else if func.contains("LogTracer") && name.starts_with("init") {
        Some(Kind::LogTracer)
    } else if func.starts_with("pretty_env_logger") && name.contains("init") {
        Some(Kind::PrettyEnvLogger)
    } else if func.starts_with("env_logger") && name.contains("init") {
        Some(Kind::EnvLogger)
    } else if name == "init" && SIMPLELOG_LOGGERS.iter().any(|l| func.ends_with(l)) {
        Some(Kind::Simplelog)
    } else if func.starts_with("log4rs") && name == "init_file" {
        Some(Kind::Log4rs)
    } else if LOG_LOGGERS.iter().any(|k| func.contains(k)) && name.contains("init") {
        Some(Kind::LogLogger)
    } else if matches!(name, "set_logger" | "set_boxed_logger") && func.contains("log") {
        Some(Kind::OwnLogger)
    } else if is_init && func.contains("SubscriberInitExt") {
        Some(Kind::Other)
    } else if is_init && mentions_logging(func) {
        let bare_fmt = func.ends_with("fmt :: init") || func.ends_with("fmt :: try_init");
        Some(if bare_fmt { Kind::FmtInit } else { Kind::Other })
    } else if logging_setup_elsewhere(func, name) {
        Some(Kind::Elsewhere)
    } else {
        None
    }
}

/// A call like `logging::init()` or `my_telemetry::setup(..)`: a function
/// named like a setup in a path that names logging. Only calls the analysis
/// does not follow into the crate's own code get here, so it is a setup in
/// another crate, which `init` cannot see into: never a second one beside it.
fn logging_setup_elsewhere(func: &str, name: &str) -> bool {
    let setup_name = SETUP_NAMES
        .iter()
        .any(|n| name == *n || name.starts_with(&format!("{n}_")));
    let segments: Vec<&str> = func.split("::").map(str::trim).collect();
    let (_, path) = segments.split_last().unwrap_or((&"", &[]));
    setup_name
        && path.iter().any(|segment| {
            let segment = segment.to_lowercase();
            LOGGING_WORDS
                .iter()
                .any(|word| segment == *word || segment.split('_').any(|part| part == *word))
        })
}

/// What a chain ending in `.init()` builds, from its tokens.
fn chain_kind(receiver: &str) -> Kind {
    if receiver.contains("LogTracer") {
        Kind::LogTracer
    } else if receiver.contains("pretty_env_logger") {
        Kind::PrettyEnvLogger
    } else if receiver.contains("env_logger") || receiver.starts_with("Builder ::") {
        Kind::EnvLogger
    } else if LOG_LOGGERS.iter().any(|k| receiver.contains(k)) {
        Kind::LogLogger
    } else if receiver.contains("registry") || receiver.contains("Registry") {
        Kind::Registry
    } else if is_fmt(receiver) && receiver.contains(". finish ()") {
        Kind::FmtSubscriber
    } else if is_fmt(receiver) {
        Kind::FmtBuilder
    } else {
        Kind::Other
    }
}

/// `fmt()`, `fmt::Subscriber::builder()`, `FmtSubscriber::builder()`.
fn is_fmt(tokens: &str) -> bool {
    tokens.contains("fmt") || tokens.contains("FmtSubscriber")
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

/// Words of a setup, for macro arguments that are not expressions.
fn looks_like_a_setup(text: &str) -> bool {
    ["set_global_default", "set_logger", "set_boxed_logger"]
        .iter()
        .any(|word| text.contains(word))
        || (text.contains("init") && mentions_logging(text))
}

fn mentions_logging(text: &str) -> bool {
    text.contains("tracing_subscriber")
        || text.contains("FmtSubscriber")
        || LOG_LOGGERS.iter().any(|krate| text.contains(krate))
        || text.starts_with("fmt ::")
        || text.starts_with("Builder ::")
}

/// The name a `let` pattern binds: `x`, `mut x`, `x: T`.
pub(super) fn binding(pattern: &syn::Pat) -> Option<String> {
    match pattern {
        syn::Pat::Ident(ident) => Some(ident.ident.to_string()),
        syn::Pat::Type(typed) => binding(&typed.pat),
        _ => None,
    }
}

/// The variable an expression is, if it is one (`x`, `&x`, `(x)`).
pub(super) fn variable(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident().map(ToString::to_string),
        Expr::Reference(reference) => variable(&reference.expr),
        Expr::Paren(paren) => variable(&paren.expr),
        _ => None,
    }
}

fn tokens(expr: &Expr) -> String {
    quote::ToTokens::to_token_stream(expr).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(body: &str) -> Vec<Kind> {
        let block: syn::Block = syn::parse_str(&format!("{{ {body} }}")).unwrap();
        find(&block).into_iter().map(|s| s.kind).collect()
    }

    #[test]
    fn kinds_are_told_apart() {
        assert_eq!(
            kinds(
                "fmt::init();
                 tracing_subscriber::fmt().finish().init();
                 Registry::default().init();
                 env_logger::Builder::new().init();
                 log4rs::init_file(\"a\", Default::default());
                 SimpleLogger::new().env().init().unwrap();
                 log::set_boxed_logger(Box::new(Mine)).unwrap();
                 pretty_env_logger::init();
                 LogTracer::init().expect(\"x\");
                 FmtSubscriber::builder().with_target(false).init();
                 fern::Dispatch::new().chain(std::io::stderr()).apply()?;
                 simplelog::TermLogger::init(l, c, m, cc).unwrap();
                 CombinedLogger::init(vec![]).unwrap();
                 log4rs::init_file(\"log.yaml\", Default::default()).unwrap();
                 log4rs::init_config(config).unwrap();"
            ),
            [
                Kind::FmtInit,
                Kind::FmtSubscriber,
                Kind::Registry,
                Kind::EnvLogger,
                Kind::Log4rs,
                Kind::LogLogger,
                Kind::OwnLogger,
                Kind::PrettyEnvLogger,
                Kind::LogTracer,
                Kind::FmtBuilder,
                Kind::Fern,
                Kind::Simplelog,
                Kind::Simplelog,
                Kind::Log4rs,
                Kind::LogLogger,
            ]
        );
    }

    #[test]
    fn variables_and_macros() {
        assert_eq!(
            kinds(
                "let mut builder = env_logger::Builder::new(); builder.filter(None, l); builder.init();"
            ),
            [Kind::EnvLogger]
        );
        assert_eq!(
            kinds("let s = tracing_subscriber::fmt().finish(); s.init();"),
            [Kind::Other]
        );
        assert_eq!(
            kinds("tokio::select! { _ = a => { env_logger::init(); } }"),
            [Kind::Other],
            "select!'s own syntax does not parse as expressions: told by its words"
        );
        assert_eq!(kinds("run(vec![env_logger::init()]);"), [Kind::EnvLogger]);
        assert!(kinds("cache.init(); runtime::init(); db.apply(); server.start();").is_empty());
        assert_eq!(
            kinds(
                "flexi_logger::Logger::try_with_str(\"info\").unwrap().start().unwrap(); stderrlog::new().init().unwrap();"
            ),
            [Kind::LogLogger, Kind::LogLogger]
        );
        assert_eq!(
            kinds(
                "my_logging::init(); common::telemetry::setup_tracing(&config); log::set_max_level(l);"
            ),
            [Kind::Elsewhere, Kind::Elsewhere]
        );
    }
}
