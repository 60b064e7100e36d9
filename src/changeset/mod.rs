//! A command's file edits, computed first and then written all together or
//! not at all.
//!
//! Writing goes in three steps: check that every file is writable and
//! unchanged since it was read; stage every new content in a temporary file
//! next to its target; rename them into place. A failure before the renames
//! leaves the tree untouched; a failure during them restores the files
//! already replaced, and so does Ctrl-C.
//!
//! A replaced file keeps its mode, owner and form (see [`TextFile`]); a new
//! one gets the mode the umask gives. Temporary files are named
//! `.cargo-otel-tmp-<pid>-XXXXXX`, so a later run can remove those a killed
//! run left behind, and nothing else.

mod diff;
mod file;

use std::{
    collections::BTreeSet,
    io::{ErrorKind, Write as _},
    os::unix::fs::{MetadataExt as _, PermissionsExt as _},
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use tempfile::NamedTempFile;

pub use file::TextFile;

/// How every temporary file of ours starts; the process id follows.
const TEMP_PREFIX: &str = ".cargo-otel-tmp-";
/// The random characters that end a temporary file's name.
const TEMP_RANDOM_LEN: usize = 6;

/// One file's new contents, and the file as the command read it (`None`:
/// the file is new).
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: PathBuf,
    pub before: Option<TextFile>,
    pub after: String,
}

impl FileChange {
    /// Where the bytes go: through a symbolic link, to the file it points to.
    fn target(&self) -> &Path {
        self.before.as_ref().map_or(&self.path, TextFile::target)
    }

    /// The bytes to write: `after` in the form of the file it replaces.
    fn bytes(&self) -> String {
        match &self.before {
            Some(file) => file.restore(&self.after),
            None => self.after.clone(),
        }
    }
}

/// Every file a command will write.
#[derive(Debug, Default)]
pub struct ChangeSet {
    changes: Vec<FileChange>,
}

impl ChangeSet {
    /// Records an edit of `file`; an edit that changes nothing is left out.
    pub fn edit(&mut self, file: TextFile, after: String) {
        if file.text() != after {
            self.changes.push(FileChange {
                path: file.path().to_path_buf(),
                before: Some(file),
                after,
            });
        }
    }

    /// Records a new file.
    pub fn create(&mut self, path: PathBuf, contents: String) {
        self.changes.push(FileChange {
            path,
            before: None,
            after: contents,
        });
    }

    /// [`Self::edit`] of `existing`, else [`Self::create`] at `path`.
    pub fn write(&mut self, path: PathBuf, existing: Option<TextFile>, contents: String) {
        match existing {
            Some(file) => self.edit(file, contents),
            None => self.create(path, contents),
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

    /// Writes every change, or none. Ctrl-C (or a terminal hang-up, or
    /// `kill`) meanwhile must not leave half the edits behind: the signal is
    /// recorded instead of ending the process, and the writing rolls back.
    pub fn apply(&self) -> anyhow::Result<()> {
        let stop = crate::signals::StopFlag::watch()?;
        self.apply_unless(&|| stop.happened())
    }

    /// [`Self::apply`], checking `interrupted` before each rename.
    fn apply_unless(&self, interrupted: &dyn Fn() -> bool) -> anyhow::Result<()> {
        for change in &self.changes {
            preflight(change)?;
        }
        let dirs: BTreeSet<&Path> = self.changes.iter().map(|c| parent(c.target())).collect();
        for dir in dirs {
            remove_leftovers(dir);
        }
        let mut staged = Vec::new();
        for change in &self.changes {
            let target = change.target();
            let file = stage(target, change.bytes().as_bytes())
                .map_err(|error| write_error(target, error))?;
            staged.push(file);
        }
        let mut done: Vec<&FileChange> = Vec::new();
        for (change, file) in self.changes.iter().zip(staged) {
            if interrupted() {
                roll_back(&done)
                    .context("interrupted, and restoring the files already written failed")?;
                bail!("interrupted; nothing was changed");
            }
            if let Err(error) = file.persist(change.target()) {
                let undo = roll_back(&done);
                let error = anyhow::Error::new(error.error)
                    .context(format!("failed to replace `{}`", change.target().display()));
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

/// Refuses to write through a read-only file or into a read-only directory
/// (a rename would silently replace the one, and root could write into the
/// other), over a file that changed since it was read, or where a file
/// appeared.
fn preflight(change: &FileChange) -> anyhow::Result<()> {
    let target = change.target();
    let dir = parent(target);
    if std::fs::metadata(dir).is_ok_and(|meta| meta.permissions().readonly()) {
        bail!(
            "`{}` is read-only; nothing was changed\n\
             help: make it writable (`chmod u+w {}`) and run again",
            dir.display(),
            dir.display()
        );
    }
    let Some(before) = &change.before else {
        if std::fs::symlink_metadata(target).is_ok() {
            bail!(
                "`{}` appeared while cargo-otel was running; nothing was changed\nhelp: run the command again",
                target.display()
            );
        }
        return Ok(());
    };
    let metadata = std::fs::metadata(target)
        .with_context(|| format!("failed to read `{}`", target.display()))?;
    if metadata.permissions().readonly() {
        bail!(
            "`{}` is read-only; nothing was changed\nhelp: make it writable (`chmod u+w {}`) and run again",
            target.display(),
            target.display()
        );
    }
    let now =
        std::fs::read(target).with_context(|| format!("failed to read `{}`", target.display()))?;
    if now != before.raw().as_bytes() {
        bail!(
            "`{}` changed while cargo-otel was running; nothing was changed\nhelp: run the command again",
            target.display()
        );
    }
    Ok(())
}

/// The directory a file is in (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `contents` to a temporary file beside `target` (so the rename
/// stays on one file system), with `target`'s mode and owner when it
/// exists, else with the mode the umask gives a new file.
fn stage(target: &Path, contents: &[u8]) -> std::io::Result<NamedTempFile> {
    let original = std::fs::metadata(target).ok();
    // Private until the original's mode is set: the contents may be secret.
    let mode = if original.is_some() { 0o600 } else { 0o666 };
    let mut file = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .rand_bytes(TEMP_RANDOM_LEN)
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(parent(target))?;
    file.write_all(contents)?;
    if let Some(original) = original {
        // Only root may give a file away; anyone else keeps their own.
        let _ =
            std::os::unix::fs::fchown(file.as_file(), Some(original.uid()), Some(original.gid()));
        file.as_file().set_permissions(original.permissions())?;
    }
    file.as_file().sync_all()?;
    Ok(file)
}

/// Why `target` could not be staged, with what to do about it.
fn write_error(target: &Path, error: std::io::Error) -> anyhow::Error {
    let dir = parent(target).display();
    let kind = error.kind();
    // By kind: tempfile's messages name the temporary file, not the target.
    let (reason, help) = match kind {
        ErrorKind::NotFound => (
            format!("`{dir}` does not exist"),
            "create it and run again".to_owned(),
        ),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => (
            kind.to_string(),
            format!("make `{dir}` writable and run again"),
        ),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => (
            kind.to_string(),
            "free some disk space and run again".to_owned(),
        ),
        _ => (error.to_string(), "run the command again".to_owned()),
    };
    anyhow::anyhow!(
        "cannot write `{}`: {reason}; nothing was changed\nhelp: {help}",
        target.display()
    )
}

/// Removes the temporary files of runs that are over (killed before they
/// could clean up) from `dir`. Best effort: a leftover only takes space.
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && left_over(&entry.file_name().to_string_lossy()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether `name` is one of our temporary files whose process is gone.
fn left_over(name: &str) -> bool {
    let Some((pid, random)) = name
        .strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.split_once('-'))
    else {
        return false;
    };
    let ours = random.len() == TEMP_RANDOM_LEN && random.chars().all(|c| c.is_ascii_alphanumeric());
    ours && pid.parse::<u32>().is_ok_and(|pid| !running(pid))
}

/// Whether process `pid` exists (this one included).
fn running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 sends nothing; it only checks that `pid` exists.
    let found = unsafe { libc::kill(pid, 0) } == 0;
    found || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn roll_back(done: &[&FileChange]) -> anyhow::Result<()> {
    for change in done.iter().rev() {
        match &change.before {
            Some(before) => {
                let file = stage(before.target(), before.raw().as_bytes())?;
                file.persist(before.target()).map_err(|e| e.error)?;
            }
            None => std::fs::remove_file(&change.path)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
