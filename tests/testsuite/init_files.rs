//! `cargo otel init` never harms the user's files: symbolic links, file modes
//! and temporary files, on real temporary projects with the real binary
//! (what a snapshot tree cannot hold; byte order marks, line ends, foreign
//! `otel` modules and unreadable files are `tests/ui` cases).

use std::{
    fs,
    os::unix::{
        fs::{PermissionsExt as _, symlink},
        process::CommandExt as _,
    },
    path::Path,
    process::Output,
};

use crate::support;

const MANIFEST: &str =
    "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";
const MAIN: &str = "fn main() {\n    println!(\"Hello, world!\");\n}\n";

/// A package `demo` in `dir`: `Cargo.toml` and `src/main.rs`.
fn package(dir: &Path) {
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::write(dir.join("Cargo.toml"), MANIFEST).unwrap();
    fs::write(dir.join("src/main.rs"), MAIN).unwrap();
}

fn init(dir: &Path) -> Output {
    support::cargo_otel(dir).arg("init").output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A manifest and a crate root kept elsewhere and linked into the project
/// (dotfiles, generated layouts): the files they point to are edited, and
/// the links stay links.
#[test]
fn symlinked_manifest_and_main_are_edited_where_they_point() {
    let temp = tempfile::tempdir().unwrap();
    let (project, shared) = (temp.path().join("project"), temp.path().join("shared"));
    package(&shared);
    fs::create_dir_all(project.join("src")).unwrap();
    symlink("../shared/Cargo.toml", project.join("Cargo.toml")).unwrap();
    symlink("../../shared/src/main.rs", project.join("src/main.rs")).unwrap();

    let output = init(&project);
    assert!(output.status.success(), "{}", stderr(&output));
    for (link, target) in [
        ("Cargo.toml", "../shared/Cargo.toml"),
        ("src/main.rs", "../../shared/src/main.rs"),
    ] {
        let link = project.join(link);
        assert!(
            fs::symlink_metadata(&link).unwrap().is_symlink(),
            "`{}` was replaced by a file",
            link.display()
        );
        assert_eq!(fs::read_link(&link).unwrap(), Path::new(target));
    }
    let manifest = fs::read_to_string(shared.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("opentelemetry_sdk = "), "{manifest}");
    let main = fs::read_to_string(shared.join("src/main.rs")).unwrap();
    assert!(main.starts_with("mod otel;\n"), "{main}");
    assert!(main.contains("otel::init()"), "{main}");
    assert!(project.join("src/otel.rs").is_file());
}

/// A link to nothing where init would create a file: writing would replace
/// the link, so init refuses and changes nothing.
#[test]
fn a_symlink_to_nothing_is_not_replaced() {
    let temp = tempfile::tempdir().unwrap();
    let project = temp.path();
    package(project);
    symlink("../shared/otel.rs", project.join("src/otel.rs")).unwrap();

    let output = init(project);
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.starts_with(
            "error: `src/otel.rs` is a symbolic link to `../shared/otel.rs`, which does not exist\n\
             help: remove the link, or create the file it points to, and run again\n"
        ),
        "{said}"
    );
    assert!(
        fs::symlink_metadata(project.join("src/otel.rs"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(
        fs::read_to_string(project.join("Cargo.toml")).unwrap(),
        MANIFEST
    );
    assert_eq!(
        fs::read_to_string(project.join("src/main.rs")).unwrap(),
        MAIN
    );
    assert_eq!(names(project), ["Cargo.toml", "src"]);
}

/// New files get the mode the umask gives (like `touch` or `cargo new`),
/// replaced files keep theirs.
#[test]
fn new_files_follow_the_umask_and_replaced_files_keep_their_mode() {
    let temp = tempfile::tempdir().unwrap();
    let project = temp.path();
    package(project);
    fs::set_permissions(
        project.join("Cargo.toml"),
        fs::Permissions::from_mode(0o604),
    )
    .unwrap();
    fs::set_permissions(
        project.join("src/main.rs"),
        fs::Permissions::from_mode(0o660),
    )
    .unwrap();

    let mut command = support::cargo_otel(project);
    command.arg("init");
    // SAFETY: umask is async-signal-safe and touches nothing but the child.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0o027);
            Ok(())
        });
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let modes: Vec<(&str, u32)> = [
        "src/otel.rs",
        "compose.otel.yaml",
        "Cargo.toml",
        "src/main.rs",
    ]
    .into_iter()
    .map(|file| (file, mode(&project.join(file))))
    .collect();
    assert_eq!(
        modes,
        [
            ("src/otel.rs", 0o640),
            ("compose.otel.yaml", 0o640),
            ("Cargo.toml", 0o604),
            ("src/main.rs", 0o660),
        ]
    );
}

/// A run killed (SIGKILL, power loss) between staging and renaming leaves
/// its temporary files behind; the next run removes them, and only them.
#[test]
fn a_killed_runs_temporary_files_are_removed_and_nothing_else() {
    let temp = tempfile::tempdir().unwrap();
    let project = temp.path();
    package(project);
    // A process that has exited: its id names the killed run.
    let gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait_with_output().unwrap();
    let leftovers = [
        format!(".cargo-otel-tmp-{pid}-a1B2c3"),
        format!("src/.cargo-otel-tmp-{pid}-Zz9Yy8"),
    ];
    let users = [
        ".tmpa1B2c3",
        "src/.cargo-otel-tmp-notes",
        "src/.cargo-otel-tmp-1-x",
    ];
    for name in leftovers.iter().map(String::as_str).chain(users) {
        fs::write(project.join(name), "partial").unwrap();
    }

    let output = init(project);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        names(project),
        [".tmpa1B2c3", "Cargo.toml", "compose.otel.yaml", "src"]
    );
    assert_eq!(
        names(&project.join("src")),
        [
            ".cargo-otel-tmp-1-x",
            ".cargo-otel-tmp-notes",
            "main.rs",
            "otel.rs"
        ]
    );
}

/// cargo's own error, then what to do about it.
#[test]
fn a_package_without_targets_is_told_how_to_add_one() {
    let temp = tempfile::tempdir().unwrap();
    let project = temp.path();
    fs::write(project.join("Cargo.toml"), MANIFEST).unwrap();

    let output = init(project);
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("no targets specified"), "{said}");
    assert!(
        said.ends_with(
            "\nhelp: add `src/main.rs` for a program or `src/lib.rs` for a library, and run again\n"
        ),
        "{said}"
    );
    assert_eq!(names(project), ["Cargo.toml"]);
}
