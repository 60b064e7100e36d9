//! `Cargo.toml` files, read and edited through `toml_edit` only, so the user's
//! comments, whitespace, key order and table styles survive every edit.

mod dependencies;
pub(crate) mod lockfile;
mod stack;

use std::path::Path;

use toml_edit::DocumentMut;

use crate::changeset::TextFile;

pub use dependencies::{
    Declared, DependencyChange, Home, add_dependencies, add_stack, declared, not_linked,
    optional_kept_warning,
};
pub use stack::{LOCK_FLOORS, LockFloor, PinnedDependency, STACK, stack_for};

/// A manifest as read from disk, with the edits made to it so far.
#[derive(Debug)]
pub struct LocalManifest {
    /// The file as read; `document` was parsed from its text.
    pub file: TextFile,
    pub document: DocumentMut,
}

impl LocalManifest {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let file = TextFile::read(path, &path.display().to_string())?;
        let document = parse(path, file.text())?;
        Ok(Self { file, document })
    }

    /// The manifest as it would be written now.
    pub fn contents(&self) -> String {
        self.document.to_string()
    }
}

/// Parses TOML, reporting errors as `path:line:column: message`, the way
/// compilers do, so editors can jump to them.
fn parse(path: &Path, text: &str) -> anyhow::Result<DocumentMut> {
    text.parse::<DocumentMut>().map_err(|error| {
        let offset = error.span().map_or(0, |span| span.start);
        let (line, column) = line_and_column(text, offset);
        anyhow::anyhow!(
            "invalid TOML in `{}:{line}:{column}`: {}\n\
             help: fix the manifest (cargo reports the same error) and run again",
            path.display(),
            error.message()
        )
    })
}

/// One-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_point_at_line_and_column() {
        let error = parse(Path::new("Cargo.toml"), "[package]\nname = = 1\n").unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("invalid TOML in `Cargo.toml:2:8`: "),
            "{message}"
        );
    }
}
