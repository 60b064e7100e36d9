//! `cargo otel doctor` end to end: the real binary over fixture crates
//! (metadata and committed lockfiles only, nothing is compiled), real
//! OTLP/gRPC into the backend's collector and store, and for each check one
//! case that triggers it and one where it passes, asserted by id and status
//! in `--format json`.

use std::{
    io::{Read as _, Write as _},
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    process::Output,
    thread,
    time::Duration,
};

use cargo_otel::secret::API_KEY_HEADER;
use serde_json::Value;

use crate::support::{
    self,
    collector::{Collector, CollectorConfig},
};

/// A fixture from `tests/fixtures/doctor/<name>` in a temporary directory,
/// with the module this version generates at `src/otel.rs`.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(name);
        support::copy_tree(
            &support::repo_root()
                .join("tests/fixtures/doctor")
                .join(name),
            &root,
        );
        std::fs::write(
            root.join("src/otel.rs"),
            cargo_otel::codegen::otel_module().unwrap(),
        )
        .unwrap();
        Self { _dir: dir, root }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }

    fn edit(&self, relative: &str, from: &str, to: &str) {
        let text = self.read(relative);
        assert!(text.contains(from), "`{from}` not in {relative}:\n{text}");
        self.write(relative, &text.replacen(from, to, 1));
    }
}

/// Runs `cargo otel doctor --format json` in `dir` with `env` added.
fn doctor(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (Value, Output) {
    let mut command = support::cargo_otel(dir);
    command.args(["doctor", "--format", "json"]).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (json, output)
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

#[track_caller]
fn assert_status(report: &Value, id: &str, status: &str) {
    let found = check(report, id);
    assert_eq!(found["status"], status, "{id}: {found:#}");
}

fn finding(report: &Value, id: &str) -> String {
    check(report, id)["finding"].as_str().unwrap().to_owned()
}

/// A collector that accepts everything, for runs that are not about the round trip.
fn collector() -> Collector {
    Collector::start(CollectorConfig::loopback())
}

/// Runs `doctor --fix` against an accepting collector.
fn fix(fixture: &Fixture) -> (Value, Output) {
    let collector = collector();
    let endpoint = collector.endpoint();
    doctor(
        &fixture.root,
        &[("OTLP_GRPC_ENDPOINT", &endpoint)],
        &["--fix"],
    )
}

/// Runs doctor against an accepting collector.
fn diagnose(fixture: &Fixture, env: &[(&str, &str)]) -> Value {
    let collector = collector();
    let endpoint = collector.endpoint();
    let mut all = vec![("OTLP_GRPC_ENDPOINT", endpoint.as_str())];
    all.extend_from_slice(env);
    doctor(&fixture.root, &all, &[]).0
}

#[test]
fn a_healthy_crate_passes_every_project_environment_and_round_trip_check() {
    let fixture = Fixture::new("healthy");
    let collector = collector();
    let (report, output) = doctor(
        &fixture.root,
        &[("OTLP_GRPC_ENDPOINT", &collector.endpoint())],
        &[],
    );
    assert_eq!(report["schema_version"], 1);
    for id in (1..=15)
        .map(|n| format!("OTEL{n:03}"))
        .chain((20..=27).map(|n| format!("OTEL{n:03}")))
    {
        assert_status(&report, &id, "ok");
    }
    for id in ["OTEL040", "OTEL041", "OTEL042"] {
        assert_status(&report, id, "ok");
    }
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    // What arrived is real telemetry from the exporter the module uses.
    let arrived = collector.wait_until(Duration::from_secs(5), |t| {
        t.find_span("cargo otel doctor").is_some()
            && t.find_metric("cargo_otel.doctor.round_trips").is_some()
            && t.find_log("cargo otel doctor: round trip").is_some()
    });
    assert!(arrived, "{:?}", collector.held());
    // Doctor writes nothing.
    assert!(!fixture.path("compose.otel.yaml").exists());
}

#[test]
fn outside_a_project_the_package_check_fails_and_project_checks_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let collector = collector();
    let (report, output) = doctor(
        dir.path(),
        &[("OTLP_GRPC_ENDPOINT", &collector.endpoint())],
        &[],
    );
    assert_status(&report, "OTEL001", "error");
    assert!(
        check(&report, "OTEL001")["fix"]
            .as_str()
            .unwrap()
            .contains("--manifest-path")
    );
    assert_status(&report, "OTEL004", "skipped");
    assert_status(&report, "OTEL040", "ok");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_crate_without_opentelemetry_is_sent_to_init() {
    let fixture = Fixture::new("healthy");
    fixture.write(
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL002", "error");
    assert_eq!(check(&report, "OTEL002")["fixable"], true);
    assert_status(&report, "OTEL008", "skipped");
}

#[test]
fn a_dependency_built_for_an_older_opentelemetry_is_named() {
    let fixture = Fixture::new("two-versions");
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL004", "error");
    let text = finding(&report, "OTEL004");
    assert!(
        text.contains("0.30.0 comes from demo 0.1.0 -> opentelemetry-appender-log 0.30.0 -> opentelemetry 0.30.0"),
        "{text}"
    );
    assert!(
        check(&report, "OTEL004")["fix"]
            .as_str()
            .unwrap()
            .contains("upgrade `opentelemetry-appender-log`")
    );
    // The package's own pair is still consistent.
    assert_status(&report, "OTEL007", "ok");
    assert_status(&report, "OTEL006", "ok");
}

#[test]
fn tracing_opentelemetry_one_minor_behind_is_an_error_that_fix_repairs() {
    let fixture = Fixture::new("skewed");
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL007", "error");
    assert!(
        finding(&report, "OTEL007").contains("built for opentelemetry 0.32.0"),
        "{report:#}"
    );
    assert_status(&report, "OTEL004", "error");
    assert_status(&report, "OTEL005", "ok");
    assert_status(&report, "OTEL002", "warning");

    // --dry-run shows the change and writes nothing.
    let before = fixture.read("Cargo.toml");
    let collector = collector();
    let env = [("OTLP_GRPC_ENDPOINT", collector.endpoint())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (report, _) = doctor(&fixture.root, &env, &["--fix", "--dry-run"]);
    let diff = report["diff"].as_str().unwrap_or_default();
    assert!(
        diff.contains("+tracing-opentelemetry = { version = \"0.34.0\""),
        "{report:#}"
    );
    assert_eq!(fixture.read("Cargo.toml"), before);

    let (report, output) = doctor(&fixture.root, &env, &["--fix"]);
    assert!(
        fixture
            .read("Cargo.toml")
            .contains("tracing-opentelemetry = { version = \"0.34.0\"")
    );
    assert_eq!(
        report["fixed"].as_array().map(Vec::len),
        Some(1),
        "{report:#}"
    );
    for id in ["OTEL002", "OTEL004", "OTEL005", "OTEL006", "OTEL007"] {
        assert_status(&report, id, "ok");
    }
    assert_eq!(output.status.code(), Some(0), "{report:#}");
}

/// The proof that `--fix` repairs: a crate with a skewed tracing-opentelemetry,
/// a dropped guard and no module builds after it and exports a log record.
/// Built in the target directory the e2e tests share, so the OpenTelemetry
/// stack compiles once per test run.
#[test]
fn the_repaired_crate_builds_and_exports() {
    let fixture = Fixture::new("skewed");
    std::fs::remove_file(fixture.path("src/otel.rs")).unwrap();
    fixture.edit(
        "src/main.rs",
        "    let _otel = otel::init();\n",
        "    let _ = otel::init();\n    tracing::info!(\"repaired by doctor\");\n",
    );
    let (_, output) = doctor(
        &fixture.root,
        &[],
        &["--fix", "--skip", "round-trip", "--skip", "backend"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-init-target");
    let build = support::output_one_build_at_a_time(
        support::cargo(&fixture.root)
            .args(["build", "--locked", "--quiet"])
            .env("CARGO_TARGET_DIR", &target_dir),
    );
    assert!(
        build.status.success(),
        "{}",
        support::cargo_errors(&String::from_utf8_lossy(&build.stderr))
    );
    let collector = collector();
    let run = std::process::Command::new(target_dir.join("debug/demo"))
        .env_clear()
        .env("OTLP_GRPC_ENDPOINT", collector.endpoint())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The guard now lives until `main` returns, so the record is flushed.
    let arrived = collector.wait_until(Duration::from_secs(5), |t| {
        t.find_log("repaired by doctor").is_some()
    });
    assert!(arrived, "{:?}", collector.held());
}

#[test]
fn without_a_lockfile_the_graph_is_resolved_in_a_copy() {
    let fixture = Fixture::new("healthy");
    std::fs::remove_file(fixture.path("Cargo.lock")).unwrap();
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL003", "ok");
    assert!(finding(&report, "OTEL003").contains("temporary copy"));
    assert_status(&report, "OTEL004", "ok");
    assert!(
        !fixture.path("Cargo.lock").exists(),
        "doctor wrote a lockfile"
    );
}

#[test]
fn a_lockfile_behind_the_manifest_is_reported() {
    let fixture = Fixture::new("healthy");
    fixture.edit(
        "Cargo.toml",
        "tracing-opentelemetry = { version = \"0.34.0\"",
        "tracing-opentelemetry = { version = \"0.33.0\"",
    );
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL003", "warning");
    assert!(
        finding(&report, "OTEL003").contains("tracing-opentelemetry is locked at 0.34.0"),
        "{report:#}"
    );
}

#[test]
fn exporter_features_that_cannot_work() {
    let fixture = Fixture::new("healthy");
    let otlp = "opentelemetry-otlp = { version = \"0.33.1\", default-features = false, features = [\"grpc-tonic\", \"trace\", \"metrics\", \"logs\", \"internal-logs\", \"tls-ring\", \"tls-webpki-roots\", \"gzip-tonic\"] }";
    fixture.edit(
        "Cargo.toml",
        otlp,
        "opentelemetry-otlp = { version = \"0.33.1\", features = [\"reqwest-client\"] }",
    );
    let collector = collector();
    let https = collector.endpoint().replace("http://", "https://");
    let (report, _) = doctor(&fixture.root, &[("OTLP_GRPC_ENDPOINT", &https)], &[]);
    assert_status(&report, "OTEL008", "error");
    assert_eq!(check(&report, "OTEL008")["fixable"], true);
    assert_status(&report, "OTEL009", "error");
    assert_status(&report, "OTEL010", "warning");
    assert!(finding(&report, "OTEL010").contains("opentelemetry-otlp/reqwest-client"));
    assert_eq!(check(&report, "OTEL009")["fixable"], true);
    // The round trip speaks TLS as the module does; the collector does not.
    assert_status(&report, "OTEL040", "error");
    assert!(
        finding(&report, "OTEL040").contains("does not speak TLS"),
        "{report:#}"
    );
}

#[test]
fn module_missing_or_undeclared() {
    let fixture = Fixture::new("healthy");
    std::fs::remove_file(fixture.path("src/otel.rs")).unwrap();
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL011", "error");
    assert_status(&report, "OTEL015", "skipped");

    let fixture = Fixture::new("healthy");
    fixture.edit("src/main.rs", "mod otel;\n", "");
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL011", "error");
    assert!(finding(&report, "OTEL011").contains("no `mod otel;`"));
}

#[test]
fn main_without_init_and_with_a_dropped_guard() {
    let fixture = Fixture::new("healthy");
    fixture.edit("src/main.rs", "    let _otel = otel::init();\n", "");
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL012", "error");
    assert_status(&report, "OTEL013", "skipped");

    let fixture = Fixture::new("healthy");
    fixture.edit(
        "src/main.rs",
        "let _otel = otel::init()",
        "let _ = otel::init()",
    );
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL012", "ok");
    assert_status(&report, "OTEL013", "error");
    assert!(
        finding(&report, "OTEL013").contains("`let _ = otel::init()` at `src/main.rs:4`"),
        "{report:#}"
    );

    let fixture = Fixture::new("healthy");
    fixture.edit(
        "src/main.rs",
        "    println!(\"Hello, world!\");\n",
        "    println!(\"Hello, world!\");\n    std::process::exit(0);\n",
    );
    // Template v3 flushes on `process::exit`; the module before it did not.
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL013", "ok");
    assert!(finding(&report, "OTEL013").contains("flushes on the `std::process::exit`"));
    let v2 = support::repo_root().join("tests/ui/upgrade_from_v2/in/src/otel.rs");
    fixture.write("src/otel.rs", &std::fs::read_to_string(v2).unwrap());
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL013", "error");
    assert!(finding(&report, "OTEL013").contains("std::process::exit"));
}

/// The certificate files, as rustls reads them, and the round trip to a
/// real TLS collector with the program's settings.
#[test]
fn tls_files_are_checked_and_the_round_trip_uses_them() {
    let fixture = Fixture::new("healthy");
    let pki = support::tls::Pki::new();
    let tls = pki.server(false);
    let collector = Collector::start(CollectorConfig::loopback().with_tls(tls));
    let endpoint = collector.endpoint();
    let path = |p: &Path| p.display().to_string();
    let (ca, other_ca) = (path(&pki.ca), path(&pki.other_ca));
    let (certificate, key) = (path(&pki.client_certificate), path(&pki.client_key));
    let run = |env: &[(&str, &str)]| {
        let mut all = vec![("OTLP_GRPC_ENDPOINT", endpoint.as_str())];
        all.extend_from_slice(env);
        doctor(&fixture.root, &all, &["--skip", "backend"]).0
    };

    let report = run(&[
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &certificate),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key),
    ]);
    for id in [
        "OTEL050", "OTEL051", "OTEL052", "OTEL040", "OTEL041", "OTEL042",
    ] {
        assert_status(&report, id, "ok");
    }

    let report = run(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", &other_ca)]);
    assert_status(&report, "OTEL050", "ok");
    assert_status(&report, "OTEL040", "error");
    assert!(
        finding(&report, "OTEL040").contains("UnknownIssuer"),
        "{report:#}"
    );
    assert!(
        check(&report, "OTEL040")["fix"]
            .as_str()
            .unwrap()
            .contains("OTEL_EXPORTER_OTLP_CERTIFICATE"),
        "{report:#}"
    );

    let missing = format!("{ca}.missing");
    let report = run(&[
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", &missing),
        ("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", &key),
    ]);
    assert_status(&report, "OTEL050", "error");
    assert!(
        finding(&report, "OTEL050").contains("cannot be read"),
        "{report:#}"
    );
    assert_status(&report, "OTEL051", "error");
    assert!(
        finding(&report, "OTEL051").contains("without its pair"),
        "{report:#}"
    );

    // The CA's certificate with the client's key: not a pair.
    let report = run(&[
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &ca),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key),
    ]);
    assert_status(&report, "OTEL051", "error");
    assert!(
        finding(&report, "OTEL051").contains("not the certificate's"),
        "{report:#}"
    );

    let plain = format!("http://{}", collector.local_addr());
    let (report, _) = doctor(
        &fixture.root,
        &[
            ("OTLP_GRPC_ENDPOINT", &plain),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
        ],
        &["--skip", "backend", "--skip", "round-trip"],
    );
    assert_status(&report, "OTEL052", "warning");
}

#[test]
fn unparsable_endpoints_and_unknown_compression() {
    let fixture = Fixture::new("healthy");
    let (report, _) = doctor(
        &fixture.root,
        &[("OTLP_GRPC_ENDPOINT", "http://exa mple:4317")],
        &["--skip", "backend", "--skip", "round-trip"],
    );
    assert_status(&report, "OTEL028", "error");
    let report = diagnose(&fixture, &[("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli")]);
    assert_status(&report, "OTEL028", "ok");
    assert_status(&report, "OTEL029", "warning");
    let report = diagnose(&fixture, &[("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")]);
    assert_status(&report, "OTEL029", "ok");
    assert_status(&report, "OTEL040", "ok");
}

#[test]
fn fix_rewires_main_and_writes_the_module_then_checks_again() {
    let fixture = Fixture::new("healthy");
    std::fs::remove_file(fixture.path("src/otel.rs")).unwrap();
    fixture.edit(
        "src/main.rs",
        "let _otel = otel::init()",
        "let _ = otel::init()",
    );
    let (report, output) = fix(&fixture);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Creating src/otel.rs"), "{stderr}");
    assert!(
        fixture
            .read("src/main.rs")
            .contains("    let _otel = otel::init();\n")
    );
    assert_eq!(
        fixture.read("src/otel.rs"),
        cargo_otel::codegen::otel_module().unwrap()
    );
    for id in ["OTEL011", "OTEL012", "OTEL013", "OTEL015"] {
        assert_status(&report, id, "ok");
    }
    assert_eq!(output.status.code(), Some(0), "{report:#}");
}

/// `--fix` writes like `init`: a main saved with a byte order mark and CRLF line
/// ends keeps both, and the module it creates gets the mode the umask gives.
#[test]
fn fix_keeps_the_form_of_main_and_creates_the_module_with_the_umask_mode() {
    let fixture = Fixture::new("healthy");
    std::fs::remove_file(fixture.path("src/otel.rs")).unwrap();
    let main = fixture
        .read("src/main.rs")
        .replace("let _otel = otel::init()", "let _ = otel::init()");
    fixture.write(
        "src/main.rs",
        &format!("\u{feff}{}", main.replace('\n', "\r\n")),
    );
    let (report, output) = fix(&fixture);
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    let after = fixture.read("src/main.rs");
    assert!(after.starts_with("\u{feff}mod otel;\r\n"), "{after:?}");
    assert!(after.contains("    let _otel = otel::init();"), "{after:?}");
    assert!(!after.replace("\r\n", "").contains('\n'), "{after:?}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(fixture.path("src/otel.rs"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o666 & !umask(), "mode {mode:o}");
}

/// This process's umask (which the binary inherits), from `/proc/self/status`.
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find_map(|l| l.strip_prefix("Umask:"));
    u32::from_str_radix(line.expect("a Umask line").trim(), 8).unwrap()
}

/// Calls written for a module before template v3 next to a current module
/// do not compile: named, and `--fix` rewrites them.
#[test]
fn calls_written_for_an_older_module_are_found_and_fixed() {
    let fixture = Fixture::new("healthy");
    fixture.edit(
        "src/main.rs",
        "let _otel = otel::init();",
        "let _otel = otel::init().expect(\"failed to initialize OpenTelemetry\");",
    );
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL012", "error");
    assert_eq!(check(&report, "OTEL012")["fixable"], true, "{report:#}");

    let collector = collector();
    let endpoint = collector.endpoint();
    let (report, output) = doctor(
        &fixture.root,
        &[("OTLP_GRPC_ENDPOINT", &endpoint)],
        &["--fix", "--skip", "backend"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without `.expect(..)` or `?`"), "{stderr}");
    assert!(
        fixture
            .read("src/main.rs")
            .contains("    let _otel = otel::init();\n")
    );
    assert_status(&report, "OTEL012", "ok");
}

#[test]
fn a_second_global_subscriber_is_found_in_any_file() {
    let fixture = Fixture::new("healthy");
    fixture.write(
        "src/logging.rs",
        "pub fn setup() {\n    tracing_subscriber::fmt().init();\n}\n",
    );
    fixture.edit("src/main.rs", "mod otel;\n", "mod logging;\nmod otel;\n");
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL014", "error");
    assert!(
        finding(&report, "OTEL014").contains("`src/logging.rs:2`"),
        "{report:#}"
    );
}

#[test]
fn another_binary_with_its_own_subscriber_is_not_a_second_one() {
    let fixture = Fixture::new("healthy");
    fixture.write(
        "src/bin/tool.rs",
        "fn main() {\n    tracing_subscriber::fmt::init();\n}\n",
    );
    let collector = collector();
    let endpoint = collector.endpoint();
    let env = [("OTLP_GRPC_ENDPOINT", endpoint.as_str())];
    let (report, _) = doctor(&fixture.root, &env, &["--bin", "demo"]);
    assert_status(&report, "OTEL001", "ok");
    assert_status(&report, "OTEL014", "ok");
}

#[test]
fn merged_setups_are_not_second_subscribers() {
    // What `init` writes next to env_logger: the logger keeps `log`, the
    // module installs the tracing subscriber without a console.
    let fixture = Fixture::new("healthy");
    fixture.edit(
        "src/main.rs",
        "    let _otel = otel::init()",
        "    env_logger::init();\n    let _otel = otel::init_without_console()",
    );
    assert_status(&diagnose(&fixture, &[]), "OTEL014", "ok");

    // A registry chain with `otel.layers()` added is the program's only
    // subscriber.
    let fixture = Fixture::new("healthy");
    fixture.edit(
        "src/main.rs",
        "    let _otel = otel::init();",
        "    let otel = otel::init_providers().expect(\"otel\");\n    tracing_subscriber::registry().with(otel.layers()).init();",
    );
    assert_status(&diagnose(&fixture, &[]), "OTEL014", "ok");

    // env_logger beside the full `init()`: `init()` installs `log`'s logger
    // too (tracing-log), so one of them fails.
    let fixture = Fixture::new("healthy");
    fixture.edit(
        "src/main.rs",
        "    let _otel",
        "    env_logger::init();\n    let _otel",
    );
    assert_status(&diagnose(&fixture, &[]), "OTEL014", "error");
}

#[test]
fn module_drift_and_edits() {
    let fixture = Fixture::new("healthy");
    let generated = cargo_otel::codegen::otel_module().unwrap();
    fixture.write("src/otel.rs", &format!("{generated}// mine\n"));
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL015", "warning");
    assert!(finding(&report, "OTEL015").contains("edited"));
    assert_eq!(check(&report, "OTEL015")["fixable"], false);

    // Written by an older cargo-otel and never touched: --fix may replace it.
    let body = "pub fn init() {}\n";
    let old = format!(
        "// @generated by cargo-otel 0.0.1 from template otel.rs v0 (checksum {:016x}).\n// Edit freely.\n{body}",
        cargo_otel::fingerprint::fnv1a64(body.as_bytes())
    );
    fixture.write("src/otel.rs", &old);
    let report = diagnose(&fixture, &[]);
    assert_status(&report, "OTEL015", "warning");
    assert_eq!(check(&report, "OTEL015")["fixable"], true);
}

#[test]
fn environment_variables_that_stop_telemetry() {
    let fixture = Fixture::new("healthy");
    let env = [
        ("OTLP_GRPC_ENDPOINT", "127.0.0.1:4318"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10"),
        ("OTEL_SDK_DISABLED", "true"),
        ("OTEL_TRACES_SAMPLER", "always_off"),
        ("RUST_LOG", "off"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-otlp-api-key"),
    ];
    let (report, output) = doctor(&fixture.root, &env, &[]);
    for (id, status) in [
        // Schemeless is https: TLS to a plaintext port, but a valid setting.
        ("OTEL020", "warning"),
        ("OTEL021", "error"),
        ("OTEL022", "warning"),
        ("OTEL023", "warning"),
        ("OTEL024", "error"),
        ("OTEL025", "error"),
        ("OTEL026", "error"),
        ("OTEL027", "error"),
    ] {
        assert_status(&report, id, status);
    }
    assert!(
        check(&report, "OTEL020")["fix"]
            .as_str()
            .unwrap()
            .contains("http://127.0.0.1:4318")
    );
    assert_eq!(output.status.code(), Some(1));

    // gRPC aimed at the OTLP/HTTP port, with a scheme.
    let (report, _) = doctor(
        &fixture.root,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")],
        &["--timeout", "200ms"],
    );
    assert_status(&report, "OTEL020", "ok");
    assert_status(&report, "OTEL021", "error");
}

#[test]
fn round_trip_to_a_receiver_that_demands_an_api_key() {
    let fixture = Fixture::new("healthy");
    let collector = Collector::start(CollectorConfig::loopback().with_api_key("sesame"));
    let endpoint = collector.endpoint();
    let (report, output) = doctor(&fixture.root, &[("OTLP_GRPC_ENDPOINT", &endpoint)], &[]);
    for id in ["OTEL040", "OTEL041", "OTEL042"] {
        assert_status(&report, id, "error");
        assert!(
            finding(&report, id).contains("for authentication"),
            "{report:#}"
        );
    }
    assert_eq!(output.status.code(), Some(1));
    let header = format!("{API_KEY_HEADER}=sesame");
    let (report, _) = doctor(
        &fixture.root,
        &[
            ("OTLP_GRPC_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_HEADERS", &header),
        ],
        &[],
    );
    for id in ["OTEL040", "OTEL041", "OTEL042"] {
        assert_status(&report, id, "ok");
    }
}

#[test]
fn round_trip_to_a_closed_port_a_hung_listener_and_an_http1_server() {
    let dir = tempfile::tempdir().unwrap();
    let closed = {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let (report, _) = doctor(
        dir.path(),
        &[],
        &["--endpoint", &format!("http://127.0.0.1:{closed}")],
    );
    assert_status(&report, "OTEL040", "error");
    assert!(
        finding(&report, "OTEL040").contains("nothing answers"),
        "{report:#}"
    );

    // Accepts connections and never answers.
    let hung = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let hung_port = hung.local_addr().unwrap().port();
    let (report, _) = doctor(
        dir.path(),
        &[],
        &[
            "--endpoint",
            &format!("http://127.0.0.1:{hung_port}"),
            "--timeout",
            "500ms",
        ],
    );
    for id in ["OTEL040", "OTEL041", "OTEL042"] {
        assert_status(&report, id, "error");
        assert!(
            finding(&report, id).contains("did not answer within 500 ms"),
            "{report:#}"
        );
    }
    drop(hung);

    // An HTTP/1.1 server, like a web page on the port.
    let http1 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let http1_port = http1.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in http1.incoming().take(16) {
            let Ok(mut stream) = stream else { break };
            let mut buffer = [0_u8; 1024];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let (report, _) = doctor(
        dir.path(),
        &[],
        &["--endpoint", &format!("http://127.0.0.1:{http1_port}")],
    );
    assert_status(&report, "OTEL040", "error");
    assert!(
        finding(&report, "OTEL040").contains("did not get an OTLP/gRPC answer"),
        "{report:#}"
    );
}

#[test]
fn ports_held_by_others_and_by_the_local_backend() {
    let free = {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let [ports, local] = cargo_otel::doctor::backend::port_checks(&[(free, "OTLP/gRPC")]);
    assert_eq!(ports.status, cargo_otel::doctor::Status::Ok, "{ports:?}");
    assert!(local.finding.contains("not running"));

    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let [ports, _] = cargo_otel::doctor::backend::port_checks(&[(port, "OTLP/gRPC")]);
    assert_eq!(
        ports.status,
        cargo_otel::doctor::Status::Warning,
        "{ports:?}"
    );
    assert!(
        ports
            .finding
            .contains(&format!("(pid {}", std::process::id())),
        "{ports:?}"
    );

    // The real local backend holds its ports: that is ours.
    let dir = tempfile::tempdir().unwrap();
    let serve = support::backend::Serve::start(dir.path(), &[]);
    let grpc: u16 = serve
        .grpc_endpoint()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let [ports, local] = cargo_otel::doctor::backend::port_checks(&[(grpc, "OTLP/gRPC")]);
    // gRPC sent to its OTLP/HTTP port: the round trip says it is the wrong protocol.
    let http = format!("http://{}", serve.http);
    let (report, _) = doctor(dir.path(), &[], &["--endpoint", &http, "--skip", "backend"]);
    drop(serve);
    assert_status(&report, "OTEL040", "error");
    assert!(
        finding(&report, "OTEL040").contains("did not get an OTLP/gRPC answer"),
        "{report:#}"
    );
    assert_eq!(ports.status, cargo_otel::doctor::Status::Ok, "{ports:?}");
    assert!(local.finding.contains("running: `cargo-otel`"), "{local:?}");
}

#[test]
fn without_docker_the_backend_checks_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = doctor(
        dir.path(),
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
        &["--skip", "round-trip"],
    );
    assert_status(&report, "OTEL030", "warning");
    assert_status(&report, "OTEL031", "skipped");
    assert_status(&report, "OTEL032", "skipped");
}

/// The healthy fixture with `[package.metadata.otel] image = ...`.
fn with_image(fixture: &Fixture, image: &str) {
    let manifest = fixture.read("Cargo.toml");
    let base = manifest
        .split("\n[package.metadata.otel]")
        .next()
        .unwrap()
        .to_owned();
    fixture.write(
        "Cargo.toml",
        &format!("{base}\n[package.metadata.otel]\nimage = \"{image}\"\n"),
    );
}

fn container_name(fixture: &Fixture) -> String {
    let root = std::fs::canonicalize(&fixture.root).unwrap();
    cargo_otel::docker::container::container_name(&root.display().to_string())
}

#[test]
fn image_and_container_checks_against_the_real_daemon() {
    let Some(docker) = support::docker::docker() else {
        return;
    };
    let present = support::docker::stand_in_image(&docker).image.clone();
    let fixture = Fixture::new("healthy");
    let skip = ["--skip", "round-trip"];
    let (report, _) = doctor(&fixture.root, &[], &skip);
    assert_status(&report, "OTEL030", "ok");
    assert_status(&report, "OTEL032", "ok"); // No container for a fresh workspace.
    with_image(&fixture, "cargo-otel-test/absent:never");
    assert_status(&doctor(&fixture.root, &[], &skip).0, "OTEL031", "warning");
    with_image(&fixture, &present);
    assert_status(&doctor(&fixture.root, &[], &skip).0, "OTEL031", "ok");

    // A container of ours for this workspace that is not running, then one
    // under our name that is not ours.
    let name = container_name(&fixture);
    let mut cleanup = support::docker::Cleanup::new(&docker);
    cleanup.container(&name);
    for (ours, expected) in [
        (true, "exists but is created"),
        (false, "not made by cargo-otel"),
    ] {
        create_container(&docker, &name, &present, ours);
        let (report, _) = doctor(&fixture.root, &[], &skip);
        support::docker::remove_container(&docker, &name);
        assert_status(&report, "OTEL032", "warning");
        assert!(finding(&report, "OTEL032").contains(expected), "{report:#}");
    }
}

/// `dash --detach --print-env` starts the dashboard (the Aspire stand-in);
/// with what it prints exported, every backend and round-trip check passes.
#[test]
fn a_detached_dashboard_is_healthy_and_accepts_the_round_trip() {
    let Some(docker) = support::docker::docker() else {
        return;
    };
    let image = support::docker::stand_in_image(&docker).image.clone();
    let fixture = Fixture::new("healthy");
    with_image(&fixture, &image);
    let mut cleanup = support::docker::Cleanup::new(&docker);
    cleanup.container(&container_name(&fixture));
    let dash = support::cargo_otel(&fixture.root)
        .args(["dash", "--detach", "--print-env", "--pull", "never"])
        .args(support::backend::FREE_PORTS)
        .output()
        .unwrap();
    assert!(
        dash.status.success(),
        "{}",
        String::from_utf8_lossy(&dash.stderr)
    );
    let stdout = String::from_utf8_lossy(&dash.stdout).into_owned();
    let exports: Vec<(&str, &str)> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .collect();
    assert!(
        exports
            .iter()
            .any(|(k, _)| *k == "OTEL_EXPORTER_OTLP_HEADERS"),
        "{stdout}"
    );
    let (report, output) = doctor(&fixture.root, &exports, &[]);
    for id in [
        "OTEL030", "OTEL031", "OTEL032", "OTEL040", "OTEL041", "OTEL042",
    ] {
        assert_status(&report, id, "ok");
    }
    assert!(
        finding(&report, "OTEL032").contains("running and healthy"),
        "{report:#}"
    );
    assert_status(&report, "OTEL022", "ok");
    assert_eq!(output.status.code(), Some(0), "{report:#}");
}

/// Creates (does not start) a container labelled as the tests' own.
fn create_container(docker: &bollard::Docker, name: &str, image: &str, ours: bool) {
    let mut labels = support::docker::test_labels("container");
    if ours {
        labels.insert(
            cargo_otel::docker::container::MANAGED_BY.to_owned(),
            "cargo-otel".to_owned(),
        );
    }
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.to_owned()),
        labels: Some(labels),
        ..Default::default()
    };
    let options = bollard::query_parameters::CreateContainerOptionsBuilder::default()
        .name(name)
        .build();
    support::docker::block_on(docker.create_container(Some(options), body)).unwrap();
}
