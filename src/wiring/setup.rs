//! Merging OpenTelemetry into the logging a program already sets up,
//! wherever `main` reaches it (in `main`, a helper, a module, the library):
//! `main` starts the providers before the call that leads there, so they
//! live as long as `main`, and the setup itself takes the module's pieces
//! from them. A second global subscriber or logger is never added:
//!
//! * a `registry()` chain gets `.with(otel::layers())`, or
//!   `.with(otel::unfiltered_layers())` when it has a global filter, so what
//!   is exported is what that filter lets through;
//! * a `fmt()` builder gets `.finish().with(otel::fmt_layers())`;
//! * `set_global_default(subscriber)` and `subscriber.init()`: the layers go
//!   where the subscriber is built, followed through variables, parameters
//!   and the crate's own functions (the zero2prod `get_subscriber` shape);
//! * `fmt::init()` becomes `otel::install_fmt(..)`, the same console;
//! * a `log` logger (env_logger, pretty_env_logger, a program's own
//!   `log::Log`) is installed through the module, which passes every record
//!   to it as before and exports it too.
//!
//! Anything else leaves every file as it is, with the lines to add.

use proc_macro2::LineColumn;
use syn::Expr;

use super::{
    Context,
    edits::{self, Edits, SUBSCRIBER_EXT, SUBSCRIBER_INIT_EXT},
};
use crate::analysis::{Built, FnId, Global, Kind, Program, Setup, built_from};

/// What merging comes to.
pub(super) enum Plan {
    /// The program sets up no logging.
    Nothing,
    Merge {
        /// The `init` function `main` calls first: `init_providers` or
        /// `init_without_console`.
        init: &'static str,
        /// In `main`, the call that leads to the first setup.
        leads_to_setup: LineColumn,
        added: Vec<String>,
        notes: Vec<String>,
    },
    Manual {
        reason: String,
        /// The lines to add, each with where it goes.
        lines: Vec<(String, String)>,
    },
}

/// Plans the merge, with its edits in `edits`.
pub(super) fn plan(cx: &Context<'_>, edits: &mut Edits<'_>) -> Plan {
    let program = cx.program;
    let setups: Vec<Setup> = program.setups().into_iter().filter(|s| s.reached).collect();
    let notes = variants_left(program, &setups);
    let Some(first) = setups.first() else {
        return Plan::Nothing;
    };
    if let Some(reason) = tracing_and_log(program, &setups) {
        return manual(cx, first, reason);
    }
    let mut planned = Edits::new(program);
    let mut added = Vec::new();
    // Where the module's pieces run: the providers must be started before.
    let mut runs_at: Vec<(FnId, LineColumn)> =
        setups.iter().map(|s| (s.function, s.site.start)).collect();
    for setup in &setups {
        match site(cx, &mut planned, setup, &mut runs_at) {
            Ok(Some(what)) => added.push(what),
            Ok(None) => {}
            Err(why) => {
                let reason = format!(
                    "it sets up logging at {} {why}, and a second global subscriber or logger would make it fail at start",
                    described(program, setup)
                );
                return manual(cx, setup, reason);
            }
        }
    }
    let Some(leads_to_setup) = runs_at
        .iter()
        .filter_map(|(function, at)| call_in_main(program, *function, *at))
        .min()
    else {
        return Plan::Nothing;
    };
    edits.absorb(planned);
    let logs = setups.iter().any(|s| s.site.kind.global() == Global::Log);
    let init = match !logs || !program.uses_tracing() {
        true => "init_providers",
        false => "init_without_console",
    };
    Plan::Merge {
        init,
        leads_to_setup,
        added,
        notes,
    }
}

/// Why a program with both a tracing subscriber and a `log` logger is left
/// to the user, if it has both.
fn tracing_and_log(program: &Program, setups: &[Setup]) -> Option<String> {
    let first = |global: Global| setups.iter().find(|s| s.site.kind.global() == global);
    let (tracing, log) = (first(Global::Tracing)?, first(Global::Log)?);
    Some(format!(
        "it sets up both a tracing subscriber at {} and a `log` logger at {}",
        described(program, tracing),
        described(program, log)
    ))
}

/// `` `file:line` (`the call`) ``.
fn described(program: &Program, setup: &Setup) -> String {
    format!(
        "`{}` (`{}`)",
        program.at(setup.function, setup.site.start.line),
        setup.site.call
    )
}

/// Where in `main` the way to a position in `function` starts: the call
/// into the function that (eventually) gets there, or the position itself
/// when it is in `main`.
fn call_in_main(program: &Program, function: FnId, at: LineColumn) -> Option<LineColumn> {
    if program.main == Some(function) {
        return Some(at);
    }
    program
        .reach
        .path_to(function)
        .first()
        .map(|(_, call)| call.start)
}

/// The edit at one setup, and what the report says about it; `Err` with
/// why when the setup is not one `init` can merge with.
fn site(
    cx: &Context<'_>,
    edits: &mut Edits<'_>,
    setup: &Setup,
    runs_at: &mut Vec<(FnId, LineColumn)>,
) -> Result<Option<String>, String> {
    match setup.site.kind {
        Kind::LogTracer => Ok(None),
        Kind::Registry | Kind::FmtBuilder | Kind::FmtSubscriber
            if setup.site.variable.is_none() =>
        {
            layers_in_chain(cx, edits, setup).map(Some)
        }
        Kind::SetGlobalDefault
        | Kind::Registry
        | Kind::FmtBuilder
        | Kind::FmtSubscriber
        | Kind::Other => layers_where_built(cx, edits, setup, runs_at).map(Some),
        Kind::FmtInit => Ok(Some(install_fmt(cx, edits, setup))),
        Kind::EnvLogger | Kind::PrettyEnvLogger | Kind::Fern | Kind::Simplelog => {
            install_log_console(cx, edits, setup).map(Some)
        }
        Kind::Log4rs => set_log4rs_logger(cx, edits, setup).map(Some),
        Kind::OwnLogger => pass_through_own_logger(cx, edits, setup).map(Some),
        Kind::LogLogger => {
            Err("with a `log` logger cargo-otel cannot pass records through".to_owned())
        }
        Kind::Elsewhere => Err("in another crate, which cargo-otel cannot see into".to_owned()),
    }
}

/// What a site's edit needs to know about where it is.
struct Place {
    file: usize,
    module: usize,
    /// How code there names the generated module.
    otel: String,
    line: usize,
    /// `file:line`, for the report.
    shown: String,
}

impl Place {
    fn of(cx: &Context<'_>, setup: &Setup) -> Self {
        let program = cx.program;
        let module = program.functions[setup.function].module;
        let line = setup.site.start.line;
        Self {
            file: program.file_of(setup.function),
            module,
            otel: cx.otel_path(module),
            line,
            shown: program.at(setup.function, line),
        }
    }
}

/// Where the setup's call starts and ends in its file, as byte offsets.
fn call_span(edits: &mut Edits<'_>, file: usize, setup: &Setup) -> (usize, usize) {
    (
        edits.offset(file, setup.site.start),
        edits.offset(file, setup.site.end),
    )
}

const UNRECOGNIZED: &str = "in a form cargo-otel does not recognize";

/// A `registry()` or `fmt()` chain set up in place: the layers go into it.
fn layers_in_chain(
    cx: &Context<'_>,
    edits: &mut Edits<'_>,
    setup: &Setup,
) -> Result<String, String> {
    let program = cx.program;
    let Place {
        file,
        module,
        otel,
        shown,
        ..
    } = Place::of(cx, setup);
    let dot = setup.site.layer_at.ok_or(UNRECOGNIZED)?;
    let (method, finish) = match setup.site.kind {
        Kind::Registry => {
            let chain = program.operand(setup).ok_or(UNRECOGNIZED)?;
            (layers_for(program, setup.function, &chain), "")
        }
        Kind::FmtSubscriber => ("fmt_layers", ""),
        _ => ("fmt_layers", ".finish()"),
    };
    let with = format!(".with({otel}::{method}())");
    let whole = program
        .expr_at(setup.function, setup.site.start, setup.site.end)
        .ok_or(UNRECOGNIZED)?;
    let calls: Vec<&str> = [finish, with.as_str()]
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect();
    edits.insert_into_chain(file, &whole, dot, &calls);
    edits.import(module, &[&SUBSCRIBER_EXT, &SUBSCRIBER_INIT_EXT]);
    Ok(format!(
        "`.with({otel}::{method}())` in the subscriber set up at `{shown}`"
    ))
}

/// A subscriber built elsewhere (a variable, a parameter, a function of
/// the crate): the layers go where it is built, and `main` must start the
/// providers before that.
fn layers_where_built(
    cx: &Context<'_>,
    edits: &mut Edits<'_>,
    setup: &Setup,
    runs_at: &mut Vec<(FnId, LineColumn)>,
) -> Result<String, String> {
    let program = cx.program;
    let origin = program.subscriber_origin(setup).ok_or(
        "with a subscriber cargo-otel cannot trace back to a `registry()` or `fmt()` chain",
    )?;
    if origin.typed {
        return Err(
            "with a subscriber of a declared type, which added layers would change".to_owned(),
        );
    }
    let method = match built_from(&origin.expr) {
        Some(Built::Fmt) => "fmt_layers",
        _ => layers_for(program, origin.function, &origin.expr),
    };
    let origin_module = program.functions[origin.function].module;
    let origin_file = program.file_of(origin.function);
    let otel = cx.otel_path(origin_module);
    let with = format!(".with({otel}::{method}())");
    edits.insert_into_chain(origin_file, &origin.expr, origin.end, &[&with]);
    edits.import(origin_module, &[&SUBSCRIBER_EXT]);
    runs_at.push((origin.function, origin.start));
    let built_at = program.at(origin.function, origin.start.line);
    Ok(format!(
        "`.with({otel}::{method}())` where the subscriber is built, at `{built_at}`"
    ))
}

/// `fmt::init()` becomes the module's `install_fmt(..)`: the same console.
fn install_fmt(cx: &Context<'_>, edits: &mut Edits<'_>, setup: &Setup) -> String {
    let Place { file, otel, .. } = Place::of(cx, setup);
    let replacement = match setup.site.name.as_str() {
        "try_init" => "try_install_fmt",
        _ => "install_fmt",
    };
    let filter = cx.fmt_default_filter;
    let call = format!("{otel}::{replacement}({filter:?})");
    let (start, end) = call_span(edits, file, setup);
    edits.replace(file, start, end, call.clone());
    format!(
        "`{call}` in place of `{}` (the same console output)",
        setup.site.call
    )
}

/// env_logger, pretty_env_logger, fern, simplelog: the logger is installed
/// through the module, which passes every record on and exports it.
fn install_log_console(
    cx: &Context<'_>,
    edits: &mut Edits<'_>,
    setup: &Setup,
) -> Result<String, String> {
    let program = cx.program;
    let Place {
        file, otel, line, ..
    } = Place::of(cx, setup);
    let (install, args, suffix) = log_console(program, setup).ok_or(UNRECOGNIZED)?;
    let indent = edits.index(file).indentation(line);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let callee = format!("{otel}::{install}");
    let call = edits::call(setup.site.start.column, &indent, &callee, &args, suffix);
    let (start, end) = call_span(edits, file, setup);
    if call.ends_with(&format!("\n{indent})")) {
        // After a call laid out one argument per line, the rest of
        // the chain (`.unwrap()`) continues at the statement's indent.
        for (from, to) in chain_indents(&program.files[file].text, end) {
            edits.replace(file, from, to, indent.clone());
        }
    }
    edits.replace(file, start, end, call);
    Ok(format!(
        "`{callee}(..)` in place of `{}` (the same console, and its records exported)",
        setup.site.call
    ))
}

/// log4rs: the logger its config file builds, set through the module.
fn set_log4rs_logger(
    cx: &Context<'_>,
    edits: &mut Edits<'_>,
    setup: &Setup,
) -> Result<String, String> {
    let Place {
        file, otel, line, ..
    } = Place::of(cx, setup);
    let arguments = call_arguments(cx.program, setup).ok_or(UNRECOGNIZED)?;
    let indent = edits.index(file).indentation(line);
    let call = format!(
        "log4rs::config::load_config_file({arguments})\n{indent}    .and_then(|config| {{\n{indent}        Ok({otel}::set_logger_with(\n{indent}            log4rs::Logger::new(config),\n{indent}            |logger| logger.max_log_level(),\n{indent}        )?)\n{indent}    }})"
    );
    let (start, end) = call_span(edits, file, setup);
    edits.replace(file, start, end, call);
    Ok(format!(
        "`{otel}::set_logger_with(..)` with the logger `{}` builds (the same console, and its records exported)",
        setup.site.call
    ))
}

/// A program's own `log::Log`: `log::set_logger` becomes the module's,
/// which passes every record to it.
fn pass_through_own_logger(
    cx: &Context<'_>,
    edits: &mut Edits<'_>,
    setup: &Setup,
) -> Result<String, String> {
    let Place {
        file, otel, shown, ..
    } = Place::of(cx, setup);
    let text = &cx.program.files[file].text;
    let start = edits.offset(file, setup.site.start);
    let paren = start + text[start..].find('(').ok_or(UNRECOGNIZED)?;
    let function_name = setup.site.name.clone();
    edits.replace(file, start, paren, format!("{otel}::{function_name}"));
    Ok(format!(
        "`{otel}::{function_name}` in place of `log::{function_name}` at `{shown}` (your logger, and its records exported)"
    ))
}

/// `layers` for a chain without a global filter (the module's own, `info`
/// unless `RUST_LOG` says otherwise), `unfiltered_layers` for one with: the
/// program's filter then decides what is exported, as it decides what is
/// printed.
fn layers_for(program: &Program, function: FnId, chain: &Expr) -> &'static str {
    match program.chain_has_global_filter(function, chain) {
        true => "unfiltered_layers",
        false => "layers",
    }
}

/// How a `log` logger's setup becomes the module's: the function, its
/// arguments (the logger built instead of installed, and its level) and
/// what follows the call (`init()` panics where `try_init()` returns).
fn log_console(
    program: &Program,
    setup: &Setup,
) -> Option<(&'static str, Vec<String>, &'static str)> {
    let name = setup.site.name.as_str();
    let level = |how: &str| format!("|logger| {how}");
    let written = |start, end| text_between(program, setup.function, start, end);
    match setup.site.kind {
        Kind::Fern => {
            let (start, end) = setup.site.operand?;
            let logger = then_call(&written(start, end), "into_log");
            Some(("set_logger_parts", vec![logger], ""))
        }
        Kind::Simplelog => {
            // `TermLogger::init(..)` installs what `TermLogger::new(..)` builds.
            let call = written(setup.site.start, setup.site.end);
            let paren = call.find('(')?;
            let head = call[..paren].trim_end().strip_suffix("init")?;
            let logger = format!("*{head}new{}", &call[paren..]);
            let level = level("simplelog::SharedLogger::level(logger)");
            Some(("set_logger_with", vec![logger, level], ""))
        }
        Kind::EnvLogger | Kind::PrettyEnvLogger => {
            let install = match program.logger_keeps_default_filter(setup) {
                true => "set_env_logger",
                false => "set_logger_with",
            };
            let suffix = match (name.starts_with("init"), setup.site.kind) {
                (false, _) => "",
                (true, Kind::PrettyEnvLogger) => ".unwrap()",
                (true, _) => ".expect(\"failed to set the logger\")",
            };
            let logger = built_logger(program, setup)?;
            Some((install, vec![logger, level("logger.filter()")], suffix))
        }
        _ => None,
    }
}

/// The env_logger builder's `.build()`: of the chain or variable the setup
/// calls `init` on, or of the builder its `init` function makes.
fn built_logger(program: &Program, setup: &Setup) -> Option<String> {
    if setup.site.layer_at.is_some() {
        let (start, end) = setup.site.operand?;
        return Some(then_call(
            &text_between(program, setup.function, start, end),
            "build",
        ));
    }
    let call = setup.site.call.replace('…', "");
    let head = call.split('(').next().unwrap_or_default();
    let krate = head.rsplit_once("::").map(|(path, _)| path.to_owned())?;
    let name = setup.site.name.as_str();
    match (setup.site.kind, name) {
        (Kind::EnvLogger, "init" | "try_init") => {
            Some(format!("{krate}::Builder::from_default_env().build()"))
        }
        (Kind::EnvLogger, "init_from_env" | "try_init_from_env") => Some(format!(
            "{krate}::Builder::from_env({}).build()",
            call_arguments(program, setup)?
        )),
        (Kind::PrettyEnvLogger, _) => {
            let builder = match name.contains("timed") {
                true => "formatted_timed_builder",
                false => "formatted_builder",
            };
            Some(match name.contains("custom_env") {
                true => format!(
                    "{krate}::{builder}().parse_filters(&std::env::var({}).unwrap_or_default()).build()",
                    call_arguments(program, setup)?
                ),
                false => format!("{krate}::{builder}().parse_default_env().build()"),
            })
        }
        _ => None,
    }
}

/// `receiver.method()`: inline, or on a line of its own indented like the
/// receiver chain's last line when the chain spans lines.
fn then_call(receiver: &str, method: &str) -> String {
    match receiver.rsplit_once('\n') {
        Some((_, last)) => {
            let indent = &last[..last.len() - last.trim_start().len()];
            format!("{receiver}\n{indent}.{method}()")
        }
        None => format!("{receiver}.{method}()"),
    }
}

/// The indentation (byte ranges) of the lines after `at` that continue a
/// method chain (`\n        .unwrap()`).
fn chain_indents(text: &str, at: usize) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut at = at;
    while let Some(rest) = text[at..].strip_prefix('\n') {
        let line = rest.split('\n').next().unwrap_or_default();
        let code = line.trim_start();
        if !code.starts_with('.') {
            break;
        }
        let start = at + 1;
        ranges.push((start, start + line.len() - code.len()));
        at = start + line.len();
    }
    ranges
}

/// The arguments of the setup's call, as written.
fn call_arguments(program: &Program, setup: &Setup) -> Option<String> {
    let call = text_between(program, setup.function, setup.site.start, setup.site.end);
    let open = call.find('(')?;
    let close = call.rfind(')')?;
    (open < close).then(|| call[open + 1..close].trim().to_owned())
}

/// The source text between two positions of a function's file.
fn text_between(program: &Program, function: FnId, start: LineColumn, end: LineColumn) -> String {
    let file = &program.files[program.file_of(function)];
    let index = super::locate::LineIndex::new(&file.text);
    file.text[index.offset(start)..index.offset(end)].to_owned()
}

/// Notes for setups in `#[cfg]` variants of the functions that set up
/// logging: a plain build does not compile them, so they stay as they are.
fn variants_left(program: &Program, setups: &[Setup]) -> Vec<String> {
    let mut left = Vec::new();
    let all = program.setups();
    for setup in setups {
        for variant in program.variants_of(setup.function) {
            for other in all.iter().filter(|s| s.function == variant) {
                let cfg = program.functions[variant]
                    .inactive
                    .clone()
                    .unwrap_or_default();
                let at = program.at(variant, other.site.start.line);
                let note = format!(
                    "left `{at}` as it is: `{}` under `{cfg}`, which a plain build does not compile",
                    other.site.call
                );
                if !left.contains(&note) {
                    left.push(note);
                }
            }
        }
    }
    left
}

/// The lines to add by hand, for a setup `init` does not edit.
fn manual(cx: &Context<'_>, setup: &Setup, reason: String) -> Plan {
    let program = cx.program;
    let suffix = cx.try_suffix;
    let otel = cx.otel_path(program.functions[setup.function].module);
    let main_otel = cx.otel_path(program.root);
    let at = program.at(setup.function, setup.site.start.line);
    let start = (
        format!("let _otel = {main_otel}::init_providers(){suffix};"),
        "first thing in `main`: the providers must live until `main` returns".to_owned(),
    );
    let lines = match setup.site.kind {
        Kind::FmtInit => vec![
            start,
            (
                format!("{otel}::install_fmt({:?})", cx.fmt_default_filter),
                format!("in place of `{}` at `{at}`", setup.site.call),
            ),
        ],
        kind if kind.global() == Global::Log => vec![
            start,
            (
                format!("{otel}::set_boxed_logger(Box::new(logger))"),
                format!(
                    "in place of installing the logger `{}` at `{at}` builds: build it, install it with this, and set `log`'s max level as it did",
                    setup.site.call
                ),
            ),
        ],
        kind => {
            let (layers, place) = match kind {
                Kind::Registry => (format!(".with({otel}::layers())"), "before `.init()`"),
                Kind::FmtBuilder => (
                    format!(".finish().with({otel}::fmt_layers())"),
                    "before `.init()`",
                ),
                Kind::FmtSubscriber => (format!(".with({otel}::fmt_layers())"), "before `.init()`"),
                _ => (
                    format!(".with({otel}::layers())"),
                    "where the subscriber is built (`fmt_layers()` on a `fmt()….finish()` one)",
                ),
            };
            vec![start, (layers, format!("{place} in the setup at `{at}`"))]
        }
    };
    Plan::Manual { reason, lines }
}
