//! A command's file edits, computed first and then written all together or
//! not at all.
//!
//! Writing goes in three steps: check that every file is writable and
//! unchanged since it was read; stage every new content in a temporary file
//! next to its target; rename them into place. A failure before the renames
//! leaves the tree untouched; a failure during them restores the files
//! already replaced, and so does Ctrl-C.

mod diff;
mod interrupt;

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use tempfile::NamedTempFile;

/// One file's new contents, and what it held when the command read it.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: PathBuf,
    pub before: Option<String>,
    pub after: String,
}

/// Every file a command will write.
#[derive(Debug, Default)]
pub struct ChangeSet {
    changes: Vec<FileChange>,
}

impl ChangeSet {
    /// Records a change; a file whose contents stay the same is left out.
    pub fn push(&mut self, path: PathBuf, before: Option<String>, after: String) {
        if before.as_deref() != Some(after.as_str()) {
            self.changes.push(FileChange {
                path,
                before,
                after,
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn changes(&self) -> &[FileChange] {
        &self.changes
    }

    /// A unified diff of every change, with paths relative to `base`.
    pub fn diff(&self, base: &Path) -> String {
        self.changes
            .iter()
            .map(|change| diff::unified(change, base))
            .collect()
    }

    /// Writes every change, or none.
    pub fn apply(&self) -> anyhow::Result<()> {
        let interrupt = interrupt::Interrupt::watch()?;
        self.apply_unless(&|| interrupt.happened())
    }

    /// [`Self::apply`], checking `interrupted` before each rename.
    fn apply_unless(&self, interrupted: &dyn Fn() -> bool) -> anyhow::Result<()> {
        for change in &self.changes {
            preflight(change)?;
        }
        let staged = self
            .changes
            .iter()
            .map(stage)
            .collect::<anyhow::Result<Vec<NamedTempFile>>>()
            .context("nothing was changed")?;
        let mut done: Vec<&FileChange> = Vec::new();
        for (change, file) in self.changes.iter().zip(staged) {
            if interrupted() {
                roll_back(&done)
                    .context("interrupted, and restoring the files already written failed")?;
                bail!("interrupted; nothing was changed");
            }
            if let Err(error) = file.persist(&change.path) {
                let undo = roll_back(&done);
                let error = anyhow::Error::new(error.error)
                    .context(format!("failed to replace `{}`", change.path.display()));
                return Err(match undo {
                    Ok(()) => error.context("the files already written were restored"),
                    Err(undo) => error.context(format!(
                        "restoring the files already written failed too: {undo:#}"
                    )),
                });
            }
            done.push(change);
        }
        Ok(())
    }
}

/// Refuses to write through a read-only file (a rename would silently
/// replace it) or over a file that changed since it was read.
fn preflight(change: &FileChange) -> anyhow::Result<()> {
    let path = &change.path;
    let Some(before) = &change.before else {
        if path.exists() {
            bail!(
                "`{}` appeared while cargo-otel was running; nothing was changed\nhelp: run the command again",
                path.display()
            );
        }
        return Ok(());
    };
    let metadata =
        std::fs::metadata(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    if metadata.permissions().readonly() {
        bail!(
            "`{}` is read-only; nothing was changed\nhelp: make it writable (`chmod u+w {}`) and run again",
            path.display(),
            path.display()
        );
    }
    let now = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    if &now != before {
        bail!(
            "`{}` changed while cargo-otel was running; nothing was changed\nhelp: run the command again",
            path.display()
        );
    }
    Ok(())
}

/// Writes the new contents to a temporary file in the target's directory (so
/// the rename stays on one file system), with the original's permissions.
fn stage(change: &FileChange) -> anyhow::Result<NamedTempFile> {
    let path = &change.path;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let cannot = || format!("cannot write `{}`", path.display());
    let mut file = NamedTempFile::new_in(dir)
        .with_context(cannot)
        .with_context(|| format!("help: check that `{}` is writable", dir.display()))?;
    file.write_all(change.after.as_bytes())
        .with_context(cannot)?;
    file.as_file().sync_all().with_context(cannot)?;
    if let Ok(metadata) = std::fs::metadata(path) {
        file.as_file()
            .set_permissions(metadata.permissions())
            .with_context(cannot)?;
    }
    Ok(file)
}

fn roll_back(done: &[&FileChange]) -> anyhow::Result<()> {
    for change in done.iter().rev() {
        match &change.before {
            Some(before) => {
                let original = FileChange {
                    path: change.path.clone(),
                    before: None,
                    after: before.clone(),
                };
                let file = stage(&original)?;
                file.persist(&change.path).map_err(|e| e.error)?;
            }
            None => std::fs::remove_file(&change.path)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
