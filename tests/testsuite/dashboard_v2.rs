//! The built-in dashboard's recordings, end to end with the real binary:
//! `serve --save FILE` records what it receives, and `serve --load FILE`
//! opens the recording again, in the API and in headless Chromium.

#![expect(clippy::print_stdout, reason = "says where the screenshot is")]

use crate::support::backend::{Serve, otlp_post, serve_command, trace_id, traces};
use crate::support::chromium::{artifacts_dir, chromium};
use cargo_otel::backend::model::TraceSummary;
use prost::Message as _;

const PROTOBUF: &str = "application/x-protobuf";

#[test]
fn a_saved_run_opens_again_with_load() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("run.jsonl");
    let saved_arg = saved.to_str().unwrap();
    let serve = Serve::start(dir.path(), &["--save", saved_arg]);
    let body = traces("recorded-svc", 7, 3, 2, 0).encode_to_vec();
    let response = otlp_post(
        serve.http,
        "traces",
        PROTOBUF,
        Some(&serve.api_key()),
        &body,
    );
    assert_eq!(response.status, 200, "{}", response.text());
    let (status, stderr) = serve.interrupt();
    assert!(status.success(), "{status}: {stderr}");

    let serve = Serve::start(dir.path(), &["--load", saved_arg]);
    let stderr = serve.stderr();
    assert!(
        stderr.contains(&format!("Loaded 1 export requests from {saved_arg}")),
        "{stderr}"
    );
    let listed: Vec<TraceSummary> = serve.web().json("/api/traces");
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(listed.iter().all(|t| t.service == "recorded-svc"));

    let Some(chromium) = chromium() else { return };
    let id: String = trace_id(7, 1).iter().map(|b| format!("{b:02x}")).collect();
    let url = |hash: &str| {
        let hash = hash.replace('#', "%23").replace('/', "%2F");
        format!(
            "http://{}/login?t={}&returnUrl=%2F{hash}",
            serve.ui, serve.token
        )
    };
    let dom = chromium.dump_dom(&url(&format!("#/traces/{id}")));
    assert!(dom.contains(r#"data-span-name="GET /items/1""#), "{dom}");
    assert!(dom.contains(r#"data-span-name="step 1""#), "{dom}");
    let path = artifacts_dir().join("issue-17-loaded.png");
    chromium.screenshot(&url("#/traces"), &path, &[]);
    println!("screenshot: {}", path.display());
}

#[test]
fn a_file_that_is_no_recording_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.txt");
    std::fs::write(&bad, "resourceSpans, but not JSON\n").unwrap();
    let output = serve_command(dir.path())
        .arg("--load")
        .arg(&bad)
        .output()
        .expect("cargo otel serve runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("line 1 is not an OTLP/JSON export request"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: `--load` reads what `--save` wrote"),
        "{stderr}"
    );
}
