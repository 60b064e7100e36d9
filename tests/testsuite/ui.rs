//! UI tests: the real binary over fixture trees.
//!
//! Each case is a folder `tests/ui/<case>/` with
//! * `in/`: the project before the command;
//! * `case`: `args: ...` (after `cargo otel`), optional `cwd: dir` (inside the
//!   project), `status: N` (the expected exit code, 0 if absent) and
//!   `readonly: path` (a file or directory made read-only before the run);
//! * `out/`: the project afterwards (absent: the command must change nothing),
//!   compared byte for byte (`.gitattributes` keeps git from converting line
//!   ends, so byte order marks, CRLF and invalid UTF-8 stay as committed);
//! * `stdout`, `stderr`: what the command prints, with the project's
//!   temporary path written as `[ROOT]`.
//!
//! A file whose first line is `[generated: otel.rs]` stands for the module
//! this version generates, followed by the file's other lines (so an edited
//! module is the marker plus the edit); `[generated: otel.rs +axum +reqwest]`
//! stands for the module with those frameworks' pieces (`+log`: with the `log` piece,
//! `+hyper_service`: with the hyper service's server span).
//! Run with `SNAPSHOTS=overwrite` to
//! rewrite `out/`, `stdout` and `stderr` from what the binary does.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use cargo_otel::{codegen::Pieces, detect::Framework};

use crate::support;

/// `[generated: otel.rs]`, or with framework pieces `[generated: otel.rs +axum]`.
const GENERATED_MARKER_START: &str = "[generated: otel.rs";

macro_rules! ui_cases {
    ($($case:ident,)*) => {
        $(
            #[test]
            fn $case() {
                run_case(stringify!($case));
            }
        )*
    };
}

ui_cases! {
    plain_bin,
    commented_sorted_manifest,
    unsorted_manifest,
    workspace_dependencies,
    workspace_member_without_shared_dependencies,
    async_current_thread,
    detect_axum,
    detect_actix_web,
    detect_tonic,
    detect_reqwest,
    detect_none,
    detect_old_reqwest,
    no_detect,
    dash_wait_port_single,
    dash_built_in_flag_with_docker,
    init_several_packages,
    dash_several_with_bin,
    main_returns_result,
    edition_2024,
    library_only,
    library_with_lib_flag,
    library_not_published,
    published_library_with_examples,
    example_of_library,
    example_of_library_dry_run,
    bin_outside_src,
    optional_dependency,
    optional_dependency_dry_run,
    optional_old_opentelemetry,
    target_specific_old_version,
    renamed_in_target_table,
    framework_from_path,
    framework_patched,
    force_pinned_by_setup_crate,
    force_drops_removed_features,
    force_with_code_on_the_old_api,
    bin_in_src_bin,
    several_bins_without_choice,
    already_initialized,
    upgrade_from_v2,
    user_edited_module,
    foreign_module,
    existing_compose_file,
    conflicting_versions,
    conflicting_versions_force,
    compatible_dependencies_gain_features,
    lock_below_floor,
    lock_below_floor_dry_run,
    lock_below_floor_tower_layer,
    lock_held_below_floor,
    lock_tokio_held_below_floor,
    renamed_dependency,
    invalid_toml,
    virtual_manifest_without_package,
    unknown_package,
    not_a_cargo_project,
    main_does_not_parse,
    macro_generated_main,
    existing_subscriber,
    existing_subscriber_dry_run,
    fmt_init_bare,
    fmt_builder_try_init,
    set_global_default_inline,
    env_logger_builder,
    subscriber_in_a_variable,
    logging_in_helper,
    setup_in_library_dry_run,
    cfg_variants_dry_run,
    router_in_module_dry_run,
    actix_app_not_wired,
    hyper_service_fn,
    hyper_service_by_hand,
    global_filter_dry_run,
    own_logger_in_module_dry_run,
    setup_in_module_left_alone,
    read_only_manifest,
    read_only_directory,
    invalid_utf8,
    byte_order_marks,
    crlf_line_ends,
    otel_module_directory,
    example_beside_an_example_named_otel,
    otel_module_path_attribute,
    dry_run,
    help,
    init_help,
    dash_help,
    serve_help,
    doctor_help,
    traces_help,
    logs_help,
    mcp_help,
    trace_bad_id,
    doctor_human,
    doctor_quiet_all_well,
    version,
}

struct Case {
    args: Vec<String>,
    cwd: Option<String>,
    status: i32,
    readonly: Option<String>,
}

fn run_case(name: &str) {
    let dir = support::repo_root().join("tests/ui").join(name);
    let case = read_case(&dir.join("case"));
    let sandbox = tempfile::tempdir().unwrap();
    let root = sandbox.path().join("project");
    if dir.join("in").exists() {
        copy_expanding(&dir.join("in"), &root);
    } else {
        std::fs::create_dir_all(&root).unwrap();
    }
    let read_only = case.readonly.as_ref().map(|path| root.join(path));
    if let Some(path) = &read_only {
        set_mode(path, if path.is_dir() { 0o555 } else { 0o444 });
    }
    let cwd = case.cwd.as_ref().map_or(root.clone(), |c| root.join(c));
    let output = support::cargo_otel(&cwd).args(&case.args).output().unwrap();
    if let Some(path) = read_only.filter(|path| path.is_dir()) {
        // Writable again, so the temporary directory can be removed.
        set_mode(&path, 0o755);
    }
    let normalize = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let canonical = std::fs::canonicalize(&root).unwrap();
        text.replace(&canonical.display().to_string(), "[ROOT]")
            .replace(&root.display().to_string(), "[ROOT]")
    };
    let (stdout, stderr) = (normalize(&output.stdout), normalize(&output.stderr));
    let after = read_tree(&root);
    let expected_tree = if dir.join("out").exists() {
        read_tree(&dir.join("out"))
    } else {
        read_tree(&dir.join("in"))
    };

    if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
        overwrite(&dir, &stdout, &stderr, &after);
        return;
    }
    assert_eq!(
        output.status.code(),
        Some(case.status),
        "exit code of `{name}`; stderr:\n{stderr}"
    );
    assert_text(&dir.join("stderr"), &stderr);
    assert_text(&dir.join("stdout"), &stdout);
    assert_trees(&expected_tree, &after);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn read_case(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut case = Case {
        args: Vec::new(),
        cwd: None,
        status: 0,
        readonly: None,
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (key, value) = line.split_once(':').expect("`key: value` lines");
        let value = value.trim().to_owned();
        match key.trim() {
            "args" => case.args = value.split_whitespace().map(str::to_owned).collect(),
            "cwd" => case.cwd = Some(value),
            "status" => case.status = value.parse().unwrap(),
            "readonly" => case.readonly = Some(value),
            other => panic!("unknown key `{other}` in {}", path.display()),
        }
    }
    case
}

/// The files of a tree, by relative path, with the generated module folded
/// back into its marker (in files that are UTF-8).
fn read_tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    if !root.exists() {
        return files;
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let contents = match String::from_utf8(bytes) {
                    Ok(text) => fold_generated(&text).into_bytes(),
                    Err(error) => error.into_bytes(),
                };
                files.insert(path.strip_prefix(root).unwrap().to_path_buf(), contents);
            }
        }
    }
    files
}

/// Every module this version generates, with its marker: `[generated:
/// otel.rs]` for the plain one, `[generated: otel.rs +axum+reqwest]` for one
/// with framework pieces. Longest first, so the fullest match wins.
fn generated_modules() -> &'static [(String, String)] {
    static MODULES: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    MODULES.get_or_init(|| {
        let all = Framework::ALL;
        // The framework pieces, then the `log` and `hyper_service` pieces.
        let mut modules: Vec<(String, String)> = (0..1u32 << (all.len() + 2))
            .filter_map(|bits| {
                let chosen: Vec<Framework> = (0..all.len())
                    .filter(|i| bits & (1 << i) != 0)
                    .map(|i| all[i])
                    .collect();
                let log = bits & (1 << all.len()) != 0;
                let hyper_service = bits & (1 << (all.len() + 1)) != 0;
                if hyper_service && !chosen.contains(&Framework::Hyper) {
                    return None;
                }
                let mut tags: String = chosen
                    .iter()
                    .map(|f| format!(" +{}", f.template_key()))
                    .collect();
                if log {
                    tags.push_str(" +log");
                }
                if hyper_service {
                    tags.push_str(" +hyper_service");
                }
                let marker = format!("{GENERATED_MARKER_START}{tags}]");
                let pieces = Pieces {
                    frameworks: chosen,
                    hyper_service,
                    log,
                    exit_hooks: true,
                };
                let module = cargo_otel::codegen::otel_module_for(&pieces).unwrap();
                Some((marker, module))
            })
            .collect();
        modules.sort_by_key(|(_, module)| std::cmp::Reverse(module.len()));
        modules
    })
}

fn fold_generated(text: &str) -> String {
    for (marker, module) in generated_modules() {
        if let Some(rest) = text.strip_prefix(module.as_str()) {
            return format!("{marker}\n{rest}");
        }
    }
    text.to_owned()
}

fn expand_generated(text: &str) -> String {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    match generated_modules()
        .iter()
        .find(|(marker, _)| marker == first)
    {
        Some((_, module)) => format!("{module}{rest}"),
        None => text.to_owned(),
    }
}

fn copy_expanding(from: &Path, to: &Path) {
    support::copy_tree(from, to);
    for (path, contents) in read_tree(to) {
        if let Ok(text) = String::from_utf8(contents) {
            std::fs::write(to.join(path), expand_generated(&text)).unwrap();
        }
    }
}

fn assert_text(expected_path: &Path, actual: &str) {
    let expected = std::fs::read_to_string(expected_path).unwrap_or_default();
    if expected != actual {
        panic!(
            "{} differs (SNAPSHOTS=overwrite updates it)\n--- expected\n{expected}\n--- actual\n{actual}",
            expected_path.display()
        );
    }
}

fn assert_trees(expected: &BTreeMap<PathBuf, Vec<u8>>, actual: &BTreeMap<PathBuf, Vec<u8>>) {
    let names = |tree: &BTreeMap<PathBuf, Vec<u8>>| tree.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(expected), names(actual), "the files after the run");
    for (path, contents) in expected {
        // As escaped text, so a stray `\r` or byte order mark shows.
        let show = |bytes: &[u8]| format!("{:?}", String::from_utf8_lossy(bytes));
        assert_eq!(
            show(contents),
            show(&actual[path]),
            "contents of `{}` after the run",
            path.display()
        );
        assert_eq!(contents, &actual[path], "bytes of `{}`", path.display());
    }
}

fn overwrite(dir: &Path, stdout: &str, stderr: &str, after: &BTreeMap<PathBuf, Vec<u8>>) {
    std::fs::write(dir.join("stdout"), stdout).unwrap();
    std::fs::write(dir.join("stderr"), stderr).unwrap();
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let input = read_tree(&dir.join("in"));
    if after == &input {
        return; // Unchanged: no `out/`.
    }
    for (path, contents) in after {
        let target = out.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, contents).unwrap();
    }
}
