use std::os::unix::fs::PermissionsExt as _;

use super::*;

#[test]
fn all_files_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "old").unwrap();
    let mut set = ChangeSet::default();
    set.push(a.clone(), Some("old".into()), "new".into());
    set.push(b.clone(), None, "created".into());
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
    set.push(a.clone(), Some("old".into()), "new".into());
    set.push(b.clone(), Some("old".into()), "new".into());
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
    let changed = FileChange {
        path: a.clone(),
        before: Some("old".into()),
        after: "new".into(),
    };
    let created = FileChange {
        path: b.clone(),
        before: None,
        after: "created".into(),
    };
    roll_back(&[&changed, &created]).unwrap();
    assert_eq!(std::fs::read_to_string(a).unwrap(), "old");
    assert!(!b.exists());
}

#[test]
fn diff_shows_new_files_against_dev_null() {
    let mut set = ChangeSet::default();
    set.push(PathBuf::from("/p/src/otel.rs"), None, "line\n".into());
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
    set.push(a.clone(), Some("old".into()), "new".into());
    set.push(b.clone(), None, "created".into());
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
