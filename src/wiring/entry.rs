//! The entry points: `mod otel;` in a crate root, and the call that starts
//! OpenTelemetry in `main`.

use std::path::Path;

use proc_macro2::LineColumn;
use syn::{Item, spanned::Spanned as _};

use super::edits::Edits;
use crate::{analysis::Program, paths};

/// How a crate root refers to the module file.
#[derive(Debug, Clone)]
pub struct ModuleDecl {
    /// `#[path = ...]` for roots elsewhere than the module's directory.
    pub path_attribute: Option<String>,
    /// `pub mod otel;` in a library, so its binaries can call it.
    pub public: bool,
}

impl ModuleDecl {
    /// The declaration for the crate rooted at `root`.
    pub fn new(root: &Path, module: &Path, public: bool) -> Self {
        let dir = root.parent().unwrap_or(Path::new(""));
        let relative = paths::relative(dir, module);
        let path_attribute = !matches!(relative.as_str(), "otel.rs" | "otel/mod.rs");
        let path_attribute = path_attribute.then_some(relative);
        Self {
            path_attribute,
            public,
        }
    }

    pub(super) fn text(&self) -> String {
        let attribute = match &self.path_attribute {
            Some(path) => format!("#[path = \"{path}\"]\n"),
            None => String::new(),
        };
        let visibility = if self.public { "pub " } else { "" };
        format!("{attribute}{visibility}mod otel;\n")
    }

    /// What the report says was added.
    pub(super) fn describe(&self) -> String {
        match self.public {
            true => "`pub mod otel;`".to_owned(),
            false => "`mod otel;`".to_owned(),
        }
    }
}

/// Declares the module in a crate root: into the last run of `mod x;`
/// declarations at its sorted place (rustfmt reorders such runs, and
/// `cargo fmt --check` must stay clean), else just above the first item that
/// is not a `use`.
pub(super) fn declare(edits: &mut Edits<'_>, program: &Program, root: usize, decl: &ModuleDecl) {
    let module = &program.modules[root];
    let file = module.file;
    let declarations: Vec<(usize, &syn::ItemMod)> = module
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            Item::Mod(m) if m.content.is_none() => Some((i, m)),
            _ => None,
        })
        .collect();
    if let Some(&(last, _)) = declarations.last() {
        let run: Vec<&syn::ItemMod> = declarations
            .iter()
            .rev()
            .enumerate()
            .take_while(|(step, (i, _))| *i + step == last)
            .map(|(_, (_, m))| *m)
            .collect();
        let next = run
            .iter()
            .rev()
            .find(|m| m.ident.to_string().as_str() > "otel");
        let at = match next {
            Some(m) => edits.index(file).line_start_of(m.span().start()),
            None => {
                let last = run.first().expect("the run has its last element");
                edits.index(file).line_after(last.span().end())
            }
        };
        edits.insert(file, at, decl.text());
        return;
    }
    let first = module
        .items
        .iter()
        .find(|item| !matches!(item, Item::Use(_) | Item::ExternCrate(_)));
    match first {
        Some(item) => {
            let at = edits.index(file).above_comments(item.span().start());
            edits.insert(file, at, format!("{}\n", decl.text()));
        }
        None => {
            let at = edits.index(file).end();
            edits.insert(file, at, format!("\n{}", decl.text()));
        }
    }
}

/// Where `main`'s new first statements go: before the first line of its
/// body, indented like it. `None` when the body shares its line with the
/// opening brace (`fn main() { run() }`).
pub(super) fn at_start_of_main(
    edits: &mut Edits<'_>,
    program: &Program,
    statements: &str,
) -> Option<()> {
    let main = program.main_fn()?;
    let file = program.modules[main.module].file;
    let open = main.block.brace_token.span.open().end();
    let close = main.block.brace_token.span.close().start();
    let body_line = main.block.stmts.first().map(|s| s.span().start().line);
    if body_line == Some(open.line) {
        return None;
    }
    let fn_indent = edits
        .index(file)
        .indentation(main.sig.fn_token.span.start().line);
    if close.line == open.line {
        // `fn main() {}`: open the body up.
        let at = edits.offset(file, open);
        let body = indent_lines(statements, &format!("{fn_indent}    "));
        edits.insert(file, at, format!("\n{body}{fn_indent}"));
        return Some(());
    }
    let indent = match body_line {
        Some(line) => edits.index(file).indentation(line),
        None => format!("{fn_indent}    "),
    };
    let at = edits.index(file).line_after(open);
    edits.insert(file, at, indent_lines(statements, &indent));
    Some(())
}

/// `main` returning a `Result`: `statements` first, then `main` ends with
/// `{otel}::main_result({body_fn}())`, and the rest of its body, every line
/// as it was, becomes `fn {body_fn}` with `main`'s signature otherwise, so
/// the `Err` it returns passes through `main`. `None` where
/// [`at_start_of_main`] would not place the statements, or `main` is empty.
pub(super) fn at_start_of_split_main(
    edits: &mut Edits<'_>,
    program: &Program,
    statements: &str,
    otel: &str,
    body_fn: &str,
) -> Option<()> {
    let main = program.main_fn()?;
    let file = program.modules[main.module].file;
    let open = main.block.brace_token.span.open().end();
    let body_line = main.block.stmts.first()?.span().start().line;
    if body_line == open.line {
        return None;
    }
    let text = &program.files[file].text;
    let sig = main.sig.span();
    let (start, name) = (edits.offset(file, sig.start()), main.sig.ident.span());
    let (name_start, name_end) = (
        edits.offset(file, name.start()),
        edits.offset(file, name.end()),
    );
    let end = edits.offset(file, sig.end());
    let signature = format!(
        "{}{body_fn}{}",
        &text[start..name_start],
        &text[name_end..end]
    );
    let fn_indent = edits
        .index(file)
        .indentation(main.sig.fn_token.span.start().line);
    let indent = edits.index(file).indentation(body_line);
    let call = match main.sig.asyncness {
        Some(_) => format!("{otel}::main_result({body_fn}().await)"),
        None => format!("{otel}::main_result({body_fn}())"),
    };
    let at = edits.index(file).line_after(open);
    let inserted = format!(
        "{}{indent}{call}\n{fn_indent}}}\n\n{signature} {{\n",
        indent_lines(statements, &indent)
    );
    edits.insert(file, at, inserted);
    Some(())
}

/// Before the statement of `main`'s body that contains `at`, indented like
/// it. `None` when that statement shares a line with a brace of `main`.
pub(super) fn before_statement_of_main(
    edits: &mut Edits<'_>,
    program: &Program,
    at: LineColumn,
    statements: &str,
) -> Option<()> {
    let main = program.main_fn()?;
    let file = program.modules[main.module].file;
    let statement = main
        .block
        .stmts
        .iter()
        .find(|s| s.span().start() <= at && at <= s.span().end())?;
    let braces = main.block.brace_token.span;
    let first = statement.span().start().line;
    if first == braces.open().start().line || first == braces.close().start().line {
        return None;
    }
    let start = edits.index(file).line_start_of(LineColumn {
        line: first,
        column: 0,
    });
    let indent = edits.index(file).indentation(first);
    edits.insert(file, start, indent_lines(statements, &indent));
    Some(())
}

fn indent_lines(statements: &str, indent: &str) -> String {
    statements
        .lines()
        .map(|line| format!("{indent}{line}\n"))
        .collect()
}
