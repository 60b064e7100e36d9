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
        "mod otel;\n\n// A demo.\nfn main() {\n    let _otel = otel::init();\n    println!(\"hi\");\n}\n"
    );
}

#[test]
fn tokio_main_with_uses_and_doc_comment() {
    let out = edited(
        "use std::io;\n\n/// Entry.\n#[tokio::main]\nasync fn main() -> io::Result<()> {\n\tOk(())\n}\n",
    );
    assert_eq!(
        out,
        "use std::io;\n\nmod otel;\n\n/// Entry.\n#[tokio::main]\nasync fn main() -> io::Result<()> {\n\tlet _otel = otel::init();\n\tOk(())\n}\n"
    );
}

#[test]
fn module_joins_a_sorted_run_of_declarations() {
    let out = edited("mod api;\nmod zeta;\n\nfn main() {\n    api::run();\n}\n");
    assert!(out.starts_with("mod api;\nmod otel;\nmod zeta;\n"), "{out}");
    let out = edited("mod api;\nmod db;\n\nfn main() {\n    api::run();\n}\n");
    assert!(out.starts_with("mod api;\nmod db;\nmod otel;\n\n"), "{out}");
}

/// The `init*` functions return the guard whatever `main` returns: nothing
/// to unwrap, and no `?` that would make `main` fail on telemetry.
#[test]
fn the_guard_is_kept_whatever_main_returns() {
    for signature in [
        "fn main() -> anyhow::Result<()>",
        "fn main() -> Result<(), Box<dyn std::error::Error>>",
        "fn main() -> Result<(), String>",
        "fn main() -> std::process::ExitCode",
    ] {
        let out = edited(&format!("{signature} {{\n    todo!()\n}}\n"));
        assert!(
            out.contains("    let _otel = otel::init();\n"),
            "{signature}: {out}"
        );
    }
}

#[test]
fn empty_main_is_opened_up() {
    let out = edited("fn main() {}\n");
    assert!(
        out.ends_with("fn main() {\n    let _otel = otel::init();\n}\n"),
        "{out}"
    );
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

/// `otel::init()` must reach the generated module, never a `mod otel` of the
/// user's: inline, `#[path]` elsewhere, or `mod otel;` where ours needs a path.
#[test]
fn an_otel_module_of_the_users_own_is_refused() {
    let main = "fn main() {\n    otel::report();\n}\n";
    let at_bin = ModuleDecl {
        path_attribute: Some("../otel.rs".into()),
        public: false,
    };
    let at_main = ModuleDecl {
        path_attribute: None,
        public: false,
    };
    for (decl, declaration, theirs) in [
        (
            &at_main,
            "mod otel {\n    pub fn report() {}\n}\n",
            "(inline)",
        ),
        (
            &at_main,
            "#[path = \"t/setup.rs\"]\nmod otel;\n",
            "(at `t/setup.rs`)",
        ),
        (
            &at_bin,
            "mod otel;\n",
            "(`otel.rs` or `otel/mod.rs` beside it)",
        ),
    ] {
        let source = format!("{declaration}\n{main}");
        let error = wire("src/x.rs", &source, decl, BIN)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("declares a module `otel` of your own {theirs}")),
            "{error}"
        );
        assert!(
            error.ends_with("help: rename yours (for example to `mod telemetry;`) and run again")
        );
    }
    for (decl, declaration) in [
        (&at_main, "mod otel;\n"),
        (&at_main, "#[path = \"./otel.rs\"]\nmod otel;\n"),
        (&at_bin, "#[path = \"../otel.rs\"]\nmod otel;\n"),
    ] {
        let source = format!("{declaration}\n{main}");
        assert!(wire("src/x.rs", &source, decl, BIN).is_ok(), "{source}");
    }
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

#[test]
fn registry_chain_gets_the_layers_and_the_guard_before_it() {
    let out = edited(
        "use tracing_subscriber::prelude::*;\n\nfn main() -> anyhow::Result<()> {\n    tracing_subscriber::registry()\n        .with(tracing_subscriber::fmt::layer())\n        .try_init()?;\n    Ok(())\n}\n",
    );
    assert!(
        out.ends_with("fn main() -> anyhow::Result<()> {\n    let otel = otel::init_providers();\n    tracing_subscriber::registry()\n        .with(tracing_subscriber::fmt::layer())\n        .with(otel.layers())\n        .try_init()?;\n    Ok(())\n}\n"),
        "{out}"
    );
    assert_eq!(bin(&out), Wiring::AlreadyDone, "second run");
}

#[test]
fn fmt_builder_is_finished_and_gets_the_unfiltered_layers() {
    let out = edited("fn main() {\n    tracing_subscriber::fmt().with_target(false).init();\n}\n");
    assert!(
        out.starts_with(
            "use tracing_subscriber::{layer::SubscriberExt as _, util::SubscriberInitExt as _};\n\nmod otel;\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(".with_target(false).finish().with(otel.fmt_layers()).init();"),
        "{out}"
    );
}

#[test]
fn bare_fmt_init_is_replaced_keeping_its_default_filter() {
    for call in [
        "tracing_subscriber::fmt::init();",
        "tracing_subscriber::fmt::try_init().unwrap();",
        "let _ = tracing_subscriber::fmt::try_init();",
    ] {
        let out = edited(&format!("fn main() {{\n    {call}\n    run();\n}}\n"));
        assert!(
            out.contains("    let _otel = otel::init_fmt(\"error\");\n"),
            "{call}: {out}"
        );
        assert!(!out.contains("fmt::"), "{call}: {out}");
    }
}

#[test]
fn a_log_logger_keeps_the_console_and_gets_a_subscriber_after_it() {
    let Wiring::Edited { source, notes, .. } =
        bin("fn main() {\n    env_logger::init();\n    run();\n}\n")
    else {
        panic!("expected an edit")
    };
    assert!(
        source.contains("    env_logger::init();\n    let _otel = otel::init_without_console()"),
        "{source}"
    );
    assert!(notes[0].contains("tracing-log"), "{notes:?}");
}

#[test]
fn unrecognized_or_repeated_setups_get_instructions() {
    for (setup, at) in [
        (
            "let s = tracing_subscriber::registry();\n    tracing::subscriber::set_global_default(s)?;",
            "`src/main.rs:3`",
        ),
        (
            "if verbose() {\n        tracing_subscriber::fmt::init();\n    }",
            "`src/main.rs:3`",
        ),
        (
            "env_logger::init();\n    tracing_subscriber::fmt::init();",
            "`src/main.rs:2`",
        ),
        (
            "let subscriber = tracing_subscriber::fmt().finish();\n    subscriber.init();",
            "`src/main.rs:3`",
        ),
        (
            "std::thread::spawn(move || tracing_subscriber::registry().init()).join().unwrap();",
            "`src/main.rs:2`",
        ),
    ] {
        let source = format!("fn main() -> anyhow::Result<()> {{\n    {setup}\n    Ok(())\n}}\n");
        match bin(&source) {
            Wiring::Manual { reason, lines } => {
                assert!(reason.contains(at), "{setup}: {reason}");
                assert!(
                    lines.contains("mod otel;") && lines.contains("otel::"),
                    "{lines}"
                );
            }
            other => panic!("{setup}: expected instructions, got {other:?}"),
        }
    }
}

#[test]
fn existing_kinds_are_told_apart() {
    use existing::Kind;
    let file = syn::parse_file(
        "fn main() {\n    fmt::init();\n    tracing_subscriber::fmt().finish().init();\n    Registry::default().init();\n    env_logger::Builder::new().init();\n    log4rs::init_file(\"a\", Default::default());\n    SimpleLogger::new().env().init().unwrap();\n    log::set_boxed_logger(Box::new(Mine)).unwrap();\n}\n",
    )
    .unwrap();
    let kinds: Vec<Kind> = existing::find(&file).into_iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::FmtInit,
            Kind::FmtSubscriber,
            Kind::Registry,
            Kind::LogLogger,
            Kind::LogLogger,
            Kind::LogLogger,
            Kind::LogLogger
        ]
    );
}

#[test]
fn test_code_setting_up_its_own_subscriber_does_not_count() {
    let out = edited(
        "fn main() {\n    run();\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {\n        let _ = tracing_subscriber::fmt().with_test_writer().try_init();\n    }\n}\n",
    );
    assert!(out.contains("let _otel = otel::init()"), "{out}");
}

#[test]
fn review_cases_are_never_wired_into_a_broken_or_panicking_main() {
    // `cfg(not(test))` is the real program: its subscriber counts.
    let out = edited("#[cfg(not(test))]\nfn main() {\n    tracing_subscriber::fmt::init();\n}\n");
    assert!(out.contains("otel::init_fmt("), "{out}");
    assert!(!out.contains("tracing_subscriber::fmt::init()"), "{out}");

    // Another crate's prelude does not bring tracing-subscriber's traits.
    let out = edited(
        "use rayon::prelude::*;\n\nfn main() {\n    tracing_subscriber::fmt().with_target(false).init();\n}\n",
    );
    assert!(out.contains("SubscriberExt"), "{out}");

    // `FmtSubscriber::builder()` is a setup: never a second one beside it.
    let source = "use tracing_subscriber::FmtSubscriber;\n\nfn main() {\n    FmtSubscriber::builder().with_target(false).init();\n}\n";
    assert!(matches!(bin(source), Wiring::Manual { .. }));

    // A one-line main: instructions, not a file that no longer parses.
    for source in [
        "fn main() { tracing_subscriber::registry().with(fmt::layer()).init(); run(); }\n",
        "fn main() { env_logger::init(); run(); }\n",
    ] {
        match bin(source) {
            Wiring::Manual { .. } => {}
            Wiring::Edited { source: out, .. } => {
                syn::parse_file(&out).unwrap_or_else(|e| panic!("{e}:\n{out}"));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_crlf_file_stays_crlf() {
    let out = edited("fn main() {\r\n    run();\r\n}\r\n");
    assert!(out.contains("otel::init()"), "{out}");
    assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    let out = edited(
        "use tracing_subscriber::prelude::*;\r\n\r\nfn main() {\r\n    tracing_subscriber::registry()\r\n        .with(tracing_subscriber::fmt::layer())\r\n        .init();\r\n}\r\n",
    );
    assert!(out.contains("otel.layers()"), "{out}");
    assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
}
