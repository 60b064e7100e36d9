//! Unified diffs for `--dry-run` and for edits `init` declines to overwrite.

use std::path::Path;

use similar::TextDiff;

use super::{FileChange, TextFile};

pub(super) fn unified(change: &FileChange, base: &Path) -> String {
    let name = change
        .path
        .strip_prefix(base)
        .unwrap_or(&change.path)
        .display()
        .to_string();
    let old_name = if change.before.is_some() {
        format!("a/{name}")
    } else {
        "/dev/null".to_owned()
    };
    let before = change.before.as_ref().map_or("", TextFile::text);
    TextDiff::from_lines(before, &change.after)
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &format!("b/{name}"))
        .to_string()
}
