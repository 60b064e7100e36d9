//! The Docker test infrastructure itself (`support::docker`), against
//! the real daemon: the stand-in image behaves like the Aspire dashboard
//! container (ports, `Dashboard__*` settings, `/health`, OTLP API key, web
//! API), and the local registry serves a multi-layer copy of it for a real
//! pull with per-layer progress.
//!
//! Without a Docker daemon the tests print `SKIPPED: no Docker daemon` and
//! pass, unless `CARGO_OTEL_REQUIRE_DOCKER` is set (as in CI).

#![allow(
    clippy::print_stdout,
    reason = "the tests report timings and why they skip"
)]

use std::time::{Duration, Instant};

use crate::support;
use crate::support::docker::{
    Cleanup, DASHBOARD_PORTS, PATIENCE, TEST_LABEL, container_logs, docker, image_exists,
    inspect_container, local_registry, otlp_json_log, otlp_json_trace, post_otlp_json,
    published_ports, pull_image, push_to, run_dashboard_container, split_reference, stand_in_image,
    wait_healthy,
};
use crate::support::http::{WebSession, http};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const API_KEY: &str = "infra-test-api-key";
const TRACE_ID: &str = "5b8efff798038103d269b633813fc60c";

/// A container name no other test process uses.
fn unique(what: &str) -> String {
    format!("cargo-otel-test-{what}-{}", std::process::id())
}

#[test]
fn stand_in_behaves_like_the_dashboard_container() {
    let Some(docker) = docker() else { return };
    let stand_in = stand_in_image(&docker);
    let name = unique("stand-in");
    let mut cleanup = Cleanup::new(&docker);
    cleanup.container(&name);

    let started = Instant::now();
    let inspect = run_dashboard_container(
        &docker,
        &name,
        &stand_in.image,
        &[
            ("Dashboard__Frontend__BrowserToken", TOKEN),
            ("Dashboard__Otlp__AuthMode", "ApiKey"),
            // .NET configuration keys are case-insensitive.
            ("DASHBOARD__OTLP__PRIMARYAPIKEY", API_KEY),
        ],
    );
    let ports = published_ports(&inspect);
    assert_eq!(ports.keys().copied().collect::<Vec<_>>(), DASHBOARD_PORTS);
    let (ui, otlp_http) = (ports[&18888], ports[&18890]);
    let healthy = wait_healthy(ui, PATIENCE);
    println!(
        "container: started in {:.2}s, healthy {:.2}s later",
        (started.elapsed() - healthy).as_secs_f64(),
        healthy.as_secs_f64()
    );

    let logs = container_logs(&docker, &name);
    for line in [
        "Now listening on: http://[::]:18888",
        "OTLP/gRPC listening on: http://[::]:18889",
        "OTLP/HTTP listening on: http://[::]:18890",
        &format!("Login to the dashboard at http://localhost:18888/login?t={TOKEN}"),
    ] {
        assert!(logs.contains(line), "no `{line}` in the logs:\n{logs}");
    }

    let trace = otlp_json_trace("infra-service", "GET /infra", TRACE_ID);
    for key in [None, Some("not-the-key")] {
        let response = post_otlp_json(otlp_http, "traces", key, &trace);
        assert_eq!(response.status, 401, "key {key:?}: {}", response.text());
    }
    let response = post_otlp_json(otlp_http, "traces", Some(API_KEY), &trace);
    assert_eq!(response.status, 200, "{}", response.text());
    let log = otlp_json_log("infra-service", "hello from the infra test");
    let response = post_otlp_json(otlp_http, "logs", Some(API_KEY), &log);
    assert_eq!(response.status, 200, "{}", response.text());

    let anonymous = http(ui, "GET", "/api/summary", &[], &[]).expect("GET /api/summary");
    assert_eq!(anonymous.status, 401, "{}", anonymous.text());
    let web = WebSession::login(ui, Some(TOKEN));
    let summary = web.wait_for(Duration::from_secs(10), |s| {
        s.held.spans == 1 && s.held.logs == 1
    });
    assert_eq!(summary.services, ["infra-service"]);
    let traces = web.traces();
    assert_eq!(traces.len(), 1, "{traces:?}");
    assert_eq!(traces[0].trace_id, TRACE_ID);
    assert_eq!(traces[0].root_name, "GET /infra");
    let logs = web.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].body, "hello from the infra test");
}

#[test]
fn registry_serves_the_stand_in_for_a_real_pull() {
    let Some(docker) = docker() else { return };
    let Some(registry) = local_registry() else {
        return;
    };
    let stand_in = stand_in_image(&docker);
    // Declared after the registry, so dropped before it.
    let mut cleanup = Cleanup::new(&docker);
    let name = unique("pulled");
    cleanup.container(&name);

    let reference = push_to(&docker, &registry, stand_in);
    cleanup.image(&reference);
    assert!(reference.starts_with("127.0.0.1:"), "{reference}");
    assert!(reference.ends_with("/aspire-dashboard:13"), "{reference}");
    assert!(!image_exists(&docker, &reference));

    let pull = pull_image(&docker, &reference);
    let layers = pull.layers_downloaded();
    println!(
        "pull: {reference} ({} layers with progress) in {:.2}s",
        layers.len(),
        pull.elapsed.as_secs_f64()
    );
    // The binary's layer and two filler layers, each with its own progress.
    assert!(
        layers.len() >= 3,
        "layers with progress: {layers:?}\n{pull:#?}"
    );
    for layer in &layers {
        let statuses = pull.statuses(layer);
        for expected in [
            "Pulling fs layer",
            "Downloading",
            "Extracting",
            "Pull complete",
        ] {
            assert!(
                statuses.iter().any(|s| s == expected),
                "layer {layer}: no `{expected}` in {statuses:?}"
            );
        }
    }
    let messages = pull.messages();
    assert!(
        messages
            .iter()
            .any(|m| m == &format!("Status: Downloaded newer image for {reference}")),
        "{messages:?}"
    );
    let image = support::docker::block_on(docker.inspect_image(&reference)).expect("inspect");
    let labels = image.config.and_then(|c| c.labels).unwrap_or_default();
    assert_eq!(labels.get(TEST_LABEL).map(String::as_str), Some("1"));

    // The pulled image is a working dashboard stand-in.
    let inspect = run_dashboard_container(
        &docker,
        &name,
        &reference,
        &[("ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS", "true")],
    );
    let ports = published_ports(&inspect);
    wait_healthy(ports[&18888], PATIENCE);
    let web = WebSession::login(ports[&18888], None);
    assert_eq!(web.summary().held.spans, 0);
    let response = post_otlp_json(
        ports[&18890],
        "traces",
        None,
        &otlp_json_trace("pulled", "GET /pulled", TRACE_ID),
    );
    assert_eq!(response.status, 200, "{}", response.text());

    // Pulling again transfers nothing.
    let again = pull_image(&docker, &reference);
    assert!(again.layers_downloaded().is_empty(), "{again:#?}");
    assert!(
        again
            .messages()
            .iter()
            .any(|m| m == &format!("Status: Image is up to date for {reference}")),
        "{again:#?}"
    );
    drop(cleanup);
    assert!(inspect_container(&docker, &name).is_none());
    assert!(!image_exists(&docker, &reference));
}

#[test]
fn references_split_like_docker_pull() {
    assert_eq!(
        split_reference("127.0.0.1:5000/aspire-dashboard:13"),
        ("127.0.0.1:5000/aspire-dashboard", "13")
    );
    assert_eq!(
        split_reference("127.0.0.1:5000/aspire-dashboard"),
        ("127.0.0.1:5000/aspire-dashboard", "latest")
    );
    assert_eq!(
        split_reference("mcr.microsoft.com/dotnet/aspire-dashboard:13.1"),
        ("mcr.microsoft.com/dotnet/aspire-dashboard", "13.1")
    );
    assert_eq!(
        split_reference("ubuntu@sha256:abcd"),
        ("ubuntu", "sha256:abcd")
    );
}
