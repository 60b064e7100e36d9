//! Wiring the `otel` module into a program: declaring it, starting it
//! first thing in `main` (or before the call that sets up logging, merged
//! with that setup wherever it lives), and adding request instrumentation
//! where the app is built.
//!
//! [`crate::analysis`] finds where; the edits are text insertions, so every
//! other byte of the user's files (comments, formatting) stays as it was.
//! An edit may span several files (`main.rs` and the module with the
//! logging setup); `init` writes them all or none.

mod edits;
mod entry;
mod frameworks;
mod guard;
mod locate;
mod project;
mod setup;
mod upgrade;

use std::path::Path;

use anyhow::bail;
use syn::Item;

use crate::{
    analysis::{self, CrateKind, Program, Serves, main_fn},
    detect::Framework,
};

pub use edits::FileEdit;
pub use entry::ModuleDecl;
pub use guard::keep_guard;
pub use project::{UPGRADED_CALLS, UpgradedCalls, upgrade_package_calls, wire_project};
pub use upgrade::{Upgraded, upgrade_calls};

/// What `init` needs to know beyond the source.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Where the generated module is (or will be).
    pub module: &'a Path,
    /// What `tracing_subscriber::fmt::init()` shows without `RUST_LOG` in
    /// this crate: `error` with the `env-filter` feature, `info` without.
    pub fmt_default_filter: &'a str,
    /// The frameworks whose request instrumentation is wired.
    pub frameworks: &'a [Framework],
    /// The program serves requests (a server framework among its
    /// dependencies): its requests are its traces, so no span for the run.
    pub server: bool,
    /// The module is this version's, with `main_result`: a `main` that
    /// returns a `Result` ends with it (see [`entry::at_start_of_split_main`]).
    pub main_result: bool,
}

/// What wiring a program came to.
#[derive(Debug, Default)]
pub struct Wired {
    /// The files to change (nothing to change: empty).
    pub files: Vec<FileEdit>,
    pub added: Vec<String>,
    /// What the user should know about the edit.
    pub notes: Vec<String>,
    /// No safe place in `main`: why, and the exact lines to add by hand.
    /// Then nothing is changed but the module's declaration.
    pub manual: Option<Manual>,
    /// Servers whose requests are not traced until the user adds the
    /// module's piece (the notes say how).
    pub untraced: Vec<&'static str>,
}

/// The lines to add by hand, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manual {
    pub reason: String,
    pub lines: String,
}

/// The facts every part of the wiring shares.
pub(super) struct Context<'a> {
    program: &'a Program,
    /// What follows every call of an `init` function `init` writes (see
    /// [`try_suffix`]).
    try_suffix: &'static str,
    fmt_default_filter: &'a str,
    /// The crate that declares the module.
    home: CrateKind,
}

impl Context<'_> {
    /// How code in `module` names the generated module.
    fn otel_path(&self, module: usize) -> String {
        let m = &self.program.modules[module];
        match (m.krate, self.home, &self.program.lib) {
            (CrateKind::Program, CrateKind::Lib, Some((lib, _))) => format!("{lib}::otel"),
            _ if m.parent.is_none() => "otel".to_owned(),
            _ => "crate::otel".to_owned(),
        }
    }
}

/// Wires the program: the edits, or the lines to add by hand.
pub fn wire(program: &Program, options: &Options<'_>) -> anyhow::Result<Wired> {
    if let Some(error) = program.errors.first() {
        bail!("{error}");
    }
    refuse_foreign_otel(program, options)?;
    let mut edits = edits::Edits::new(program);
    let mut wired = Wired::default();
    let Some(main) = program.main_fn() else {
        return Ok(library_or_no_main(program, options, edits, wired));
    };
    let home = match home(program) {
        Ok(home) => home,
        Err(reason) => {
            wired.manual = Some(manual(reason, None, &[]));
            return Ok(wired);
        }
    };
    let cx = Context {
        program,
        try_suffix: try_suffix(),
        fmt_default_filter: options.fmt_default_filter,
        home,
    };
    if !main_fn::calls_init(&main.block)
        && let Some((reason, lines)) = start_in_main(&cx, options, &mut edits, &mut wired)
    {
        let decl = needs_declaration(program, home).then(|| decl_for(program, home, options));
        wired.manual = Some(manual(reason, decl.as_ref(), &lines));
        return Ok(wired);
    }
    if needs_declaration(program, home) {
        let decl = decl_for(program, home, options);
        wired.added.insert(0, decl.describe());
        entry::declare(&mut edits, program, home_root(program, home), &decl);
    }
    let outcome = frameworks::wire(&cx, &mut edits, options.frameworks);
    wired.added.extend(outcome.added);
    wired.notes.extend(outcome.notes);
    wired.untraced = outcome.untraced;
    wired.files = edits.finish();
    Ok(wired)
}

/// `let _otel = otel::init...;` in `main`: first thing, or merged with the
/// logging the program sets up. `Some((reason, lines))` when that cannot
/// be done safely.
fn start_in_main(
    cx: &Context<'_>,
    options: &Options<'_>,
    edits: &mut edits::Edits<'_>,
    wired: &mut Wired,
) -> Option<(String, Vec<(String, String)>)> {
    let program = cx.program;
    if let Some(piece) = merged_without_start(program) {
        return Some(start_by_hand(cx, piece));
    }
    // A server's requests are traces of their own; a command's run is one.
    let run_span = !program.creates_spans()
        && match program.serves() {
            Serves::InASubcommand => true,
            Serves::EveryRun => false,
            Serves::Never => !options.server,
        };
    let main_otel = cx.otel_path(program.root);
    let statements = |init: &str| {
        let mut text = format!("let _otel = {main_otel}::{init}(){};\n", cx.try_suffix);
        if run_span {
            text.push_str(&format!("let _run = {main_otel}::run_span();\n"));
        }
        text
    };
    let main_file = &program.files[program.file_of(program.main.expect("checked"))].shown;
    let split;
    match setup::plan(cx, edits) {
        setup::Plan::Nothing => {
            let text = statements("init");
            let body_fn = options
                .main_result
                .then(|| split_body_fn(program))
                .flatten();
            let placed = match body_fn {
                Some(body_fn) => {
                    entry::at_start_of_split_main(edits, program, &text, &main_otel, body_fn)
                }
                None => entry::at_start_of_main(edits, program, &text),
            };
            if placed.is_none() {
                let reason =
                    format!("the body of `main` in `{main_file}` starts on its opening line");
                return Some((reason, first_statements(&text)));
            }
            wired.added.push(format!("`{main_otel}::init()` in `main`"));
            split = body_fn;
        }
        setup::Plan::Merge {
            init,
            leads_to_setup,
            added,
            notes,
        } => {
            let text = statements(init);
            // Before `main`'s first statement is where a plain start goes too:
            // the body can move into `main_body` the same way.
            let body_fn = (options.main_result && starts_main(program, leads_to_setup))
                .then(|| split_body_fn(program))
                .flatten();
            let split_placed = body_fn.and_then(|body_fn| {
                entry::at_start_of_split_main(edits, program, &text, &main_otel, body_fn)
            });
            split = body_fn.filter(|_| split_placed.is_some());
            if split.is_none()
                && entry::before_statement_of_main(edits, program, leads_to_setup, &text).is_none()
            {
                let reason = format!(
                    "the statement of `main` that sets up logging, at `{main_file}:{}`, shares a line with a brace of `main`",
                    leads_to_setup.line
                );
                return Some((reason, first_statements(&text)));
            }
            wired
                .added
                .push(format!("`{main_otel}::{init}()` in `main`"));
            wired.added.extend(added);
            wired.notes.extend(notes);
        }
        setup::Plan::Manual { reason, lines } => return Some((reason, lines)),
    }
    if run_span {
        wired.added.push("a span for the run".to_owned());
    }
    if let Some(body_fn) = split {
        wired.added.push(format!(
            "`{main_otel}::main_result` for the error `main` returns (its body is now `fn {body_fn}`)"
        ));
    }
    None
}

/// Whether `at` is in the first statement of `main`'s body.
fn starts_main(program: &Program, at: proc_macro2::LineColumn) -> bool {
    use syn::spanned::Spanned as _;
    let first = program.main_fn().and_then(|main| main.block.stmts.first());
    first.is_some_and(|s| s.span().start() <= at && at <= s.span().end())
}

/// The function `main`'s body moves into when `main` returns a `Result`
/// (`std`'s `Termination` prints the `Err`; `main` records it first).
/// `None` for another return type, an empty body, or a crate root with
/// several `main`s (`#[cfg]` variants) or its own `main_body` already.
fn split_body_fn(program: &Program) -> Option<&'static str> {
    const BODY_FN: &str = "main_body";
    let main = program.main_fn()?;
    let syn::ReturnType::Type(_, returned) = &main.sig.output else {
        return None;
    };
    let syn::Type::Path(path) = &**returned else {
        return None;
    };
    let is_result = path.path.segments.last()?.ident == "Result";
    let in_root = |name: &str| {
        program
            .functions
            .iter()
            .filter(|f| f.module == main.module && f.owner.is_none() && f.name == name)
            .count()
    };
    let fits = is_result && !main.block.stmts.is_empty();
    (fits && in_root("main") == 1 && in_root(BODY_FN) == 0).then_some(BODY_FN)
}

/// A setup already merged with a piece of the module, in a program whose
/// `main` does not start the providers: the line to add by hand.
fn start_by_hand(cx: &Context<'_>, piece: &str) -> (String, Vec<(String, String)>) {
    let reason =
        format!("it already uses the module's `{piece}`, but `main` does not start OpenTelemetry");
    let line = format!(
        "let _otel = {}::init_providers(){};",
        cx.otel_path(cx.program.root),
        cx.try_suffix
    );
    (reason, vec![(line, "first thing in `main`".to_owned())])
}

fn first_statements(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|line| (line.to_owned(), "first thing in `main`".to_owned()))
        .collect()
}

/// A library gets `pub mod otel;`; a program without a plain `fn main`
/// gets the lines to add.
fn library_or_no_main(
    program: &Program,
    options: &Options<'_>,
    mut edits: edits::Edits<'_>,
    mut wired: Wired,
) -> Wired {
    let root_file = &program.files[program.modules[program.root].file];
    let is_program = program.modules[program.root].krate == CrateKind::Program;
    let decl = ModuleDecl::new(&root_file.path, options.module, !is_program);
    if is_program {
        let reason = format!(
            "`{}` has no plain `fn main` (is it generated by a macro?)",
            root_file.shown
        );
        let statement = format!("let _otel = otel::init(){};", try_suffix());
        let declared = program.declares_otel();
        wired.manual = Some(manual(
            reason,
            (!declared).then_some(&decl),
            &[(statement, "the first statement of `fn main`".to_owned())],
        ));
        return wired;
    }
    if !program.declares_otel() {
        wired.added.push(decl.describe());
        entry::declare(&mut edits, program, program.root, &decl);
    }
    wired.files = edits.finish();
    wired
}

/// What follows an `otel::init*()` call: nothing. They return the guard
/// itself and never fail (the strict `try_init*` are for programs that want
/// the error, and are never written by `init`).
fn try_suffix() -> &'static str {
    ""
}

/// A `mod otel` in the program's or the library's root that is not the
/// generated module (inline, or `#[path]` elsewhere): `otel::init()` would be
/// wired into the user's own code.
fn refuse_foreign_otel(program: &Program, options: &Options<'_>) -> anyhow::Result<()> {
    let lib = program.lib.as_ref().map(|(_, root)| *root);
    for root in [Some(program.root), lib].into_iter().flatten() {
        let module = &program.modules[root];
        let file = &program.files[module.file];
        let declared = module.items.iter().find_map(|item| match item {
            Item::Mod(m) if m.ident == "otel" => Some(m),
            _ => None,
        });
        let Some(declared) = declared else {
            continue;
        };
        let ours = ModuleDecl::new(&file.path, options.module, false).path_attribute;
        let ours = ours.as_deref().unwrap_or("otel.rs");
        let theirs = match (&declared.content, analysis::path_attribute(&declared.attrs)) {
            (Some(_), _) => "inline".to_owned(),
            (None, Some(path)) if !same_relative_path(&path, ours) => format!("at `{path}`"),
            (None, None) if ours != "otel.rs" => "`otel.rs` or `otel/mod.rs` beside it".to_owned(),
            _ => continue,
        };
        let line = declared.mod_token.span.start().line;
        bail!(
            "`{}:{line}` declares a module `otel` of your own ({theirs}): `otel::init()` \
             would call into it, not into cargo-otel's; nothing was changed\n\
             help: rename yours (for example to `mod telemetry;`) and run again",
            file.shown
        )
    }
    Ok(())
}

/// `a/./b.rs` and `a/b.rs` name the same file.
fn same_relative_path(a: &str, b: &str) -> bool {
    use std::path::Component;
    fn parts(path: &str) -> impl Iterator<Item = Component<'_>> {
        Path::new(path)
            .components()
            .filter(|c| *c != Component::CurDir)
    }
    parts(a).eq(parts(b))
}

/// Which crate declares the module: the library when it does already or
/// when the setup or the app `main` reaches lives there (so both use one
/// module, whose providers the layers take), else the program.
fn home(program: &Program) -> Result<CrateKind, String> {
    let Some((lib, _)) = &program.lib else {
        return Ok(CrateKind::Program);
    };
    if program.lib_declares_otel() {
        return Ok(CrateKind::Lib);
    }
    let in_lib = program
        .setups()
        .iter()
        .filter(|s| s.reached)
        .any(|s| program.modules[program.functions[s.function].module].krate == CrateKind::Lib);
    match (in_lib, program.declares_otel()) {
        (false, _) => Ok(CrateKind::Program),
        (true, false) => Ok(CrateKind::Lib),
        (true, true) => Err(format!(
            "the program declares `mod otel;` itself, but sets up logging in its library `{lib}`, which cannot use that module"
        )),
    }
}

fn home_root(program: &Program, home: CrateKind) -> usize {
    match (home, &program.lib) {
        (CrateKind::Lib, Some((_, root))) => *root,
        _ => program.root,
    }
}

fn needs_declaration(program: &Program, home: CrateKind) -> bool {
    match home {
        CrateKind::Lib => !program.lib_declares_otel(),
        CrateKind::Program => !program.declares_otel(),
    }
}

fn decl_for(program: &Program, home: CrateKind, options: &Options<'_>) -> ModuleDecl {
    let root = home_root(program, home);
    let path = &program.files[program.modules[root].file].path;
    ModuleDecl::new(path, options.module, home == CrateKind::Lib)
}

/// A piece of the module used in code `main` reaches, though `main` does
/// not start OpenTelemetry: a second start would clash with it.
fn merged_without_start(program: &Program) -> Option<&'static str> {
    const PIECES: [&str; 7] = [
        "otel :: layers",
        "otel :: unfiltered_layers",
        "otel :: fmt_layers",
        "otel :: install_fmt",
        "otel :: try_install_fmt",
        "otel :: set_logger",
        "otel :: set_env_logger",
    ];
    program.reach.reached.keys().find_map(|id| {
        let body = quote::ToTokens::to_token_stream(&program.functions[*id].block).to_string();
        PIECES
            .iter()
            .find(|piece| body.contains(*piece))
            .map(|piece| piece.trim_start_matches("otel :: "))
    })
}

/// Each line to add, with where it goes as a comment.
fn manual(reason: String, decl: Option<&ModuleDecl>, lines: &[(String, String)]) -> Manual {
    let mut text = String::new();
    if let Some(decl) = decl {
        for line in decl.text().lines() {
            text.push_str(&format!("  {line}\n"));
        }
    }
    let code: Vec<String> = lines
        .iter()
        .map(|(code, place)| format!("  {code} // {place}"))
        .collect();
    text.push_str(&code.join("\n"));
    Manual {
        reason,
        lines: text.trim_end().to_owned(),
    }
}

#[cfg(test)]
mod tests;
