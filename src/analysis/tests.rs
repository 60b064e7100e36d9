use std::path::Path;

use super::{apps::Sites, *};
use crate::detect::Framework;

/// A package in a temporary directory: `Cargo.toml` plus `files`.
fn program(files: &[(&str, &str)]) -> Program {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut manifest = "[package]\nname = \"demo-app\"\nversion = \"0.1.0\"\n".to_owned();
    for (path, text) in files {
        if *path == "features" {
            manifest.push_str(text);
            continue;
        }
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::fs::write(root.join("Cargo.toml"), manifest).unwrap();
    let lib = root.join("src/lib.rs");
    let input = Input {
        root: root.join("src/main.rs"),
        program: true,
        lib: lib.is_file().then(|| ("demo_app".to_owned(), lib)),
        manifest: root.join("Cargo.toml"),
        base: root.to_path_buf(),
    };
    Program::load(&input).unwrap()
}

fn reached_setups(program: &Program) -> Vec<(String, Kind)> {
    program
        .setups()
        .into_iter()
        .filter(|s| s.reached)
        .map(|s| (program.at(s.function, s.site.start.line), s.site.kind))
        .collect()
}

#[test]
fn modules_are_found_as_cargo_finds_them() {
    let program = program(&[
        (
            "src/main.rs",
            "mod a;\nmod b;\n#[path = \"elsewhere/c.rs\"]\nmod c;\nmod d { pub mod e; }\nfn main() {}\n",
        ),
        ("src/a.rs", "mod inner;\n"),
        ("src/a/inner.rs", "fn f() {}\n"),
        ("src/b/mod.rs", "mod deeper;\n"),
        ("src/b/deeper.rs", ""),
        ("src/elsewhere/c.rs", ""),
        ("src/d/e.rs", ""),
    ]);
    let mut paths: Vec<String> = program.modules.iter().map(|m| m.path.join("::")).collect();
    paths.sort();
    assert_eq!(
        paths,
        ["", "a", "a::inner", "b", "b::deeper", "c", "d", "d::e"]
    );
    assert!(program.errors.is_empty(), "{:?}", program.errors);
}

#[test]
fn missing_and_broken_files_are_reported_unless_left_out() {
    let program = program(&[
        (
            "src/main.rs",
            "mod gone;\nmod broken;\n#[cfg(windows)]\nmod win;\n#[cfg(test)]\nmod tests;\nfn main() {}\n",
        ),
        ("src/broken.rs", "fn f( {}\n"),
    ]);
    assert_eq!(program.errors.len(), 2, "{:?}", program.errors);
    assert!(program.errors[0].contains("`src/main.rs:1` declares `mod gone;`"));
    assert!(
        program.errors[1].contains("`src/broken.rs:1:"),
        "{:?}",
        program.errors
    );
}

#[test]
fn setups_in_helpers_and_modules_are_reached_from_main() {
    let program = program(&[
        (
            "src/main.rs",
            "mod telemetry;\nuse telemetry::setup as init_logging;\n\nfn main() {\n    init_logging(3);\n    run();\n}\n\nfn run() { crate::util::helper(); }\n\nmod util {\n    pub fn helper() { super::later(); }\n}\n\nfn later() { env_logger::init(); }\n\nfn unused() { tracing_subscriber::fmt::init(); }\n",
        ),
        (
            "src/telemetry.rs",
            "pub fn setup(level: u8) {\n    tracing_subscriber::registry().with(fmt::layer()).init();\n}\n",
        ),
    ]);
    assert_eq!(
        reached_setups(&program),
        [
            ("src/main.rs:15".to_owned(), Kind::EnvLogger),
            ("src/telemetry.rs:2".to_owned(), Kind::Registry),
        ]
    );
    let unreached: Vec<_> = program
        .setups()
        .into_iter()
        .filter(|s| !s.reached)
        .collect();
    assert_eq!(unreached.len(), 1);
}

#[test]
fn the_library_methods_and_associated_functions_are_followed() {
    let program = program(&[
        (
            "src/main.rs",
            "use demo_app::telemetry::{get_subscriber, init_subscriber};\n\nfn main() {\n    let subscriber = get_subscriber(\"info\".into());\n    init_subscriber(subscriber);\n    demo_app::Logger::init();\n    App::new().start();\n}\n",
        ),
        (
            "src/lib.rs",
            "pub mod telemetry;\npub struct Logger;\nimpl Logger {\n    pub fn init() { log::set_logger(&LOGGER).unwrap(); }\n}\npub struct App;\nimpl App {\n    pub fn start(&self) { pretty_env_logger::init(); }\n}\n",
        ),
        (
            "src/telemetry.rs",
            "pub fn get_subscriber(filter: String) -> impl Subscriber + Send + Sync {\n    let env_filter = EnvFilter::new(filter);\n    Registry::default().with(env_filter).with(JsonStorageLayer)\n}\n\npub fn init_subscriber(subscriber: impl Subscriber + Send + Sync) {\n    LogTracer::init().expect(\"logger\");\n    set_global_default(subscriber).expect(\"subscriber\");\n}\n",
        ),
    ]);
    let kinds: Vec<Kind> = reached_setups(&program)
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    assert_eq!(
        kinds,
        [
            Kind::OwnLogger,
            Kind::PrettyEnvLogger,
            Kind::LogTracer,
            Kind::SetGlobalDefault
        ]
    );
    // The subscriber handed to `set_global_default` is built in `get_subscriber`.
    let setup = program
        .setups()
        .into_iter()
        .find(|s| s.site.kind == Kind::SetGlobalDefault)
        .unwrap();
    let origin = program.subscriber_origin(&setup).expect("traced back");
    assert_eq!(
        program.at(origin.function, origin.start.line),
        "src/telemetry.rs:3"
    );
    assert!(!origin.typed);
    assert!(program.has_global_filter(&origin));
}

#[test]
fn a_function_re_exported_beside_a_module_of_its_name_is_followed() {
    // `flags::parse()` is the function `flags/mod.rs` re-exports from its
    // module `parse`, not that module.
    let program = program(&[
        (
            "src/main.rs",
            "mod flags;\nmod logger;\n\nfn main() {\n    flags::parse();\n}\n",
        ),
        (
            "src/flags/mod.rs",
            "pub(crate) use crate::flags::parse::parse;\n\nmod parse;\n",
        ),
        (
            "src/flags/parse.rs",
            "pub(crate) fn parse() {\n    if let Err(e) = crate::logger::Logger::init() {\n        eprintln!(\"{e}\");\n    }\n}\n",
        ),
        (
            "src/logger.rs",
            "pub(crate) struct Logger;\nimpl Logger {\n    pub(crate) fn init() -> Result<(), log::SetLoggerError> {\n        log::set_logger(&Logger)\n    }\n}\n",
        ),
    ]);
    assert_eq!(
        reached_setups(&program),
        [("src/logger.rs:4".to_owned(), Kind::OwnLogger)]
    );
}

#[test]
fn cfg_variants_count_as_a_plain_build_compiles_them() {
    let program = program(&[
        (
            "features",
            "[features]\ndefault = [\"color\"]\ncolor = []\njson = []\n",
        ),
        (
            "src/main.rs",
            "fn main() {\n    init_log();\n}\n\n#[cfg(feature = \"json\")]\nfn init_log() {\n    tracing_subscriber::fmt().json().init();\n}\n\n#[cfg(not(feature = \"json\"))]\nfn init_log() {\n    tracing_subscriber::fmt().init();\n}\n",
        ),
    ]);
    assert_eq!(
        reached_setups(&program),
        [("src/main.rs:12".to_owned(), Kind::FmtBuilder)]
    );
    let setup = program.setups().into_iter().find(|s| s.reached).unwrap();
    let variants = program.variants_of(setup.function);
    assert_eq!(variants.len(), 1);
    assert_eq!(
        program.functions[variants[0]].inactive.as_deref(),
        Some("#[cfg(feature = \"json\")]")
    );
}

#[test]
fn the_served_router_is_found_where_it_is_built() {
    let program = program(&[
        (
            "src/main.rs",
            "mod routes;\n\n#[tokio::main]\nasync fn main() {\n    let app = routes::app();\n    let listener = bind().await;\n    axum::serve(listener, app.into_make_service()).await.unwrap();\n}\n",
        ),
        (
            "src/routes.rs",
            "pub fn app() -> Router {\n    Router::new()\n        .route(\"/\", get(root))\n        .nest(\"/api\", api())\n}\n\nfn api() -> Router {\n    Router::new().route(\"/x\", get(x))\n}\n",
        ),
    ]);
    let Sites::At(places) = program.app_sites(Framework::Axum) else {
        panic!("{:?}", program.app_sites(Framework::Axum));
    };
    assert_eq!(places.len(), 1);
    // At the call in `main`: `routes::app()` returns a `Router`.
    assert_eq!(
        program.at(places[0].function, places[0].after.line),
        "src/main.rs:5"
    );
}

#[test]
fn actix_apps_and_tonic_builders() {
    let program = program(&[(
        "src/main.rs",
        "#[actix_web::main]\nasync fn main() -> std::io::Result<()> {\n    HttpServer::new(move || {\n        let data = web::Data::new(1);\n        App::new()\n            .app_data(data)\n            .service(index)\n    })\n    .bind((\"127.0.0.1\", 8080))?\n    .run()\n    .await\n}\n\nasync fn grpc() {\n    Server::builder()\n        .add_service(svc)\n        .serve(addr)\n        .await;\n}\n",
    )]);
    let Sites::At(places) = program.app_sites(Framework::ActixWeb) else {
        panic!()
    };
    let apps::How::Append { indent_like } = places[0].how else {
        panic!("{:?}", places[0].how)
    };
    assert_eq!(
        (places[0].after.line, indent_like.map(|p| p.line)),
        (7, Some(7))
    );
    // `grpc` is not reached from main.
    assert_eq!(program.app_sites(Framework::Tonic), Sites::NoServer);
}

#[test]
fn spans_and_tracing_of_the_programs_own() {
    let quiet = program(&[("src/main.rs", "fn main() {\n    log::info!(\"hi\");\n}\n")]);
    assert!(!quiet.uses_tracing() && !quiet.creates_spans());
    let traced = program(&[(
        "src/main.rs",
        "#[tracing::instrument]\nfn main() {\n    tracing::info!(\"hi\");\n}\n",
    )]);
    assert!(traced.uses_tracing() && traced.creates_spans());
    let _ = Path::new("");
}

/// `(listens, serves_in_a_subcommand)` of a program whose `main.rs` is `main`
/// with `serve.rs` beside it.
fn serving_of(main: &str) -> (bool, bool) {
    let program = program(&[
        ("src/main.rs", main),
        (
            "src/serve.rs",
            "pub async fn run() {\n    let l = tokio::net::TcpListener::bind(\"127.0.0.1:0\").await.unwrap();\n    axum::serve(l, app()).await.unwrap();\n}\npub fn tls() { actix_web::HttpServer::new(app).run(); }\n",
        ),
    ]);
    let serves = program.serves();
    (serves != Serves::Never, serves == Serves::InASubcommand)
}

#[test]
fn a_server_listens_on_every_run() {
    for main in [
        "mod serve;\nasync fn main() { serve::run().await }\n",
        // The run's result handled in a branch is still every run.
        "mod serve;\nasync fn main() { if let Err(e) = start().await { eprintln!(\"{e}\"); } }\nasync fn start() -> Result<(), ()> { serve::run().await; Ok(()) }\n",
        // Plain or TLS: both branches serve.
        "mod serve;\nasync fn main() { if tls() { serve::tls() } else { serve::run().await } }\n",
        // Listening inside a macro syn leaves unparsed.
        "async fn main() { tokio::select! { _ = axum::serve(l, app) => {} } }\n",
        "async fn main() { let l = match TcpListener::bind(a) { Ok(l) => l, Err(_) => return }; }\n",
    ] {
        assert_eq!(serving_of(main), (true, false), "{main}");
    }
}

#[test]
fn a_command_line_program_with_a_serve_subcommand_serves_in_a_subcommand() {
    for main in [
        "mod serve;\nasync fn main() { match cmd() { Cmd::Serve => serve::run().await, Cmd::Build => build() } }\n",
        "mod serve;\nfn main() { run(args()) }\nfn run(a: Args) { if a.serve { block_on(serve::run()) } }\n",
        "mod serve;\nfn main() { match arg() { Some(\"serve\") => { if tls() { serve::tls() } else { block_on(serve::run()) } } _ => build() } }\n",
    ] {
        assert_eq!(serving_of(main), (true, true), "{main}");
    }
    assert_eq!(
        serving_of("mod serve;\nfn main() { build() }\n"),
        (false, false)
    );
}
