use std::os::unix::fs::PermissionsExt as _;

use super::*;

/// `path` as a command reads it before editing it.
fn read(path: &Path) -> TextFile {
    TextFile::read(path, &path.display().to_string()).unwrap()
}

#[test]
fn all_files_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "old").unwrap();
    let mut set = ChangeSet::default();
    set.edit(read(&a), "new".into());
    set.create(b.clone(), "created".into());
    set.apply().unwrap();
    assert_eq!(std::fs::read_to_string(a).unwrap(), "new");
    assert_eq!(std::fs::read_to_string(b).unwrap(), "created");
}

#[test]
fn a_read_only_file_stops_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "old").unwrap();
    std::fs::write(&b, "old").unwrap();
    std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o444)).unwrap();
    let mut set = ChangeSet::default();
    set.edit(read(&a), "new".into());
    set.edit(read(&b), "new".into());
    let error = set.apply().unwrap_err().to_string();
    assert!(error.contains("is read-only"), "{error}");
    assert_eq!(std::fs::read_to_string(a).unwrap(), "old");
    assert_eq!(std::fs::read_to_string(b).unwrap(), "old");
}

#[test]
fn rollback_restores_and_removes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "new").unwrap();
    std::fs::write(&b, "created").unwrap();
    std::fs::write(&a, "\u{feff}old\r\n").unwrap();
    let changed = FileChange {
        path: a.clone(),
        before: Some(read(&a)),
        after: "new\n".into(),
    };
    std::fs::write(&a, "\u{feff}new\r\n").unwrap();
    let created = FileChange {
        path: b.clone(),
        before: None,
        after: "created".into(),
    };
    roll_back(&[&changed, &created]).unwrap();
    assert_eq!(std::fs::read_to_string(a).unwrap(), "\u{feff}old\r\n");
    assert!(!b.exists());
}

#[test]
fn diff_shows_new_files_against_dev_null() {
    let mut set = ChangeSet::default();
    set.create(PathBuf::from("/p/src/otel.rs"), "line\n".into());
    assert_eq!(
        set.diff(Path::new("/p")),
        "--- /dev/null\n+++ b/src/otel.rs\n@@ -0,0 +1 @@\n+line\n"
    );
}

#[test]
fn an_interrupt_between_renames_restores_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "old").unwrap();
    let mut set = ChangeSet::default();
    set.edit(read(&a), "new".into());
    set.create(b.clone(), "created".into());
    let checks = std::cell::Cell::new(0);
    let second_check = || {
        checks.set(checks.get() + 1);
        checks.get() == 2
    };
    let error = set.apply_unless(&second_check).unwrap_err().to_string();
    assert_eq!(error, "interrupted; nothing was changed");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "old");
    assert!(!b.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary files were left behind");
}

#[test]
fn only_the_temporary_files_of_finished_runs_are_leftovers() {
    let finished = std::process::Command::new("true").spawn().unwrap();
    let pid = finished.id();
    finished.wait_with_output().unwrap();
    assert!(left_over(&format!(".cargo-otel-tmp-{pid}-a1B2c3")));
    let running = std::process::id();
    assert!(!left_over(&format!(".cargo-otel-tmp-{running}-a1B2c3")));
    for name in [
        ".tmpa1B2c3",
        ".cargo-otel-tmp-notes",
        &format!(".cargo-otel-tmp-{pid}-a1B2c3.bak"),
        &format!(".cargo-otel-tmp-{pid}-"),
    ] {
        assert!(!left_over(name), "{name}");
    }
}

#[test]
fn a_file_that_cannot_be_staged_says_why_with_the_help_last() {
    let dir = tempfile::tempdir().unwrap();
    let (a, lost) = (dir.path().join("a"), dir.path().join("gone/x"));
    std::fs::write(&a, "old").unwrap();
    let mut set = ChangeSet::default();
    set.edit(read(&a), "new".into());
    set.create(lost.clone(), "created".into());
    let error = set.apply().unwrap_err();
    let gone = dir.path().join("gone");
    assert_eq!(
        format!("{error:#}"),
        format!(
            "cannot write `{}`: `{}` does not exist; nothing was changed\nhelp: create it and run again",
            lost.display(),
            gone.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "old");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "a temporary file was left behind");
}
