//! From syn's line/column positions to byte offsets in the source text.

use proc_macro2::LineColumn;

/// Byte offset at which each line starts.
pub(super) struct LineIndex {
    starts: Vec<usize>,
    text: String,
}

impl LineIndex {
    pub(super) fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            starts,
            text: text.to_owned(),
        }
    }

    /// The byte offset of a position (lines from 1, columns in characters).
    pub(super) fn offset(&self, at: LineColumn) -> usize {
        let start = self.line_start(at.line);
        let line = &self.text[start..];
        start
            + line
                .char_indices()
                .nth(at.column)
                .map_or(line.len(), |(i, _)| i)
    }

    pub(super) fn line_start_of(&self, at: LineColumn) -> usize {
        self.line_start(at.line)
    }

    /// The start of the line after `at`'s line (the end of the text if none).
    pub(super) fn line_after(&self, at: LineColumn) -> usize {
        self.starts.get(at.line).copied().unwrap_or(self.text.len())
    }

    /// The start of `at`'s line, moved up over `//` comment lines right above
    /// it, so an insertion does not split a comment from what it describes.
    pub(super) fn above_comments(&self, at: LineColumn) -> usize {
        let mut line = at.line;
        while line > 1 && self.line_text(line - 1).trim_start().starts_with("//") {
            line -= 1;
        }
        self.line_start(line)
    }

    /// Whether only whitespace comes before `at` on its line.
    pub(super) fn starts_line(&self, at: LineColumn) -> bool {
        let text = self.line_text(at.line);
        text.chars().take(at.column).all(char::is_whitespace)
    }

    pub(super) fn indentation(&self, line: usize) -> String {
        let text = self.line_text(line);
        text[..text.len() - text.trim_start().len()].to_owned()
    }

    /// The length of `line` in characters, without its line break.
    pub(super) fn line_len(&self, line: usize) -> usize {
        self.line_text(line).chars().count()
    }

    pub(super) fn end(&self) -> usize {
        self.text.len()
    }

    fn line_start(&self, line: usize) -> usize {
        self.starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len())
    }

    fn line_text(&self, line: usize) -> &str {
        let start = self.line_start(line);
        let end = self.starts.get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}
