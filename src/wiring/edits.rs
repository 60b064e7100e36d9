//! Text insertions and replacements across the program's files, applied
//! at the end so every position refers to the file as it was read: each
//! other byte of the user's files (comments, formatting) stays as it was.

use std::{collections::BTreeMap, path::Path};

use proc_macro2::LineColumn;
use syn::{Item, spanned::Spanned as _};

use super::locate::LineIndex;
use crate::{analysis::Program, changeset::TextFile};

/// One file's new text (without a BOM, `\n` line ends: writing it puts the
/// file's own form back).
#[derive(Debug, Clone)]
pub struct FileEdit {
    pub file: TextFile,
    pub after: String,
}

impl FileEdit {
    /// The file unchanged, for edits that come later.
    pub fn unchanged(file: TextFile) -> Self {
        let after = file.text().to_owned();
        Self { file, after }
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    pub fn changed(&self) -> bool {
        self.after != self.file.text()
    }
}

/// The edits planned so far, by file (index into [`Program::files`]).
pub(super) struct Edits<'p> {
    program: &'p Program,
    indexes: BTreeMap<usize, LineIndex>,
    /// (start, end, replacement) byte ranges per file.
    ranges: BTreeMap<usize, Vec<(usize, usize, String)>>,
    /// `use` lines to add, by file and module.
    imports: BTreeMap<(usize, usize), Vec<&'static Trait>>,
}

/// A trait by name, and how to import it from `tracing_subscriber`.
pub(super) type Trait = (&'static str, &'static str);
/// `.with(..)` on a subscriber.
pub(super) const SUBSCRIBER_EXT: Trait = ("SubscriberExt", "layer::SubscriberExt as _");
/// `.init()` on a subscriber.
pub(super) const SUBSCRIBER_INIT_EXT: Trait = ("SubscriberInitExt", "util::SubscriberInitExt as _");

impl<'p> Edits<'p> {
    pub(super) fn new(program: &'p Program) -> Self {
        Self {
            program,
            indexes: BTreeMap::new(),
            ranges: BTreeMap::new(),
            imports: BTreeMap::new(),
        }
    }

    /// The line index of a file, built on first use.
    pub(super) fn index(&mut self, file: usize) -> &LineIndex {
        let program = self.program;
        self.indexes
            .entry(file)
            .or_insert_with(|| LineIndex::new(&program.files[file].text))
    }

    pub(super) fn offset(&mut self, file: usize, at: LineColumn) -> usize {
        self.index(file).offset(at)
    }

    pub(super) fn insert(&mut self, file: usize, at: usize, text: String) {
        self.replace(file, at, at, text);
    }

    pub(super) fn replace(&mut self, file: usize, start: usize, end: usize, text: String) {
        self.ranges
            .entry(file)
            .or_default()
            .push((start, end, text));
    }

    /// `call` (`.layer(..)`) right after the expression ending at `after`:
    /// on a line of its own indented like `indent_like`'s line, or inline.
    pub(super) fn append(
        &mut self,
        file: usize,
        after: LineColumn,
        indent_like: Option<LineColumn>,
        call: &str,
    ) {
        let at = self.offset(file, after);
        let text = match indent_like {
            Some(like) => format!("\n{}{call}", self.index(file).indentation(like.line)),
            None => call.to_owned(),
        };
        self.insert(file, at, text);
    }

    /// `calls` (`.with(..)`) into a method chain at `at` (the `.` of one of
    /// its calls, or its end), laid out as rustfmt lays out chains: one call
    /// per line when the chain is written so, or no longer fits in 100
    /// columns or in rustfmt's `chain_width` (60).
    pub(super) fn insert_into_chain(
        &mut self,
        file: usize,
        chain: &syn::Expr,
        at: LineColumn,
        calls: &[&str],
    ) {
        const WIDTH: usize = 100;
        const CHAIN_WIDTH: usize = 60;
        let (start, end) = (chain.span().start(), chain.span().end());
        let dots = chain_dots(chain);
        let at_end = at >= end;
        let inline = calls.concat();
        let own_lines = |indent: &str| calls.join(&format!("\n{indent}"));
        if end.line > start.line {
            let like = match at_end {
                true => dots.last().copied(),
                false => Some(at),
            };
            let offset = self.offset(file, at);
            let indent = like
                .map(|l| self.index(file).indentation(l.line))
                .unwrap_or_default();
            let text = match (
                at_end,
                like.is_some_and(|l| self.index(file).starts_line(l)),
            ) {
                (true, true) => format!("\n{indent}{}", own_lines(&indent)),
                (false, true) => format!("{}\n{indent}", own_lines(&indent)),
                _ => inline,
            };
            self.insert(file, offset, text);
            return;
        }
        let added = inline.chars().count();
        let fits = self.index(file).line_len(end.line) + added <= WIDTH
            && end.column - start.column + added <= CHAIN_WIDTH;
        if fits || dots.is_empty() {
            let offset = self.offset(file, at);
            self.insert(file, offset, inline);
            return;
        }
        let indent = format!("{}    ", self.index(file).indentation(start.line));
        for dot in dots {
            let offset = self.offset(file, dot);
            let text = match dot == at {
                true => format!("\n{indent}{}\n{indent}", own_lines(&indent)),
                false => format!("\n{indent}"),
            };
            self.insert(file, offset, text);
        }
        if at_end {
            let offset = self.offset(file, at);
            self.insert(file, offset, format!("\n{indent}{}", own_lines(&indent)));
        }
    }

    /// Takes over the edits planned in `other`.
    pub(super) fn absorb(&mut self, other: Edits<'_>) {
        for (file, ranges) in other.ranges {
            self.ranges.entry(file).or_default().extend(ranges);
        }
        for ((_, module), traits) in other.imports {
            self.import(module, &traits);
        }
    }

    /// Makes `traits` usable in `module` (a file's top level or an inline
    /// module in it).
    pub(super) fn import(&mut self, module: usize, traits: &[&'static Trait]) {
        let file = self.program.modules[module].file;
        let wanted = self.imports.entry((file, module)).or_default();
        for t in traits {
            if !wanted.contains(t) {
                wanted.push(t);
            }
        }
    }

    /// Every file's new text.
    pub(super) fn finish(mut self) -> Vec<FileEdit> {
        let imports = std::mem::take(&mut self.imports);
        for ((file, module), traits) in imports {
            if let Some((at, text)) = self.import_line(module, &traits) {
                self.insert(file, at, text);
            }
        }
        self.ranges
            .into_iter()
            .map(|(file, ranges)| {
                let source = &self.program.files[file];
                FileEdit {
                    file: source.read.clone(),
                    after: apply(&source.text, ranges),
                }
            })
            .filter(FileEdit::changed)
            .collect()
    }

    /// A `use` for those of `needed` the module does not import yet, as its
    /// own group after the module's last `use` (rustfmt leaves it there).
    fn import_line(&mut self, module: usize, needed: &[&'static Trait]) -> Option<(usize, String)> {
        let program = self.program;
        let scope = &program.modules[module];
        let uses: Vec<&syn::ItemUse> = scope
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Use(u) => Some(u),
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
        let file = scope.file;
        let indent = match scope.brace {
            Some(brace) => format!("{}    ", self.index(file).indentation(brace.line)),
            None => String::new(),
        };
        if let Some(last) = uses.last() {
            let at = self.index(file).line_after(last.span().end());
            return Some((at, format!("\n{indent}{line}\n")));
        }
        match scope.brace {
            Some(brace) => {
                let at = self.index(file).line_after(brace);
                Some((at, format!("{indent}{line}\n\n")))
            }
            None => {
                let first = scope.items.first().map(|item| item.span().start());
                let index = self.index(file);
                let at = first.map_or(0, |f| index.above_comments(f));
                Some((at, format!("{line}\n\n")))
            }
        }
    }
}

/// A call as rustfmt writes it, so a user's `cargo fmt --check` stays
/// clean: on one line when it fits in 100 columns (the call starting at
/// `column`, with the statement's `;`) and its arguments and the chain it
/// heads fit rustfmt's narrower limits; else with a last closure argument
/// opened over lines when the rest fits on the first; else one argument per
/// line. An argument may span lines, as written for a statement indented by
/// `indent`. `suffix` (`.expect(..)`) follows, on a line of its own unless
/// the whole chain is short.
pub(super) fn call(
    column: usize,
    indent: &str,
    callee: &str,
    args: &[&str],
    suffix: &str,
) -> String {
    const WIDTH: usize = 100;
    /// rustfmt's `fn_call_width`: wider arguments go over lines.
    const CALL_WIDTH: usize = 60;
    /// rustfmt's `chain_width`: a wider chain gets a line per call.
    const CHAIN_WIDTH: usize = 60;
    let joined = args.join(", ");
    let head = format!("{callee}({joined})");
    let one_line = !head.contains('\n') && joined.len() <= CALL_WIDTH;
    let short_chain = suffix.is_empty() || head.len() + suffix.len() <= CHAIN_WIDTH;
    if one_line && short_chain && column + head.len() + suffix.len() < WIDTH {
        return format!("{head}{suffix}");
    }
    if one_line && !suffix.is_empty() && column + head.len() <= WIDTH {
        return format!("{head}\n{indent}    {suffix}");
    }
    let one_line = !head.contains('\n');
    let suffix = match suffix {
        "" => String::new(),
        suffix => format!("\n{indent}{suffix}"),
    };
    if let Some((last, rest)) = args.split_last()
        && let Some((parameters, body)) = closure(last)
        && one_line
    {
        let mut first = format!("{callee}(");
        for arg in rest {
            first.push_str(&format!("{arg}, "));
        }
        first.push_str(&format!("{parameters} {{"));
        if column + first.len() <= WIDTH {
            return format!("{first}\n{indent}    {body}\n{indent}}}){suffix}");
        }
    }
    let args: String = args
        .iter()
        .map(|a| format!("{indent}    {},\n", a.replace('\n', "\n    ")))
        .collect();
    format!("{callee}(\n{args}{indent}){suffix}")
}

/// `|logger| logger.filter()` as its parameters and body.
fn closure(arg: &str) -> Option<(&str, &str)> {
    let rest = arg.strip_prefix('|')?;
    let end = rest.find('|')? + 2;
    Some((&arg[..end], arg[end..].trim()))
}

/// The `.` of each call of a method chain, first call first.
fn chain_dots(chain: &syn::Expr) -> Vec<LineColumn> {
    let mut dots = Vec::new();
    let mut expr = chain;
    while let syn::Expr::MethodCall(call) = expr {
        dots.push(call.dot_token.span.start());
        expr = &call.receiver;
    }
    dots.reverse();
    dots
}

/// Whether `name` appears in `tokens` as a whole identifier.
pub(super) fn has_ident(tokens: &str, name: &str) -> bool {
    tokens
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|t| t == name)
}

/// Applies edits (byte range, replacement), later ranges first so earlier
/// ones stay valid; insertions at the same place keep their planned order.
pub(super) fn apply(source: &str, mut edits: Vec<(usize, usize, String)>) -> String {
    // Stable: among equal starts, the one planned first must end up first,
    // so those are applied last.
    edits.reverse();
    edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    // Added lines end like the file's own, so a CRLF file stays CRLF.
    let crlf = source.contains("\r\n");
    let mut text = source.to_owned();
    for (start, end, replacement) in edits {
        let replacement = match crlf {
            true => replacement.replace("\r\n", "\n").replace('\n', "\r\n"),
            false => replacement,
        };
        text.replace_range(start..end, &replacement);
    }
    text
}
