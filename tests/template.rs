//! The generated module must survive the user's own tooling untouched: a
//! crate whose CI runs `cargo fmt --check` stays green after `init`, in
//! either rustfmt style edition.

use std::process::Command;

#[test]
fn generated_module_is_rustfmt_clean_in_every_edition() {
    let module = cargo_otel::codegen::otel_module().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("otel.rs");
    std::fs::write(&path, &module).unwrap();
    for edition in ["2018", "2021", "2024"] {
        let output = Command::new("rustfmt")
            .args(["--check", "--edition", edition])
            .arg(&path)
            .output()
            .expect("rustfmt is installed with the toolchain");
        assert!(
            output.status.success(),
            "rustfmt --edition {edition} would change the module:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}
