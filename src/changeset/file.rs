//! Text files as commands read them and write them back.
//!
//! An edit works on plain text: no byte order mark, `\n` line ends. Writing
//! puts the file's own form back: its BOM, the line end of every line the
//! edit kept (new lines end like most of the file's lines), and, through a
//! symbolic link, the file the link points to.

use std::{
    io::ErrorKind,
    path::{Path, PathBuf},
};

use anyhow::{anyhow, bail};
use similar::{Algorithm, DiffOp};

const BOM: &str = "\u{feff}";

/// A text file as it was read.
#[derive(Debug, Clone)]
pub struct TextFile {
    /// As the command names it (in diffs and messages).
    path: PathBuf,
    /// Where its bytes are: `path` with symbolic links resolved.
    target: PathBuf,
    /// Exactly the bytes read.
    raw: String,
    /// `raw` without its BOM, with `\n` line ends: what edits work on.
    text: String,
}

impl TextFile {
    /// Reads `path`, called `shown` in errors.
    pub fn read(path: &Path, shown: &str) -> anyhow::Result<Self> {
        Self::read_if_present(path, shown)?.ok_or_else(|| anyhow!("`{shown}` does not exist"))
    }

    /// [`Self::read`], or `None` when nothing is at `path`. A symbolic link
    /// to nothing is an error: writing there would replace the link.
    pub fn read_if_present(path: &Path, shown: &str) -> anyhow::Result<Option<Self>> {
        match std::fs::symlink_metadata(path) {
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
            Ok(meta) if meta.is_symlink() && !path.exists() => {
                let link = std::fs::read_link(path).unwrap_or_default();
                bail!(
                    "`{shown}` is a symbolic link to `{}`, which does not exist\n\
                     help: remove the link, or create the file it points to, and run again",
                    link.display()
                )
            }
            _ => {}
        }
        let target = std::fs::canonicalize(path).map_err(|error| read_error(shown, error))?;
        if !std::fs::metadata(&target).is_ok_and(|meta| meta.is_file()) {
            bail!("`{shown}` is not a regular file\nhelp: move it out of the way and run again");
        }
        let bytes = std::fs::read(&target).map_err(|error| read_error(shown, error))?;
        let raw = String::from_utf8(bytes).map_err(|error| {
            let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
            let valid = std::str::from_utf8(valid).expect("valid up to here");
            let line = valid.matches('\n').count() + 1;
            let column = valid
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count()
                + 1;
            anyhow!(
                "`{shown}` is not valid UTF-8 (line {line}, column {column})\n\
                 help: save it as UTF-8, the only encoding cargo and rustc read, and run again"
            )
        })?;
        let text = plain(&raw);
        Ok(Some(Self {
            path: path.to_path_buf(),
            target,
            raw,
            text,
        }))
    }

    /// The path as the command named it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The text an edit works on: no BOM, `\n` line ends.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// A file that was never on disk (for tests of the edits themselves).
    #[cfg(test)]
    pub(crate) fn unsaved(path: &str, raw: &str) -> Self {
        Self {
            path: PathBuf::from(path),
            target: PathBuf::from(path),
            raw: raw.to_owned(),
            text: plain(raw),
        }
    }

    pub(super) fn target(&self) -> &Path {
        &self.target
    }

    pub(super) fn raw(&self) -> &str {
        &self.raw
    }

    /// `edited` (this file's text after an edit) in the file's own form.
    pub(super) fn restore(&self, edited: &str) -> String {
        let (bom, body) = match self.raw.strip_prefix(BOM) {
            Some(body) => (BOM, body),
            None => ("", self.raw.as_str()),
        };
        if !body.contains("\r\n") {
            return format!("{bom}{edited}");
        }
        // Line for line, `body` and `text` differ only in their line ends.
        let raw_lines: Vec<&str> = body.split_inclusive('\n').collect();
        let old: Vec<&str> = self.text.split_inclusive('\n').collect();
        let new: Vec<&str> = edited.split_inclusive('\n').collect();
        let crlf = raw_lines.iter().filter(|l| l.ends_with("\r\n")).count();
        let lf = raw_lines.iter().filter(|l| l.ends_with('\n')).count() - crlf;
        let end = if crlf >= lf { "\r\n" } else { "\n" };
        let mut out = String::with_capacity(edited.len() + new.len() + bom.len());
        out.push_str(bom);
        for op in similar::capture_diff_slices(Algorithm::Myers, &old, &new) {
            if let DiffOp::Equal { old_index, len, .. } = op {
                raw_lines[old_index..old_index + len]
                    .iter()
                    .for_each(|line| out.push_str(line));
                continue;
            }
            for line in &new[op.new_range()] {
                match line.strip_suffix('\n') {
                    Some(content) => {
                        out.push_str(content);
                        out.push_str(end);
                    }
                    None => out.push_str(line),
                }
            }
        }
        out
    }
}

/// One message, the `help:` line last (a cause under it would bury it).
fn read_error(shown: &str, error: std::io::Error) -> anyhow::Error {
    let help = match error.kind() {
        ErrorKind::PermissionDenied => {
            format!("\nhelp: make it readable (`chmod u+r {shown}`) and run again")
        }
        _ => String::new(),
    };
    anyhow!("failed to read `{shown}`: {error}{help}")
}

/// What edits work on: no BOM, `\n` line ends.
fn plain(raw: &str) -> String {
    raw.strip_prefix(BOM).unwrap_or(raw).replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edited(raw: &str, edit: impl Fn(&str) -> String) -> String {
        let file = TextFile::unsaved("f", raw);
        file.restore(&edit(file.text()))
    }

    #[test]
    fn a_bom_stays_first() {
        let out = edited("\u{feff}fn main() {}\n", |t| format!("mod otel;\n{t}"));
        assert_eq!(out, "\u{feff}mod otel;\nfn main() {}\n");
    }

    #[test]
    fn crlf_lines_stay_crlf_and_new_lines_follow_them() {
        let out = edited("[package]\r\nname = \"a\"\r\n", |t| {
            format!("{t}[dependencies]\n")
        });
        assert_eq!(out, "[package]\r\nname = \"a\"\r\n[dependencies]\r\n");
    }

    #[test]
    fn mixed_line_ends_are_kept_line_by_line() {
        let raw = "a\r\nb\nc\r\nd\r\n";
        let out = edited(raw, |t| t.replace("b\n", "b\nnew\n"));
        assert_eq!(out, "a\r\nb\nnew\r\nc\r\nd\r\n");
        let out = edited(raw, |t| t.replace("c\n", ""));
        assert_eq!(out, "a\r\nb\nd\r\n");
    }

    #[test]
    fn a_last_line_without_end_stays_so() {
        assert_eq!(edited("a\r\nb", |t| format!("x\n{t}")), "x\r\na\r\nb");
    }
}
