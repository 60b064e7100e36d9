use super::*;

const BIN: Root<'static> = Root {
    is_bin: true,
    fmt_default_filter: "error",
};

fn bin(source: &str) -> Wiring {
    let decl = ModuleDecl {
        path_attribute: None,
        public: false,
    };
    wire("src/main.rs", source, &decl, BIN).unwrap()
}

fn edited(source: &str) -> String {
    match bin(source) {
        Wiring::Edited { source, .. } => source,
        other => panic!("expected an edit, got {other:?}"),
    }
}

#[test]
fn plain_main() {
    let out = edited("// A demo.\nfn main() {\n    println!(\"hi\");\n}\n");
    assert_eq!(
        out,
        "mod otel;\n\n// A demo.\nfn main() {\n    let _otel = otel::init().expect(\"failed to initialize OpenTelemetry\");\n    println!(\"hi\");\n}\n"
    );
}

#[test]
fn tokio_main_with_uses_and_doc_comment() {
    let out = edited(
        "use std::io;\n\n/// Entry.\n#[tokio::main]\nasync fn main() -> io::Result<()> {\n\tOk(())\n}\n",
    );
    assert_eq!(
        out,
        "use std::io;\n\nmod otel;\n\n/// Entry.\n#[tokio::main]\nasync fn main() -> io::Result<()> {\n\tlet _otel = otel::init()?;\n\tOk(())\n}\n"
    );
}

#[test]
fn module_joins_a_sorted_run_of_declarations() {
    let out = edited("mod api;\nmod zeta;\n\nfn main() {\n    api::run();\n}\n");
    assert!(out.starts_with("mod api;\nmod otel;\nmod zeta;\n"), "{out}");
    let out = edited("mod api;\nmod db;\n\nfn main() {\n    api::run();\n}\n");
    assert!(out.starts_with("mod api;\nmod db;\nmod otel;\n\n"), "{out}");
}

#[test]
fn question_mark_only_where_the_error_type_takes_ours() {
    for (signature, expected) in [
        ("fn main() -> anyhow::Result<()>", "otel::init()?"),
        (
            "fn main() -> Result<(), Box<dyn std::error::Error>>",
            "otel::init()?",
        ),
        ("fn main() -> Result<(), String>", "expect("),
        ("fn main() -> std::process::ExitCode", "expect("),
    ] {
        let out = edited(&format!("{signature} {{\n    todo!()\n}}\n"));
        assert!(out.contains(expected), "{signature}: {out}");
    }
    let out =
        edited("use anyhow::{Context, Result};\n\nfn main() -> Result<()> {\n    Ok(())\n}\n");
    assert!(out.contains("otel::init()?;"), "{out}");
}

#[test]
fn empty_main_is_opened_up() {
    let out = edited("fn main() {}\n");
    assert!(out.ends_with("fn main() {\n    let _otel = otel::init().expect(\"failed to initialize OpenTelemetry\");\n}\n"), "{out}");
}

#[test]
fn unusual_layouts_get_instructions() {
    assert!(matches!(
        bin("fn main() { run() }\nfn run() {}\n"),
        Wiring::Manual { .. }
    ));
    assert!(matches!(bin("my_macro::main!();\n"), Wiring::Manual { .. }));
}

#[test]
fn second_run_changes_nothing() {
    let once = edited("fn main() {\n    run();\n}\n");
    assert_eq!(bin(&once), Wiring::AlreadyDone);
}

#[test]
fn parse_errors_name_the_position() {
    let decl = ModuleDecl {
        path_attribute: None,
        public: false,
    };
    let error = wire("src/main.rs", "fn main() {\n    let = ;\n}\n", &decl, BIN).unwrap_err();
    assert!(error.to_string().starts_with("`src/main.rs:2:"), "{error}");
}

#[test]
fn roots_outside_src_use_a_path_attribute() {
    let decl = ModuleDecl {
        path_attribute: Some("../otel.rs".into()),
        public: false,
    };
    let Wiring::Edited { source, .. } = wire(
        "src/bin/tool.rs",
        "fn main() {\n    run();\n}\n",
        &decl,
        BIN,
    )
    .unwrap() else {
        panic!()
    };
    assert!(
        source.starts_with("#[path = \"../otel.rs\"]\nmod otel;\n\nfn main"),
        "{source}"
    );
}

#[test]
fn logging_in_a_helper_function_counts_too() {
    let source = "fn main() {\n    setup();\n}\n\nfn setup() {\n    env_logger::Builder::from_default_env().init();\n}\n";
    let Wiring::Manual { reason, .. } = bin(source) else {
        panic!("expected instructions")
    };
    assert!(reason.contains("`src/main.rs:6`"), "{reason}");
}

#[test]
fn unrelated_init_calls_do_not_count() {
    let out = edited(
        "fn main() {\n    let cache = Cache::new();\n    cache.init();\n    runtime::init();\n}\n",
    );
    assert!(out.contains("otel::init()"), "{out}");
}
