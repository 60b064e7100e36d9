//! End to end: the generated module where programs really run. The
//! `tests/fixtures/e2e/lifecycle` crate (a binary per way a program ends) is
//! built as it is, then instrumented by `cargo otel init` for each binary and
//! built again; each case runs both builds and compares.
//!
//! Covered: a real TLS collector (the backend's, serving the certificate of a CA
//! the test makes) that gets spans, metrics and logs over https, with mutual
//! TLS, per-signal certificate variables and gzip; a wrong CA; every
//! misconfiguration of the issue (the program's stdout and exit code as
//! before, out within 6 s, the problem named once on stderr); the strict
//! `try_init`; `process::exit` from `main`, a helper and another thread, and a
//! panic, flushing what came before; panics in `main`, a thread, a tokio task
//! and with `panic=abort`, and an error returned from `main`, recorded as
//! exceptions and error logs, the program's output as before; a server without signal handling stopped
//! by SIGINT and SIGTERM (flushed, then ended by that signal as before), one
//! whose SIGINT was ignored before it started, and one that handles Ctrl-C
//! itself with tokio (its graceful path, unchanged).
//!
//! Everything builds into the target directory the other end-to-end tests
//! share, with the same tokio features, so the stack is compiled once.

use std::{
    collections::BTreeMap,
    io::{BufRead as _, BufReader, Write as _},
    net::{Ipv4Addr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    sync::OnceLock,
    time::Duration,
};

use cargo_otel::backend::{Held, store::string_attribute};

use crate::support::{
    self,
    collector::{Collector, CollectorConfig},
    program::{self, Run, Running},
    tls::Pki,
};

/// How long telemetry may take to show up after the program has exited.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(10);
/// A misconfigured program must still be done within this time.
const EXIT_LIMIT: Duration = Duration::from_secs(6);
/// Every line the module prints starts so.
const WARNING: &str = "warning: OpenTelemetry: ";

// ---------------------------------------------------------------------------------------------
// A real TLS collector

#[test]
fn a_tls_collector_gets_spans_metrics_and_logs_over_https() {
    let pki = Pki::new();
    let collector = collector(CollectorConfig::loopback().with_tls(pki.server(false)));
    let endpoint = collector.endpoint();
    assert!(endpoint.starts_with("https://"), "{endpoint}");
    let run = after("all-signals").run(&[
        ("OTLP_GRPC_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&pki.ca)),
    ]);
    assert_all_signals(&collector, &run);
}

#[test]
fn per_signal_certificate_variables_and_mutual_tls() {
    let pki = Pki::new();
    let collector = collector(CollectorConfig::loopback().with_tls(pki.server(true)));
    let endpoint = collector.endpoint();
    let mut env = vec![("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), endpoint)];
    for signal in ["TRACES", "METRICS", "LOGS"] {
        for (what, file) in [
            ("CERTIFICATE", &pki.ca),
            ("CLIENT_CERTIFICATE", &pki.client_certificate),
            ("CLIENT_KEY", &pki.client_key),
        ] {
            let name = format!("OTEL_EXPORTER_OTLP_{signal}_{what}");
            env.push((name, path(file).to_owned()));
        }
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = after("all-signals").run(&env);
    assert_all_signals(&collector, &run);
}

#[test]
fn a_collector_that_requires_a_client_certificate_refuses_a_program_without_one() {
    let pki = Pki::new();
    let collector = collector(CollectorConfig::loopback().with_tls(pki.server(true)));
    let run = cli_against(&[
        ("OTLP_GRPC_ENDPOINT", &collector.endpoint()),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&pki.ca)),
    ]);
    assert_unchanged_and_named_once(&run, "could not export");
    assert!(run.stderr.contains("CLIENT_CERTIFICATE"), "{run}");
    assert!(collector.held().is_empty(), "{run}");
}

#[test]
fn a_wrong_ca_fails_the_export_with_a_clear_warning_and_exit_code_0() {
    let pki = Pki::new();
    let collector = collector(CollectorConfig::loopback().with_tls(pki.server(false)));
    let run = cli_against(&[
        ("OTLP_GRPC_ENDPOINT", &collector.endpoint()),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&pki.other_ca)),
    ]);
    assert_unchanged_and_named_once(&run, "could not export");
    for expected in ["UnknownIssuer", "set OTEL_EXPORTER_OTLP_CERTIFICATE"] {
        assert!(run.stderr.contains(expected), "{expected:?} in\n{run}");
    }
    assert!(collector.held().is_empty(), "{run}");
}

/// The public roots do not know the test's CA either.
#[test]
fn otlp_grpc_endpoint_https_without_a_ca_is_named_once() {
    let pki = Pki::new();
    let collector = collector(CollectorConfig::loopback().with_tls(pki.server(false)));
    let run = cli_against(&[("OTLP_GRPC_ENDPOINT", &collector.endpoint())]);
    assert_unchanged_and_named_once(&run, "UnknownIssuer");
}

/// A collector that refuses gzip proves the exports were compressed.
#[test]
fn gzip_compression_reaches_a_collector_that_takes_it() {
    let collector = collector(CollectorConfig::loopback());
    let env = [
        ("OTLP_GRPC_ENDPOINT", collector.endpoint()),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = after("all-signals").run(&env);
    assert_all_signals(&collector, &run);

    let refusing = self::collector(CollectorConfig::loopback().without_gzip());
    let run = cli_against(&[
        ("OTLP_GRPC_ENDPOINT", &refusing.endpoint()),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
    ]);
    assert_unchanged_and_named_once(&run, "could not export");
    assert!(refusing.held().is_empty(), "{run}");
}

// ---------------------------------------------------------------------------------------------
// Misconfigurations: the program as before, the problem named once

#[test]
fn an_https_endpoint_in_front_of_a_plaintext_collector() {
    let collector = collector(CollectorConfig::loopback());
    let https = collector.endpoint().replace("http://", "https://");
    let run = cli_against(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &https)]);
    assert_unchanged_and_named_once(&run, "could not export");
}

#[test]
fn a_schemeless_endpoint() {
    let collector = collector(CollectorConfig::loopback());
    let schemeless = collector.endpoint().replace("http://", "");
    let run = cli_against(&[("OTLP_GRPC_ENDPOINT", &schemeless)]);
    assert_unchanged_and_named_once(&run, "[OTEL020]");
    assert!(run.stderr.contains("has no scheme"), "{run}");
}

#[test]
fn an_unreachable_https_endpoint() {
    let nowhere = format!("https://{}", unused_port());
    let run = cli_against(&[("OTLP_GRPC_ENDPOINT", &nowhere)]);
    assert_unchanged_and_named_once(&run, "could not export");
}

#[test]
fn an_unparsable_url() {
    let run = cli_against(&[("OTLP_GRPC_ENDPOINT", "http://exa mple:4317")]);
    assert_unchanged_and_named_once(&run, "[OTEL028]");
}

#[test]
fn a_missing_ca_file() {
    let pki = Pki::new();
    let collector = collector(CollectorConfig::loopback().with_tls(pki.server(false)));
    let missing = pki.ca.with_file_name("no-such-ca.pem");
    let run = cli_against(&[
        ("OTLP_GRPC_ENDPOINT", &collector.endpoint()),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&missing)),
    ]);
    assert_unchanged_and_named_once(&run, "[OTEL050]");
}

/// Settings the exporter or the SDK read themselves: the rest still arrives.
#[test]
fn malformed_settings_are_named_once_and_the_rest_is_exported() {
    for (variable, value, check) in [
        ("OTEL_EXPORTER_OTLP_HEADERS", "not-a-pair", "[OTEL027]"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s", "[OTEL023]"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", "[OTEL022]"),
        ("OTEL_TRACES_SAMPLER", "sometimes", "[OTEL025]"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli", "[OTEL029]"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "yes", "[OTEL020]"),
    ] {
        let collector = collector(CollectorConfig::loopback());
        let run = cli_against(&[
            ("OTLP_GRPC_ENDPOINT", &collector.endpoint()),
            (variable, value),
        ]);
        assert_unchanged_and_named_once(&run, check);
        assert!(run.stderr.contains(variable), "{variable}: {run}");
        let arrived = collector.wait_until(ARRIVAL_TIMEOUT, |t| t.find_span("cli.work").is_some());
        assert!(arrived, "{variable}: nothing exported\n{run}");
    }
}

/// `try_init` returns the same problems instead of going on.
#[test]
fn the_strict_variant_returns_the_error() {
    let strict = after("strict");
    let run = strict.run(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")]);
    assert_eq!(run.status.code(), Some(2), "{run}");
    assert!(
        run.stdout.contains(
            "strict: failed to initialize OpenTelemetry: OTEL_EXPORTER_OTLP_TIMEOUT=\"10s\""
        ),
        "{run}"
    );
    assert!(!run.stderr.contains(WARNING), "{run}");
    let run = strict.run(&[("OTLP_GRPC_ENDPOINT", &format!("http://{}", unused_port()))]);
    assert!(run.status.success(), "{run}");
    assert!(run.stdout.contains("strict: telemetry on"), "{run}");
}

// ---------------------------------------------------------------------------------------------
// Exit paths

#[test]
fn process_exit_in_main_flushes_first() {
    assert_exit_flushes("exit-main", "exit.work", "exit work done");
}

#[test]
fn process_exit_in_a_helper_inside_a_span_flushes_first() {
    let collector = assert_exit_flushes("exit-helper", "exit.work", "exit work done");
    let telemetry = collector.held();
    assert!(
        telemetry.find_log("giving up").is_some(),
        "the log written in the exiting span"
    );
}

/// The span `init` gives a tool for its run ends when its guard drops;
/// `process::exit` drops nothing, so the exit hook ends it before flushing.
#[test]
fn process_exit_ends_the_span_of_the_run() {
    assert_exit_flushes("exit-run", "exit-run", "run work done");
}

#[test]
fn process_exit_on_another_thread_flushes_first() {
    assert_exit_flushes("exit-thread", "exit.work", "exit work done");
}

#[test]
fn a_panic_in_main_flushes_while_unwinding() {
    assert_exit_flushes("panics", "panic.work", "panic work done");
}

// ---------------------------------------------------------------------------------------------
// Panics recorded as exceptions

#[test]
fn a_panic_in_main_is_an_exception_on_its_span_and_an_error_log() {
    assert_panic_recorded(&Panicked {
        bin: "panics",
        span: "panic.work",
        function: "panics::explode",
        message: "boom",
        thread: "main",
    });
}

#[test]
fn a_panic_in_a_spawned_thread_is_recorded() {
    assert_panic_recorded(&Panicked {
        bin: "panic-thread",
        span: "thread.work",
        function: "panic_thread::explode_in_thread",
        message: "worker boom: 42",
        thread: "worker",
    });
}

#[test]
fn a_panic_in_a_tokio_task_is_recorded() {
    assert_panic_recorded(&Panicked {
        bin: "panic-task",
        span: "task.work",
        function: "panic_task::explode_in_task",
        message: "task boom",
        thread: "tokio-rt-worker",
    });
}

/// `main` returns an `Err`: `init` moved its body into `main_body`, and
/// `main` passes the result through `otel::main_result`. At the collector:
/// the run's span with status Error and an `exception` event carrying the
/// error's type and its `source()` chain, and an ERROR log record in that
/// trace whose body is what the program printed. The program prints and ends
/// exactly as before `init`.
#[test]
fn an_error_returned_from_main_is_an_exception_on_the_run_and_an_error_log() {
    const MESSAGE: &str =
        "invalid port in config\n\nCaused by:\n    0: invalid digit found in string";
    const PRINTED: &str = "Error: ConfigError { source: ParseIntError { kind: InvalidDigit } }";
    let before = before("error-main").run(&[]);
    assert_eq!(before.status.code(), Some(1), "{before}");
    assert_eq!(before.stderr.trim_end(), PRINTED, "{before}");
    let disabled = after("error-main").run(&[("OTEL_SDK_DISABLED", "true")]);
    let collector = collector(CollectorConfig::loopback());
    let run = after("error-main").run(&[("OTLP_GRPC_ENDPOINT", &collector.endpoint())]);
    assert_eq!(run.status.to_string(), before.status.to_string(), "{run}");
    assert_eq!(run.stdout, before.stdout, "{run}");
    // The module's console shows what it logged; the error is printed last, as before.
    assert_eq!(mask(&run.stderr), mask(&disabled.stderr), "{run}");
    assert!(run.stderr.ends_with(&before.stderr), "{run}");
    assert!(run.elapsed < EXIT_LIMIT, "took {:?}\n{run}", run.elapsed);

    let arrived = collector.wait_until(ARRIVAL_TIMEOUT, |t| {
        t.find_span("error-main").is_some() && t.logs.iter().any(|l| is_error(&l.record))
    });
    assert!(
        arrived,
        "incomplete: {:?}\n{run}",
        summary(&collector.held())
    );
    let telemetry = collector.held();
    let span = telemetry.find_span("error-main").expect("checked");
    let event = failed_with(&span.span, MESSAGE);
    let attribute = |key| string_attribute(&event.attributes, key).unwrap_or_default();
    assert_eq!(
        attribute("exception.type"),
        "alloc::boxed::Box<dyn core::error::Error>"
    );
    assert_eq!(attribute("exception.message"), MESSAGE);

    let log = telemetry
        .logs
        .iter()
        .find(|l| is_error(&l.record))
        .expect("checked");
    assert_eq!(
        log.record.trace_id, span.span.trace_id,
        "in the run's trace"
    );
    assert_eq!(log.body_text(), Some(PRINTED));
    assert_eq!(log.attribute("exception.message"), Some(MESSAGE));
    assert!(
        telemetry.find_log("reading config").is_some(),
        "what it logged before failing"
    );
}

/// Nothing unwinds: the hook ends the open spans and flushes before the
/// process aborts, as it did before `init`.
#[test]
fn a_panic_with_panic_abort_is_recorded_and_flushed_before_the_abort() {
    let collector = assert_panic_recorded(&Panicked {
        bin: "panic-abort",
        span: "abort.work",
        function: "panic_abort::explode_and_abort",
        message: "abort boom",
        thread: "main",
    });
    let telemetry = collector.held();
    let outer = telemetry
        .find_span("abort.main")
        .expect("the outer span ended too");
    let inner = telemetry.find_span("abort.work").expect("checked");
    assert_eq!(outer.span.span_id, inner.span.parent_span_id);
}

/// A collector that takes the connection and never answers holds exit for
/// the shutdown bound, no longer, on `process::exit` too.
#[test]
fn process_exit_waits_at_most_the_bound_for_a_hung_collector() {
    let hung = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let endpoint = format!("http://{}", hung.local_addr().expect("address"));
    let run = after("exit-main").run(&[("OTLP_GRPC_ENDPOINT", &endpoint)]);
    assert_eq!(run.status.code(), Some(7), "{run}");
    assert!(
        run.elapsed < Duration::from_millis(6500),
        "took {:?}\n{run}",
        run.elapsed
    );
}

#[cfg(unix)]
#[test]
fn sigint_stops_a_server_without_handling_as_before_after_flushing() {
    assert_stopped_by(libc::SIGINT);
}

#[cfg(unix)]
#[test]
fn sigterm_stops_a_server_without_handling_as_before_after_flushing() {
    assert_stopped_by(libc::SIGTERM);
}

/// A disposition the program had before `init` (here inherited, as under
/// `nohup`) is left alone: SIGINT is ignored as before.
#[cfg(unix)]
#[test]
fn an_ignored_signal_stays_ignored() {
    use std::os::unix::process::CommandExt as _;

    let collector = collector(CollectorConfig::loopback());
    let mut command = program::command(
        &after("server").binary,
        &[("OTLP_GRPC_ENDPOINT", &collector.endpoint())],
    );
    // SAFETY: `signal` is async-signal-safe, as `pre_exec` requires.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut server = Running::start(command);
    let port = server_port(&server);
    request(port);
    send(&server, libc::SIGINT);
    assert!(
        server.still_running_after(Duration::from_secs(1)),
        "SIGINT ended it"
    );
    send(&server, libc::SIGTERM);
    let run = server.wait();
    assert_eq!(signal_of(&run), Some(libc::SIGTERM), "{run}");
    assert_arrived(&collector, "server.request", "request handled", &run);
}

/// tokio's handler, installed after `init`, chains to the module's: the
/// program's own graceful path runs, and what it records is exported.
#[cfg(unix)]
#[test]
fn a_program_that_handles_ctrl_c_itself_keeps_its_graceful_path() {
    let collector = collector(CollectorConfig::loopback());
    let server = Running::start(program::command(
        &after("graceful").binary,
        &[("OTLP_GRPC_ENDPOINT", &collector.endpoint())],
    ));
    server.line_starting("graceful waiting");
    send(&server, libc::SIGINT);
    let run = server.wait();
    assert!(run.status.success(), "{run}");
    assert!(run.stdout.ends_with("graceful exit\n"), "{run}");
    assert_arrived(
        &collector,
        "graceful.shutdown",
        "shutting down gracefully",
        &run,
    );
}

// ---------------------------------------------------------------------------------------------
// Assertions

fn assert_all_signals(collector: &Collector, run: &Run) {
    assert!(run.status.success(), "{run}");
    assert!(!run.stderr.contains(WARNING), "{run}");
    let arrived = collector.wait_until(ARRIVAL_TIMEOUT, |t| {
        t.find_span("all.work").is_some()
            && t.find_log("all work done").is_some()
            && t.find_metric("lifecycle.runs").is_some()
    });
    assert!(
        arrived,
        "incomplete: {:?}\n{run}",
        summary(&collector.held())
    );
    let telemetry = collector.held();
    let span = telemetry.find_span("all.work").expect("checked");
    let log = telemetry.find_log("all work done").expect("checked");
    assert_eq!(
        log.record.trace_id, span.span.trace_id,
        "the log is the span's"
    );
}

/// The `cli` binary with `env` after `init`, compared with its run before.
fn cli_against(env: &[(&str, &str)]) -> Run {
    let before = before("cli").run(&[]);
    let after = after("cli").run(env);
    assert_eq!(after.stdout, before.stdout, "stdout changed\n{after}");
    assert_eq!(after.status.code(), before.status.code(), "{after}");
    after
}

/// Done in time, and `needle` on exactly one line of stderr, which repeats
/// none of the module's lines.
#[track_caller]
fn assert_unchanged_and_named_once(run: &Run, needle: &str) {
    assert!(run.elapsed < EXIT_LIMIT, "took {:?}\n{run}", run.elapsed);
    let naming = run.stderr.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(naming, 1, "{needle:?} on {naming} lines\n{run}");
    let mut said = BTreeMap::new();
    for line in run.stderr.lines().filter(|l| l.starts_with(WARNING)) {
        *said.entry(line).or_insert(0) += 1;
    }
    assert!(said.values().all(|&n| n == 1), "a line repeated\n{run}");
}

/// The exit code of the build before `init`, and what came before the exit
/// at the collector.
fn assert_exit_flushes(bin: &str, span: &str, log: &str) -> Collector {
    let before = before(bin).run(&[]);
    let collector = collector(CollectorConfig::loopback());
    let run = after(bin).run(&[("OTLP_GRPC_ENDPOINT", &collector.endpoint())]);
    assert_eq!(run.status.code(), before.status.code(), "{run}");
    assert_eq!(run.stdout, before.stdout, "{run}");
    assert!(run.elapsed < EXIT_LIMIT, "took {:?}\n{run}", run.elapsed);
    assert_arrived(&collector, span, log, &run);
    collector
}

/// A program that panics, and what the panic must look like in telemetry.
struct Panicked {
    bin: &'static str,
    /// The span open around the panic.
    span: &'static str,
    /// Named by a frame of the stack trace.
    function: &'static str,
    message: &'static str,
    thread: &'static str,
}

/// At the collector: the span with status Error and an `exception` event
/// whose stack trace names the panicking function, and an ERROR log record
/// in its trace with the same attributes. The program prints what it printed
/// with telemetry off, and ends as it did before `init`.
fn assert_panic_recorded(case: &Panicked) -> Collector {
    let before = before(case.bin).run(&[]);
    let disabled = after(case.bin).run(&[("OTEL_SDK_DISABLED", "true")]);
    let collector = collector(CollectorConfig::loopback());
    let run = after(case.bin).run(&[("OTLP_GRPC_ENDPOINT", &collector.endpoint())]);
    assert_eq!(run.status.to_string(), before.status.to_string(), "{run}");
    assert_eq!(run.stdout, before.stdout, "{run}");
    assert_eq!(mask(&run.stderr), mask(&disabled.stderr), "{run}");
    let panicked = format!("thread '{}' panicked at ", case.thread);
    assert!(mask(&run.stderr).contains(&panicked), "{run}");
    assert!(run.elapsed < EXIT_LIMIT, "took {:?}\n{run}", run.elapsed);

    let arrived = collector.wait_until(ARRIVAL_TIMEOUT, |t| {
        t.find_span(case.span).is_some() && t.logs.iter().any(|l| is_error(&l.record))
    });
    assert!(
        arrived,
        "incomplete: {:?}\n{run}",
        summary(&collector.held())
    );
    let telemetry = collector.held();
    let span = telemetry.find_span(case.span).expect("checked");
    let event = failed_with(&span.span, case.message);
    let attribute = |key| string_attribute(&event.attributes, key).unwrap_or_default();
    assert_eq!(attribute("exception.type"), "panic");
    assert_eq!(attribute("exception.message"), case.message);
    assert_eq!(attribute("thread.name"), case.thread);
    assert!(attribute("code.file.path").ends_with(&format!("{}.rs", case.bin)));
    let stacktrace = attribute("exception.stacktrace");
    assert_frames(stacktrace, case.function);

    let log = telemetry
        .logs
        .iter()
        .find(|l| is_error(&l.record))
        .expect("checked");
    assert_eq!(
        log.record.trace_id, span.span.trace_id,
        "in the span's trace"
    );
    assert_eq!(log.record.span_id, span.span.span_id, "on the span");
    let body = log.body_text().unwrap_or_default();
    assert!(body.starts_with(&panicked), "{body}");
    assert!(body.ends_with(&format!(": {}", case.message)), "{body}");
    assert_eq!(log.attribute("exception.message"), Some(case.message));
    assert_eq!(log.attribute("exception.stacktrace"), Some(stacktrace));
    collector
}

/// One frame per line, numbered from 0 as `RUST_BACKTRACE=1` shows them,
/// without the panic machinery above the panicking function.
#[track_caller]
fn assert_frames(stacktrace: &str, function: &str) {
    let frames: Vec<&str> = stacktrace
        .lines()
        .filter(|l| !l.trim_start().starts_with("at "))
        .collect();
    assert!(frames.len() > 1, "{stacktrace}");
    assert!(frames[0].starts_with("   0: "), "{stacktrace}");
    let at = frames.iter().position(|f| f.ends_with(function));
    assert!(
        at.is_some_and(|i| i <= 3),
        "{function} near the top of\n{stacktrace}"
    );
    assert!(!stacktrace.contains("force_capture"), "{stacktrace}");
}

/// The span's `exception` event, the span's status being Error with `message`.
#[track_caller]
fn failed_with<'a>(
    span: &'a opentelemetry_proto::tonic::trace::v1::Span,
    message: &str,
) -> &'a opentelemetry_proto::tonic::trace::v1::span::Event {
    let status = span.status.as_ref().expect("a status");
    assert_eq!(status.code, 2, "status Error: {status:?}");
    assert_eq!(status.message, message);
    span.events
        .iter()
        .find(|e| e.name == "exception")
        .unwrap_or_else(|| panic!("no exception event: {:?}", span.events))
}

fn is_error(record: &opentelemetry_proto::tonic::logs::v1::LogRecord) -> bool {
    record.severity_number == 17 && record.severity_text == "ERROR"
}

/// `text` without the console's timestamps and the thread ids the standard
/// panic hook prints (`thread 'main' (4242) panicked at`).
fn mask(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = match line.split_once(' ') {
                Some((first, rest)) if first.len() > 20 && first.ends_with('Z') => {
                    format!("<time> {rest}")
                }
                _ => line.to_owned(),
            };
            match line.split_once("' (") {
                Some((thread, rest)) if line.starts_with("thread '") => {
                    let after = rest.split_once(") panicked at ").map(|(_, r)| r);
                    after.map_or_else(|| line.clone(), |r| format!("{thread}' panicked at {r}"))
                }
                _ => line,
            }
        })
        .map(|line| line + "\n")
        .collect()
}

#[cfg(unix)]
fn assert_stopped_by(signal: i32) {
    let before = Running::start(program::command(&before("server").binary, &[]));
    server_port(&before);
    send(&before, signal);
    let before = before.wait();
    assert_eq!(signal_of(&before), Some(signal), "{before}");

    let collector = collector(CollectorConfig::loopback());
    let server = Running::start(program::command(
        &after("server").binary,
        &[("OTLP_GRPC_ENDPOINT", &collector.endpoint())],
    ));
    let port = server_port(&server);
    request(port);
    send(&server, signal);
    let run = server.wait();
    assert_eq!(signal_of(&run), signal_of(&before), "{run}");
    assert!(run.elapsed < Duration::from_secs(30), "{run}");
    assert_arrived(&collector, "server.request", "request handled", &run);
}

fn assert_arrived(collector: &Collector, span: &str, log: &str, run: &Run) {
    let arrived = collector.wait_until(ARRIVAL_TIMEOUT, |t| {
        t.find_span(span).is_some() && t.find_log(log).is_some()
    });
    assert!(
        arrived,
        "incomplete: {:?}\n{run}",
        summary(&collector.held())
    );
}

fn summary(t: &Held) -> (Vec<String>, Vec<String>) {
    let spans = t.spans.iter().map(|v| v.span.name.clone()).collect();
    let logs = t
        .logs
        .iter()
        .map(|v| v.body_text().unwrap_or_default().to_owned())
        .collect();
    (spans, logs)
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn collector(config: CollectorConfig) -> Collector {
    Collector::start(config)
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

fn unused_port() -> std::net::SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr")
}

fn server_port(server: &Running) -> u16 {
    let line = server.line_starting("listening on ");
    line["listening on ".len()..].parse().expect("a port")
}

/// One request, answered.
fn request(port: u16) {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    stream.write_all(b"hello\n").expect("send");
    let mut answer = String::new();
    BufReader::new(stream)
        .read_line(&mut answer)
        .expect("answer");
    assert_eq!(answer, "ok\n");
}

#[cfg(unix)]
fn send(running: &Running, signal: i32) {
    let pid = i32::try_from(running.id()).expect("a pid");
    // SAFETY: kill only sends a signal to the child this test started.
    let sent = unsafe { libc::kill(pid, signal) };
    assert_eq!(sent, 0, "kill failed");
}

#[cfg(unix)]
fn signal_of(run: &Run) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt as _;
    run.status.signal()
}

// ---------------------------------------------------------------------------------------------
// One-time setup: build before, init, build after

const FIXTURE: &str = "tests/fixtures/e2e/lifecycle";
/// The binaries built before `init` too.
const BINS: [&str; 12] = [
    "cli",
    "error-main",
    "exit-main",
    "exit-run",
    "exit-helper",
    "exit-thread",
    "panics",
    "panic-thread",
    "panic-task",
    "panic-abort",
    "server",
    "graceful",
];
/// Built with `-C panic=abort`, given to this binary only: the dependencies
/// stay the ones the other binaries use, and `cfg!(panic = "abort")` holds in
/// the crate as it would with `panic = "abort"` in a profile.
const ABORTING: &str = "panic-abort";
/// Copied into `src/bin` after `init`: they use what it adds.
const AFTER_ONLY: [&str; 2] = ["all-signals", "strict"];

struct Program {
    binary: PathBuf,
}

impl Program {
    fn run(&self, env: &[(&str, &str)]) -> Run {
        program::run(&self.binary, env)
    }
}

fn before(bin: &str) -> Program {
    Program {
        binary: program::binary(&built().before, bin),
    }
}

fn after(bin: &str) -> Program {
    Program {
        binary: program::binary(&built().after, bin),
    }
}

struct Built {
    before: PathBuf,
    after: PathBuf,
    _scratch: tempfile::TempDir,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Result<Built, String>> = OnceLock::new();
    match BUILT.get_or_init(|| support::setup_once(build)) {
        Ok(built) => built,
        Err(message) => panic!("setup failed: {message}"),
    }
}

fn build() -> Built {
    // Shared with the other end-to-end tests: the stack is compiled once.
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-init-target");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let sources = scratch.path().join("lifecycle");
    support::copy_tree(&support::repo_root().join(FIXTURE), &sources);

    cargo_build(&sources, &target_dir);
    let before = scratch.path().join("before");
    std::fs::create_dir_all(&before).expect("the before directory");
    for bin in BINS {
        let name = program::binary(Path::new(""), bin);
        std::fs::copy(target_dir.join("debug").join(&name), before.join(&name))
            .unwrap_or_else(|e| panic!("copy {bin}: {e}"));
    }
    for bin in BINS {
        let output = support::cargo_otel(&sources)
            .args(["init", "--bin", bin])
            .output()
            .expect("run cargo-otel");
        assert!(
            output.status.success(),
            "`cargo otel init --bin {bin}` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for bin in AFTER_ONLY {
        let file = format!("{bin}.rs");
        std::fs::copy(
            sources.join("after").join(&file),
            sources.join("src/bin").join(&file),
        )
        .expect("copy a program that needs the module");
    }
    cargo_build(&sources, &target_dir);
    Built {
        before,
        after: target_dir.join("debug"),
        _scratch: scratch,
    }
}

fn cargo_build(dir: &Path, target_dir: &Path) {
    cargo_quietly(dir, target_dir, &["build", "--bins"]);
    cargo_quietly(
        dir,
        target_dir,
        &["rustc", "--bin", ABORTING, "--", "-C", "panic=abort"],
    );
}

/// Runs cargo with `args`, which must succeed without a warning: the
/// generated code must not add any to the user's build.
fn cargo_quietly(dir: &Path, target_dir: &Path, args: &[&str]) {
    let output = support::output_one_build_at_a_time(
        support::cargo(dir)
            .args(args)
            .env("CARGO_TARGET_DIR", target_dir),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "cargo {args:?} failed:\n{}",
        support::cargo_errors(&stderr)
    );
    assert!(
        !stderr.contains("warning"),
        "cargo {args:?} warned:\n{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Crates initialized by an earlier version (no build needed)

/// A module from template v2 that was edited is the user's: kept, and so are
/// the calls written for it (`otel::init().expect(..)`), with a warning.
#[test]
fn an_edited_v2_module_is_kept_with_the_calls_made_for_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().join("demo");
    support::copy_tree(
        &support::repo_root().join("tests/ui/upgrade_from_v2/in"),
        &root,
    );
    let module = root.join("src/otel.rs");
    let edited = std::fs::read_to_string(&module).expect("the module") + "\n// Ours.\n";
    std::fs::write(&module, &edited).expect("edit the module");
    let main = std::fs::read_to_string(root.join("src/main.rs")).expect("main.rs");

    let output = support::cargo_otel(&root)
        .arg("init")
        .output()
        .expect("run cargo-otel");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: keeping `src/otel.rs`: it was edited since cargo-otel generated it"
        ),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&module).expect("the module"),
        edited
    );
    assert_eq!(
        std::fs::read_to_string(root.join("src/main.rs")).expect("main.rs"),
        main
    );
    assert!(main.contains("otel::init().expect("), "{main}");
}
