//! The generated module must survive the user's own tooling untouched: a
//! crate whose CI runs `cargo fmt --check` stays green after `init`, in
//! either rustfmt style edition.

mod support;

#[test]
fn generated_module_is_rustfmt_clean_in_every_edition() {
    let module = cargo_otel::codegen::otel_module().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("otel.rs");
    std::fs::write(&path, &module).unwrap();
    for edition in ["2018", "2021", "2024"] {
        support::assert_rustfmt_clean(&path, edition);
    }
}
