//! The generated module must survive the user's own tooling untouched: a
//! crate whose CI runs `cargo fmt --check` stays green after `init`, in
//! either rustfmt style edition, with or without framework pieces.

use cargo_otel::{codegen::Pieces, detect::Framework};

use crate::support;

#[test]
fn generated_module_is_rustfmt_clean_in_every_edition() {
    let dir = tempfile::tempdir().unwrap();
    let modules = [
        ("otel.rs", cargo_otel::codegen::otel_module().unwrap()),
        (
            "otel_all.rs",
            cargo_otel::codegen::otel_module_for(&Pieces::all()).unwrap(),
        ),
        // The `http` types through hyper, without axum.
        (
            "otel_hyper.rs",
            cargo_otel::codegen::otel_module_for(&Pieces {
                frameworks: vec![Framework::Hyper],
                hyper_service: true,
                ..Pieces::default()
            })
            .unwrap(),
        ),
    ];
    for (name, module) in modules {
        let path = dir.path().join(name);
        std::fs::write(&path, &module).unwrap();
        for edition in ["2018", "2021", "2024"] {
            support::assert_rustfmt_clean(&path, edition);
        }
    }
}
