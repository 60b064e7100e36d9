use std::path::Path;

use super::*;
use crate::analysis::Input;

/// A package in a temporary directory (`Cargo.toml` plus `files`), wired
/// as `init` wires it; the files afterwards by relative path.
fn wire_files(files: &[(&str, &str)], server: bool) -> (Wired, Vec<(String, String)>) {
    let dir = package(files);
    let root = dir.path();
    let lib = root.join("src/lib.rs");
    let main = root.join("src/main.rs");
    if !root.join("src/otel.rs").exists() {
        std::fs::write(root.join("src/otel.rs"), "").unwrap();
    }
    let all: String = files.iter().map(|(_, text)| *text).collect();
    let frameworks: Vec<Framework> = [
        (Framework::Axum, "Router"),
        (Framework::ActixWeb, "HttpServer"),
        (Framework::Tonic, "Server::builder"),
        (Framework::Hyper, "hyper::"),
    ]
    .into_iter()
    .filter(|(_, word)| all.contains(word))
    .map(|(framework, _)| framework)
    .collect();
    let input = Input {
        root: if main.is_file() { main } else { lib.clone() },
        program: root.join("src/main.rs").is_file(),
        lib: (root.join("src/main.rs").is_file() && lib.is_file())
            .then(|| ("demo".to_owned(), lib)),
        manifest: root.join("Cargo.toml"),
        base: root.to_path_buf(),
    };
    let program = Program::load(&input).unwrap();
    let module = root.join("src/otel.rs");
    let options = Options {
        module: &module,
        fmt_default_filter: "error",
        frameworks: &frameworks,
        server,
        main_result: true,
    };
    let wired = wire(&program, &options).unwrap();
    let after = wired
        .files
        .iter()
        .map(|f| (relative(root, f.path()), f.after.clone()))
        .collect();
    (wired, after)
}

/// A package of `Cargo.toml` and `files` in a temporary directory.
fn package(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Wires the program whose root is the first of `files`.
fn try_wire(files: &[(&str, &str)]) -> anyhow::Result<Wired> {
    let dir = package(files);
    let root = dir.path();
    let input = Input {
        root: root.join(files[0].0),
        program: true,
        lib: None,
        manifest: root.join("Cargo.toml"),
        base: root.to_path_buf(),
    };
    let program = Program::load(&input)?;
    let module = root.join("src/otel.rs");
    let options = Options {
        module: &module,
        fmt_default_filter: "error",
        frameworks: &[],
        server: true,
        main_result: true,
    };
    wire(&program, &options)
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap().display().to_string()
}

fn bin(source: &str) -> Wired {
    wire_files(&[("src/main.rs", source)], true).0
}

/// The new `src/main.rs` of a server (no span for the run).
fn edited(source: &str) -> String {
    let (wired, after) = wire_files(&[("src/main.rs", source)], true);
    assert!(wired.manual.is_none(), "{:?}", wired.manual);
    after
        .into_iter()
        .find(|(path, _)| path == "src/main.rs")
        .map(|(_, text)| text)
        .unwrap_or_else(|| source.to_owned())
}

fn manual(source: &str) -> Manual {
    match bin(source).manual {
        Some(manual) => manual,
        None => panic!("expected instructions for:\n{source}"),
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
fn a_command_line_tool_without_spans_gets_one_for_its_run() {
    let (_, after) = wire_files(
        &[("src/main.rs", "fn main() {\n    println!(\"hi\");\n}\n")],
        false,
    );
    assert!(
        after[0].1.contains(
            "    let _otel = otel::init();\n    let _run = otel::run_span();\n    println!"
        ),
        "{after:?}"
    );
    let with_spans = "fn main() {\n    let _s = tracing::info_span!(\"work\").entered();\n}\n";
    let (_, after) = wire_files(&[("src/main.rs", with_spans)], false);
    assert!(!after[0].1.contains("run_span"), "{after:?}");
}

#[test]
fn tokio_main_with_uses_and_doc_comment() {
    let out = edited(
        "use std::io;\n\n/// Entry.\n#[tokio::main]\nasync fn main() -> io::Result<()> {\n\tOk(())\n}\n",
    );
    assert_eq!(
        out,
        "use std::io;\n\nmod otel;\n\n/// Entry.\n#[tokio::main]\nasync fn main() -> io::Result<()> {\n\tlet _otel = otel::init();\n\totel::main_result(main_body().await)\n}\n\nasync fn main_body() -> io::Result<()> {\n\tOk(())\n}\n"
    );
}

/// The body of a `main` returning a `Result` moves, line for line, into
/// `main_body`, so `main` sees the `Err`; not where `main_body` exists or
/// `#[cfg]` variants of `main` would each need one.
#[test]
fn a_main_returning_a_result_passes_it_through_main_result() {
    let out = edited("fn main() -> anyhow::Result<()> {\n    let n = run()?;\n    Ok(n)\n}\n");
    assert_eq!(
        out,
        "mod otel;\n\nfn main() -> anyhow::Result<()> {\n    let _otel = otel::init();\n    otel::main_result(main_body())\n}\n\nfn main_body() -> anyhow::Result<()> {\n    let n = run()?;\n    Ok(n)\n}\n"
    );
    assert_eq!(edited(&out), out, "wired once");
    for source in [
        "fn main() -> anyhow::Result<()> {\n    main_body()\n}\n\nfn main_body() -> anyhow::Result<()> {\n    Ok(())\n}\n",
        "#[cfg(unix)]\nfn main() -> std::io::Result<()> {\n    Ok(())\n}\n\n#[cfg(not(unix))]\nfn main() -> std::io::Result<()> {\n    Ok(())\n}\n",
        "fn main() -> std::process::ExitCode {\n    std::process::ExitCode::SUCCESS\n}\n",
    ] {
        let out = edited(source);
        assert!(!out.contains("main_result"), "{out}");
        assert!(out.contains("otel::init()"), "{out}");
    }
}

#[test]
fn module_joins_a_sorted_run_of_declarations() {
    let files = |main: &str| {
        wire_files(
            &[
                ("src/main.rs", main),
                ("src/api.rs", "pub fn run() {}\n"),
                ("src/zeta.rs", ""),
                ("src/db.rs", ""),
            ],
            true,
        )
        .1
    };
    let out = &files("mod api;\nmod zeta;\n\nfn main() {\n    api::run();\n}\n")[0].1;
    assert!(out.starts_with("mod api;\nmod otel;\nmod zeta;\n"), "{out}");
    let out = &files("mod api;\nmod db;\n\nfn main() {\n    api::run();\n}\n")[0].1;
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
    let manual = manual("fn main() { run() }\nfn run() {}\n");
    assert!(manual.reason.contains("opening line"), "{manual:?}");
    assert!(manual.lines.contains("mod otel;"), "{manual:?}");
}

#[test]
fn second_run_changes_nothing() {
    let once = edited("fn main() {\n    run();\n}\n");
    let (wired, _) = wire_files(&[("src/main.rs", &once), ("src/otel.rs", "")], true);
    assert!(
        wired.files.is_empty() && wired.manual.is_none(),
        "{wired:?}"
    );
}

#[test]
fn parse_errors_name_the_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        "fn main() {\n    let = ;\n}\n",
    )
    .unwrap();
    let input = Input {
        root: dir.path().join("src/main.rs"),
        program: true,
        lib: None,
        manifest: dir.path().join("Cargo.toml"),
        base: dir.path().to_path_buf(),
    };
    let error = Program::load(&input).err().unwrap().to_string();
    assert!(
        error.starts_with("`src/main.rs:2:9` does not parse"),
        "{error}"
    );
}

#[test]
fn roots_outside_src_use_a_path_attribute() {
    let decl = ModuleDecl::new(
        Path::new("/p/src/bin/tool.rs"),
        Path::new("/p/src/otel.rs"),
        false,
    );
    assert_eq!(decl.text(), "#[path = \"../otel.rs\"]\nmod otel;\n");
    let decl = ModuleDecl::new(
        Path::new("/p/src/main.rs"),
        Path::new("/p/src/otel.rs"),
        false,
    );
    assert_eq!(decl.text(), "mod otel;\n");
}

/// `otel::init()` must reach the generated module, never a `mod otel` of the
/// user's: inline, `#[path]` elsewhere, or `mod otel;` where ours needs a path.
#[test]
fn an_otel_module_of_the_users_own_is_refused() {
    let main = "fn main() {\n    otel::report();\n}\n";
    for (root, declaration, theirs) in [
        (
            "src/main.rs",
            "mod otel {\n    pub fn report() {}\n}\n",
            "(inline)",
        ),
        (
            "src/main.rs",
            "#[path = \"t/setup.rs\"]\nmod otel;\n",
            "(at `t/setup.rs`)",
        ),
        (
            "src/bin/tool.rs",
            "mod otel;\n",
            "(`otel.rs` or `otel/mod.rs` beside it)",
        ),
    ] {
        let source = format!("{declaration}\n{main}");
        let error = try_wire(&[
            (root, &source),
            ("src/t/setup.rs", ""),
            ("src/bin/otel.rs", ""),
        ])
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
    for (root, declaration) in [
        ("src/main.rs", "mod otel;\n"),
        ("src/main.rs", "#[path = \"./otel.rs\"]\nmod otel;\n"),
        ("src/bin/tool.rs", "#[path = \"../otel.rs\"]\nmod otel;\n"),
    ] {
        let source = format!("{declaration}\n{main}");
        assert!(try_wire(&[(root, &source)]).is_ok(), "{source}");
    }
}

#[test]
fn registry_chain_gets_the_layers_and_the_providers_before_it() {
    let out = edited(
        "use tracing_subscriber::prelude::*;\n\nfn main() -> anyhow::Result<()> {\n    tracing_subscriber::registry()\n        .with(tracing_subscriber::fmt::layer())\n        .try_init()?;\n    Ok(())\n}\n",
    );
    assert!(
        out.ends_with("fn main() -> anyhow::Result<()> {\n    let _otel = otel::init_providers();\n    otel::main_result(main_body())\n}\n\nfn main_body() -> anyhow::Result<()> {\n    tracing_subscriber::registry()\n        .with(tracing_subscriber::fmt::layer())\n        .with(otel::layers())\n        .try_init()?;\n    Ok(())\n}\n"),
        "{out}"
    );
    assert_eq!(edited(&out), out, "a second run changes nothing");
}

#[test]
fn a_global_filter_decides_what_is_exported() {
    let out = edited(
        "use tracing_subscriber::{prelude::*, EnvFilter};\n\nfn main() {\n    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| \"app=debug,tower_http=debug\".into());\n    tracing_subscriber::registry().with(filter).with(tracing_subscriber::fmt::layer()).init();\n}\n",
    );
    assert!(
        out.contains("        .with(tracing_subscriber::fmt::layer())\n        .with(otel::unfiltered_layers())\n        .init();"),
        "{out}"
    );
    // A filter on the console layer alone is not the program's global one.
    let out = edited(
        "use tracing_subscriber::{prelude::*, EnvFilter};\n\nfn main() {\n    tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().with_filter(EnvFilter::from_default_env())).init();\n}\n",
    );
    assert!(
        out.contains("        .with(otel::layers())\n        .init();"),
        "{out}"
    );
}

#[test]
fn fmt_builder_is_finished_and_gets_the_unfiltered_layers() {
    let out = edited("fn main() {\n    tracing_subscriber::fmt().with_target(false).init();\n}\n");
    assert!(
        // Wider than rustfmt's `chain_width` now: a line per call.
        out.contains(
            "    tracing_subscriber::fmt()\n        .with_target(false)\n        .finish()\n        .with(otel::fmt_layers())\n        .init();\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "use tracing_subscriber::{layer::SubscriberExt as _, util::SubscriberInitExt as _};"
        ),
        "{out}"
    );
    // Another crate's prelude does not bring tracing-subscriber's traits.
    let out = edited(
        "use rayon::prelude::*;\n\nfn main() {\n    tracing_subscriber::fmt().with_target(false).init();\n}\n",
    );
    assert!(out.contains("SubscriberExt"), "{out}");
    // `FmtSubscriber::builder()` is `fmt()` by another name.
    let out = edited(
        "use tracing_subscriber::FmtSubscriber;\n\nfn main() {\n    FmtSubscriber::builder().with_target(false).init();\n}\n",
    );
    assert!(
        out.contains("        .finish()\n        .with(otel::fmt_layers())\n        .init();"),
        "{out}"
    );
}

#[test]
fn bare_fmt_init_is_replaced_keeping_its_default_filter() {
    for (call, replaced) in [
        (
            "tracing_subscriber::fmt::init();",
            "otel::install_fmt(\"error\");",
        ),
        (
            "tracing_subscriber::fmt::try_init().unwrap();",
            "otel::try_install_fmt(\"error\").unwrap();",
        ),
        (
            "let _ = tracing_subscriber::fmt::try_init();",
            "let _ = otel::try_install_fmt(\"error\");",
        ),
    ] {
        let out = edited(&format!("fn main() {{\n    {call}\n    run();\n}}\n"));
        assert!(
            out.contains(&format!(
                "    let _otel = otel::init_providers();\n    {replaced}\n"
            )),
            "{call}: {out}"
        );
        assert!(!out.contains("fmt::"), "{call}: {out}");
    }
    // `cfg(not(test))` is the real program: its subscriber counts.
    let out = edited("#[cfg(not(test))]\nfn main() {\n    tracing_subscriber::fmt::init();\n}\n");
    assert!(out.contains("otel::install_fmt("), "{out}");
}

#[test]
fn log_loggers_are_installed_through_the_module() {
    for (setup, replaced) in [
        (
            "env_logger::init();",
            "otel::set_env_logger(env_logger::Builder::from_default_env().build(), |logger| {\n        logger.filter()\n    })\n    .expect(\"failed to set the logger\");",
        ),
        (
            "env_logger::Builder::new().filter_level(log::LevelFilter::Info).try_init()?;",
            "otel::set_logger_with(\n        env_logger::Builder::new().filter_level(log::LevelFilter::Info).build(),\n        |logger| logger.filter(),\n    )?;",
        ),
        (
            "pretty_env_logger::init();",
            "otel::set_env_logger(\n        pretty_env_logger::formatted_builder().parse_default_env().build(),\n        |logger| logger.filter(),\n    )\n    .unwrap();",
        ),
        (
            "log::set_logger(&LOGGER).unwrap();",
            "otel::set_logger(&LOGGER).unwrap();",
        ),
    ] {
        let out = edited(&format!(
            "fn main() -> anyhow::Result<()> {{\n    {setup}\n    run();\n    Ok(())\n}}\n"
        ));
        assert!(
            out.contains(&format!(
                "    let _otel = otel::init_providers();\n    otel::main_result(main_body())\n}}\n\nfn main_body() -> anyhow::Result<()> {{\n    {replaced}\n"
            )),
            "{setup}: {out}"
        );
    }
    // fern, simplelog, log4rs: the logger is built, then installed through
    // the module; a chain written one call per line stays so.
    let out = edited(
        "fn main() {\n    fern::Dispatch::new()\n        .level(log::LevelFilter::Info)\n        .chain(std::io::stdout())\n        .apply()\n        .unwrap();\n}\n",
    );
    assert!(
        out.contains("    otel::set_logger_parts(\n        fern::Dispatch::new()\n            .level(log::LevelFilter::Info)\n            .chain(std::io::stdout())\n            .into_log(),\n    )\n    .unwrap();\n"),
        "{out}"
    );
    let out = edited(
        "fn main() {\n    simplelog::TermLogger::init(level, config(), TerminalMode::Mixed, ColorChoice::Auto)\n        .or_else(|_| simplelog::SimpleLogger::init(level, Config::default()))\n        .unwrap();\n}\n",
    );
    assert!(out.contains("*simplelog::TermLogger::new(level, config(), TerminalMode::Mixed, ColorChoice::Auto),\n        |logger| simplelog::SharedLogger::level(logger),\n"), "{out}");
    assert!(
        out.contains("*simplelog::SimpleLogger::new(level, Config::default())"),
        "{out}"
    );
    let out = edited(
        "fn main() {\n    log4rs::init_file(\"log.yaml\", Default::default()).unwrap();\n}\n",
    );
    assert!(
        out.contains("    log4rs::config::load_config_file(\"log.yaml\", Default::default())\n        .and_then(|config| {\n            Ok(otel::set_logger_with(\n                log4rs::Logger::new(config),\n"),
        "{out}"
    );
    // Arguments within rustfmt's call width stay on one line, and a chain
    // too wide for one gets its `.expect(..)` on a line of its own.
    let out = edited(
        "fn main() {\n    let mut builder = env_logger::Builder::new();\n    builder.filter(None, log::LevelFilter::Warn);\n    builder.init();\n}\n",
    );
    assert!(
        out.contains("(builder.build(), |logger| logger.filter())\n        .expect(\"failed to set the logger\");\n"),
        "{out}"
    );
    // A program that also uses tracing gets a subscriber that keeps
    // tracing's own `log` output.
    let out = edited("fn main() {\n    env_logger::init();\n    tracing::info!(\"hi\");\n}\n");
    assert!(out.contains("otel::init_without_console()"), "{out}");
}

#[test]
fn a_setup_in_a_module_is_merged_there_and_main_starts_the_providers() {
    let (wired, after) = wire_files(
        &[
            (
                "src/main.rs",
                "mod telemetry;\n\nfn main() {\n    let config = load();\n    telemetry::init(&config);\n    serve();\n}\n",
            ),
            (
                "src/telemetry.rs",
                "use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};\n\npub fn init(config: &Config) {\n    tracing_subscriber::registry()\n        .with(tracing_subscriber::fmt::layer())\n        .init();\n}\n",
            ),
        ],
        true,
    );
    assert!(wired.manual.is_none(), "{wired:?}");
    let main = &after.iter().find(|(p, _)| p == "src/main.rs").unwrap().1;
    assert_eq!(
        main,
        "mod otel;\nmod telemetry;\n\nfn main() {\n    let config = load();\n    let _otel = otel::init_providers();\n    telemetry::init(&config);\n    serve();\n}\n"
    );
    let telemetry = &after
        .iter()
        .find(|(p, _)| p == "src/telemetry.rs")
        .unwrap()
        .1;
    assert!(
        telemetry.contains("        .with(tracing_subscriber::fmt::layer())\n        .with(crate::otel::layers())\n        .init();"),
        "{telemetry}"
    );
}

#[test]
fn a_setup_in_the_library_gets_the_module_declared_there() {
    let (wired, after) = wire_files(
        &[
            (
                "src/main.rs",
                "use demo::telemetry::{get_subscriber, init_subscriber};\n\nfn main() {\n    let subscriber = get_subscriber(\"info\".into());\n    init_subscriber(subscriber);\n}\n",
            ),
            ("src/lib.rs", "pub mod telemetry;\n"),
            (
                "src/telemetry.rs",
                "use tracing::Subscriber;\nuse tracing_subscriber::{layer::SubscriberExt, EnvFilter, Registry};\n\npub fn get_subscriber(filter: String) -> impl Subscriber + Send + Sync {\n    let env_filter = EnvFilter::new(filter);\n    Registry::default().with(env_filter).with(tracing_subscriber::fmt::layer())\n}\n\npub fn init_subscriber(subscriber: impl Subscriber + Send + Sync) {\n    tracing_log::LogTracer::init().expect(\"logger\");\n    tracing::subscriber::set_global_default(subscriber).expect(\"subscriber\");\n}\n",
            ),
        ],
        true,
    );
    assert!(wired.manual.is_none(), "{wired:?}");
    let file = |name: &str| {
        after
            .iter()
            .find(|(p, _)| p == name)
            .map(|(_, t)| t.clone())
            .unwrap()
    };
    assert!(file("src/lib.rs").contains("pub mod otel;"), "{after:?}");
    let main = file("src/main.rs");
    let start =
        "    let _otel = demo::otel::init_providers();\n    let subscriber = get_subscriber(";
    assert!(
        main.contains(start),
        "the providers start before the layers are built: {main}"
    );
    assert!(!file("src/main.rs").contains("mod otel;"));
    assert!(
        file("src/telemetry.rs").contains(
            "    Registry::default()\n        .with(env_filter)\n        .with(tracing_subscriber::fmt::layer())\n        .with(crate::otel::unfiltered_layers())\n}"
        ),
        "{after:?}"
    );
}

#[test]
fn cfg_variants_other_than_the_default_are_left_with_a_note() {
    let (wired, after) = wire_files(
        &[(
            "src/main.rs",
            "fn main() {\n    init_log();\n}\n\n#[cfg(feature = \"json\")]\nfn init_log() {\n    tracing_subscriber::fmt().json().init();\n}\n\n#[cfg(not(feature = \"json\"))]\nfn init_log() {\n    tracing_subscriber::fmt::init();\n}\n",
        )],
        true,
    );
    assert!(
        after[0].1.contains("    otel::install_fmt(\"error\");\n"),
        "{after:?}"
    );
    assert!(
        after[0]
            .1
            .contains("tracing_subscriber::fmt().json().init();"),
        "{after:?}"
    );
    assert!(
        wired
            .notes
            .iter()
            .any(|n| n.contains("`src/main.rs:7`") && n.contains("feature = \"json\"")),
        "{wired:?}"
    );
}

#[test]
fn unrecognized_or_mixed_setups_get_instructions() {
    for (setup, at) in [
        (
            "let s = make();\n    tracing::subscriber::set_global_default(s)?;",
            "`src/main.rs:3`",
        ),
        (
            "env_logger::init();\n    tracing_subscriber::fmt::init();",
            "`src/main.rs:",
        ),
        ("log4rs::init_config(config)?;", "`src/main.rs:2`"),
        (
            "tokio::select! { _ = a => { env_logger::init(); } }",
            "`src/main.rs:2`",
        ),
    ] {
        let source = format!("fn main() -> anyhow::Result<()> {{\n    {setup}\n    Ok(())\n}}\n");
        let manual = manual(&source);
        assert!(manual.reason.contains(at), "{setup}: {manual:?}");
        assert!(
            manual.lines.contains("mod otel;") && manual.lines.contains("otel::"),
            "{manual:?}"
        );
    }
}

#[test]
fn setups_in_blocks_closures_and_threads_are_merged_in_place() {
    for setup in [
        "if verbose() {\n        tracing_subscriber::fmt::init();\n    }",
        "std::thread::spawn(move || tracing_subscriber::registry().init()).join().unwrap();",
        "let subscriber = tracing_subscriber::fmt().finish();\n    subscriber.init();",
    ] {
        let out = edited(&format!("fn main() {{\n    {setup}\n}}\n"));
        assert!(
            out.contains("let _otel = otel::init_providers()"),
            "{setup}: {out}"
        );
        assert!(
            out.contains("otel::install_fmt") || out.contains("layers()"),
            "{setup}: {out}"
        );
        syn::parse_file(&out).unwrap();
    }
}

#[test]
fn test_code_setting_up_its_own_subscriber_does_not_count() {
    let out = edited(
        "fn main() {\n    run();\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {\n        let _ = tracing_subscriber::fmt().with_test_writer().try_init();\n    }\n}\n",
    );
    assert!(out.contains("let _otel = otel::init()"), "{out}");
}

#[test]
fn a_merged_piece_without_a_start_in_main_gets_instructions() {
    let manual = manual(
        "fn main() {\n    tracing_subscriber::registry().with(otel::layers()).init();\n}\nmod otel;\n",
    );
    assert!(manual.reason.contains("`layers`"), "{manual:?}");
}

#[test]
fn one_line_mains_get_instructions_not_a_broken_file() {
    for source in [
        "fn main() { tracing_subscriber::registry().with(fmt::layer()).init(); run(); }\n",
        "fn main() { env_logger::init(); run(); }\n",
    ] {
        let wired = bin(source);
        assert!(
            wired.manual.is_some() && wired.files.is_empty(),
            "{wired:?}"
        );
    }
}

#[test]
fn frameworks_are_wired_where_the_app_is_built() {
    let (wired, after) = wire_files(
        &[(
            "src/main.rs",
            "#[actix_web::main]\nasync fn main() -> std::io::Result<()> {\n    HttpServer::new(|| App::new().route(\"/\", web::get().to(index)))\n        .bind((\"127.0.0.1\", 8080))?\n        .run()\n        .await\n}\n",
        )],
        true,
    );
    assert!(wired.untraced.is_empty(), "{wired:?}");
    assert!(
        after[0].1.contains("HttpServer::new(|| App::new().route(\"/\", web::get().to(index)).wrap(otel::actix_tracing()))"),
        "{after:?}"
    );
    let (wired, after) = wire_files(
        &[(
            "src/main.rs",
            "#[tokio::main]\nasync fn main() {\n    Server::builder()\n        .add_service(GreeterServer::new(greeter))\n        .serve(addr)\n        .await\n        .unwrap();\n}\n",
        )],
        true,
    );
    assert!(wired.untraced.is_empty(), "{wired:?}");
    assert!(
        after[0].1.contains("    Server::builder()\n        .layer(otel::grpc_server_layer())\n        .add_service("),
        "{after:?}"
    );
    // No safe place: said, and not claimed as traced.
    let (wired, _) = wire_files(
        &[(
            "src/main.rs",
            "#[actix_web::main]\nasync fn main() {\n    HttpServer::new(make_app).run().await;\n}\n",
        )],
        true,
    );
    assert_eq!(wired.untraced, ["actix-web"]);
}

/// Edits work on the text without its `\r`s; the change set writes the
/// file's own line ends back (`tests/ui/crlf_line_ends`).
#[test]
fn a_crlf_file_is_edited_as_plain_text() {
    let out = edited("fn main() {\r\n    run();\r\n}\r\n");
    assert_eq!(
        out,
        "mod otel;\n\nfn main() {\n    let _otel = otel::init();\n    run();\n}\n"
    );
    let out = edited(
        "use tracing_subscriber::prelude::*;\r\n\r\nfn main() {\r\n    tracing_subscriber::registry()\r\n        .with(tracing_subscriber::fmt::layer())\r\n        .init();\r\n}\r\n",
    );
    assert!(out.contains("otel::layers()"), "{out}");
    assert!(!out.contains('\r'), "{out:?}");
}

/// A hyper server's connection task, serving `service`.
fn hyper_server(uses: &str, serve: &str) -> String {
    format!(
        "{uses}\n\n#[tokio::main]\nasync fn main() {{\n    tracing_subscriber::fmt::init();\n    let listener = TcpListener::bind(addr).await.unwrap();\n    loop {{\n        let (stream, _) = listener.accept().await.unwrap();\n        let io = TokioIo::new(stream);\n        tokio::spawn(async move {{\n{serve}        }});\n    }}\n}}\n"
    )
}

#[test]
fn a_hyper_service_is_wrapped_where_it_is_made() {
    let uses = "use hyper::service::service_fn;";
    // The hyper guide's shape: the service an argument in a chain written a call per line.
    let inline = "            if let Err(err) = http1::Builder::new()\n                .serve_connection(io, service_fn(hello))\n                .await\n            {\n                eprintln!(\"{err:?}\");\n            }\n";
    let out = edited(&hyper_server(uses, inline));
    assert!(
        out.contains(
            "\n                .serve_connection(io, otel::hyper_service(service_fn(hello)))\n"
        ),
        "{out}"
    );
    // A file server's shape: bound by a `let`, rebound on the next line.
    let bound = "            let service =\n                hyper::service::service_fn(move |request: Request<Incoming>| handle.clone().call(request, addr)); // why\n            let _ = Builder::new(TokioExecutor::new()).serve_connection_with_upgrades(io, service).await;\n";
    let out = edited(&hyper_server(
        "use hyper_util::server::conn::auto::Builder;",
        bound,
    ));
    assert!(
        out.contains("addr)); // why\n            let service = otel::hyper_service(service);\n            let _ = Builder"),
        "{out}"
    );
    // The second run finds the piece in use.
    let (wired, _) = wire_files(&[("src/main.rs", &out)], true);
    assert!(
        wired.files.is_empty() && wired.notes.is_empty(),
        "{wired:?}"
    );
}

#[test]
fn only_hyper_services_are_wrapped() {
    let serve = "            let service = service_fn(hello);\n            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, TowerToHyperService::new(service)).await;\n";
    let (wired, after) = wire_files(
        &[(
            "src/main.rs",
            &hyper_server("use tower::service_fn;", serve),
        )],
        true,
    );
    assert!(!after[0].1.contains("hyper_service"), "{}", after[0].1);
    assert!(wired.untraced.is_empty(), "{wired:?}");
    let glob = edited(&hyper_server("use hyper::service::*;", serve));
    assert!(
        glob.contains("let service = otel::hyper_service(service);"),
        "{glob}"
    );
}

#[test]
fn a_hyper_service_that_cannot_be_wrapped_cleanly_gets_the_line_to_add() {
    // The service's closure spans lines after another argument: wrapped, rustfmt would lay
    // the call out anew.
    let serve = "            let conn = http1::Builder::new().serve_connection(io, service_fn(|request| async move {\n                Ok::<_, Infallible>(Response::new(request.into_body()))\n            }));\n            conn.await.unwrap();\n";
    let source = hyper_server("use hyper::service::service_fn;", serve);
    let (wired, after) = wire_files(&[("src/main.rs", &source)], true);
    assert!(!after[0].1.contains("hyper_service"), "{}", after[0].1);
    assert_eq!(wired.untraced, ["hyper"]);
    let note = wired.notes.join("\n");
    assert!(
        note.contains("the hyper service made at `src/main.rs:11`")
            && note.contains("otel::hyper_service(service)"),
        "{note}"
    );
    // Laid out an argument per line, the closure's lines stay as they are.
    let vertical = "            let conn = http1::Builder::new().serve_connection(\n                TokioIo::new(stream_with_a_long_name),\n                service_fn(move |request| {\n                    let state = state.clone();\n                    async move { handle(request, state).await }\n                }),\n            );\n";
    let out = edited(&hyper_server("use hyper::service::service_fn;", vertical));
    assert!(
        out.contains("stream_with_a_long_name),\n                otel::hyper_service(service_fn(move |request| {\n                    let state") && out.contains("\n                })),\n            );\n"),
        "{out}"
    );
    // On a line of its own, it stays there once wrapped if rustfmt's widths allow.
    let own_line = "            let conn = Builder::new(TokioExecutor::new()).serve_connection_with_upgrades(\n                stream_with_a_long_name,\n                service_fn(move |request| handle.call(request, addr)),\n            );\n";
    let out = edited(&hyper_server("use hyper::service::service_fn;", own_line));
    assert!(
        out.contains("\n                otel::hyper_service(service_fn(move |request| handle.call(request, addr))),\n"),
        "{out}"
    );
    // Wrapped, each would pass rustfmt's call width: its own arguments, the enclosing call's.
    let too_wide = [
        own_line.replace(
            "handle.call(request, addr)",
            "handle.clone().call(request, peer_address)",
        ),
        "            let _ = http1::Builder::new()\n                .serve_connection(TokioIo::new(stream_with_a_long_name), service_fn(hello))\n                .await;\n".to_owned(),
    ];
    for serve in too_wide {
        let source = hyper_server("use hyper::service::service_fn;", &serve);
        let (wired, _) = wire_files(&[("src/main.rs", &source)], true);
        let notes = wired.notes.join("\n");
        assert!(
            notes.contains("would not fit on its line wrapped"),
            "{notes}"
        );
    }
}

#[test]
fn a_service_type_of_the_programs_own_gets_the_line_to_add() {
    let source = "use hyper::service::Service;\n\nstruct Files;\n\nimpl Service<Request<Incoming>> for Files {\n    type Response = Response<Full<Bytes>>;\n    type Error = Infallible;\n    type Future = Ready<Result<Self::Response, Self::Error>>;\n\n    fn call(&self, _: Request<Incoming>) -> Self::Future {\n        ready(Ok(Response::default()))\n    }\n}\n\nfn main() {\n    serve(Files);\n}\n";
    let (wired, _) = wire_files(&[("src/main.rs", source)], true);
    assert_eq!(wired.untraced, ["hyper"]);
    assert!(
        wired
            .notes
            .join("\n")
            .contains("`src/main.rs:5` implements hyper's `Service` itself"),
        "{wired:?}"
    );
}
