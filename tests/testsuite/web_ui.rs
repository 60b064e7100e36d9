//! The built-in dashboard end to end: its router on 127.0.0.1, headless
//! Chromium loading the pages (every route's view, the waterfall in the DOM,
//! the login wall, screenshots; the page's console must stay empty), and plain
//! HTTP/1.1 requests for the login, asset and API rules.
//!
//! The store is filled through `Store::ingest_*` with hand-built OTLP
//! requests, and once more the real way: a whole `Backend` receiving an
//! OTLP/HTTP protobuf export. Screenshots land in `target/web-ui-artifacts/`.
//!
//! Without `/usr/bin/chromium` the browser tests print `SKIPPED: no Chromium`
//! and pass, unless `CARGO_OTEL_REQUIRE_CHROMIUM` is set (as in CI).

#![allow(
    clippy::print_stdout,
    reason = "tests print where their screenshots are and why they skip"
)]

use std::{
    env, fs,
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::Response as AxumResponse,
};
use cargo_otel::backend::{
    Backend, BackendConfig, Caps, Store,
    web::{WebConfig, router},
};
use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    },
    common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value},
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    metrics::v1::{
        AggregationTemporality, Exemplar, Gauge, Histogram, HistogramDataPoint, Metric,
        NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, exemplar, metric::Data,
        number_data_point,
    },
    resource::v1::Resource,
    trace::v1::{
        ResourceSpans, ScopeSpans, Span, Status,
        span::{Event, SpanKind},
        status,
    },
};
use prost::Message as _;
use tokio::runtime::Runtime;

use crate::support::{
    chromium::{artifacts_dir, assert_quiet_console, chromium},
    http::{HttpResponse, http},
};

const TOKEN: &str = "web-ui-test-token-5f1c2a";

const TRACE_ID: &str = "5b8efff798038103d269b633813fc60c";
const ROOT: (&str, &str) = ("eee19b7ec3c1b174", "GET /checkout");
const CART: (&str, &str) = ("eee19b7ec3c1b175", "load cart");
const CHARGE: (&str, &str) = ("eee19b7ec3c1b176", "charge card");

// ---------------------------------------------------------------------------------------------
// Browser tests

#[test]
fn trace_detail_shows_the_waterfall_after_login() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    let dom = chromium.dump_dom(&server.login_url(&format!("/#/traces/{TRACE_ID}")));
    assert_waterfall(&dom);
}

#[test]
fn without_the_token_the_browser_gets_the_login_page() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    for url in [
        server.url(&format!("/#/traces/{TRACE_ID}")),
        server.url("/login?t=not-the-token"),
    ] {
        let dom = chromium.dump_dom(&url);
        assert!(
            dom.contains(r#"id="login-form""#),
            "no login form at {url}:\n{dom}"
        );
        assert!(dom.contains(r#"name="t""#), "no token field at {url}");
        assert!(
            !dom.contains("data-span-name"),
            "waterfall shown without login at {url}"
        );
        assert!(
            !dom.contains("not-the-token"),
            "the wrong token was echoed at {url}"
        );
    }
}

#[test]
fn screenshots_of_every_view() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    let dir = artifacts_dir();
    let detail = server.login_url(&format!("/#/traces/{TRACE_ID}?span={}", CHARGE.0));
    let views: [(&str, String, &[&str]); 7] = [
        ("trace-detail.png", detail.clone(), &[]),
        ("trace-detail-dark.png", detail, &["--force-dark-mode"]),
        ("traces.png", server.login_url("/#/traces"), &[]),
        ("logs.png", server.login_url("/#/logs"), &[]),
        ("metrics.png", server.login_url("/#/metrics"), &[]),
        ("login.png", server.url("/#/logs"), &[]),
        ("bad-link.png", server.login_url("/#/traces/%E0%A4%A"), &[]),
    ];
    for (file, url, extra) in views {
        let path = dir.join(file);
        let _ = fs::remove_file(&path);
        chromium.screenshot(&url, &path, extra);
        let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "{} is missing or blank ({size} bytes)",
            path.display()
        );
        println!("screenshot: {}", path.display());
    }
}

/// An exception's stack trace shows one frame per line, in the span's detail
/// and in the log record's Exception section, starting at the frame that
/// panicked (std's panic machinery folded), the frames past twelve behind a
/// button; the trace is marked in the list and found by
/// "errors only".
#[test]
fn exceptions_show_their_stack_trace_one_frame_per_line() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    let span =
        chromium.dump_dom(&server.login_url(&format!("/#/traces/{TRACE_ID}?span={}", CHARGE.0)));
    let log = chromium.dump_dom(&server.login_url("/#/logs/4"));
    for (what, dom) in [("span detail", &span), ("log detail", &log)] {
        assert_frames(what, dom);
        assert!(
            dom.contains("Show all 16 frames (4 more, 2 of the panic machinery)"),
            "{what}:\n{dom}"
        );
        assert!(dom.contains(">Copy</button>"), "{what}: no copy button");
        assert!(dom.contains("PaymentError"), "{what}");
    }
    assert!(log.contains("<h3>Exception</h3>"), "{log}");
    for needle in [
        "payment failed: card declined",
        "<h3>Resource (1)</h3>",
        &format!(r##"href="#/traces/{TRACE_ID}?span={}""##, CHARGE.0),
    ] {
        assert!(log.contains(needle), "{needle} in\n{log}");
    }

    let list = chromium.dump_dom(&server.login_url("/#/traces?errors=true"));
    let mark = start_tag_with(&list, "data-exception").expect("the trace marked");
    assert!(mark.contains("PaymentError: card declined"), "{mark}");
    let logs = chromium.dump_dom(&server.login_url("/#/logs"));
    assert!(
        logs.contains(r##"href="#/logs/4""##),
        "a record links to its detail"
    );

    let dir = artifacts_dir();
    for (file, url) in [
        (
            "issue-14-span-stacktrace.png",
            format!("/#/traces/{TRACE_ID}?span={}", CHARGE.0),
        ),
        ("issue-14-log-detail.png", "/#/logs/4".to_owned()),
        (
            "issue-14-traces-errors.png",
            "/#/traces?errors=true".to_owned(),
        ),
    ] {
        let path = dir.join(file);
        chromium.screenshot(&server.login_url(&url), &path, &[]);
        println!("screenshot: {}", path.display());
    }
}

/// Each frame its own element, holding its function and, on a line of its
/// own, its location; the two frames of std's panic machinery folded, the
/// next twelve shown, the runtime's frames dimmed.
#[track_caller]
fn assert_frames(what: &str, dom: &str) {
    for (index, name) in FRAMES.iter().enumerate() {
        let tag = start_tag_with(dom, &format!(r#"data-frame="{index}""#))
            .unwrap_or_else(|| panic!("{what}: no frame {index}:\n{dom}"));
        assert_eq!(
            tag.contains("hidden"),
            !(2..14).contains(&index),
            "{what}: {tag}"
        );
        assert_eq!(
            tag.contains("frame-library"),
            index >= 2
                && ["std::", "tokio::", "tower::", "hyper::"]
                    .iter()
                    .any(|runtime| name.starts_with(runtime)),
            "{what}: {tag}"
        );
        let at = dom.find(tag).expect("found");
        let frame = &dom[at..at + dom[at..].find("</div></div>").expect("a closed frame")];
        let name = name.replace('<', "&lt;").replace('>', "&gt;");
        assert!(
            frame.contains(&format!(r#"<div class="frame-fn">{index}: {name}</div>"#)),
            "{what}: frame {index}: {frame}"
        );
        assert!(
            frame.contains(&format!(
                r#"<div class="frame-at">at ./src/frame_{index}.rs:"#
            )),
            "{what}: frame {index}: {frame}"
        );
    }
}

/// A histogram reads as count, average and percentiles (each within the
/// bounds of the bucket holding it, with its unit), grouped under its service
/// and meter; its instrument view draws a line per route with axes and an
/// exemplar linking to its trace, filters by route and shows a table.
#[test]
fn histograms_show_percentiles_and_the_instrument_view_charts_them() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    let list = chromium.dump_dom(&server.login_url("/#/metrics?q=duration"));
    let checkout = list
        .find(r#"title="http.route=/checkout""#)
        .expect("the /checkout row");
    let row = &list[checkout..];
    let stats = start_tag_with(row, "data-p50").expect("the statistics");
    let stat = |name: &str| -> f64 {
        let value = stats
            .split(&format!(r#"data-{name}=""#))
            .nth(1)
            .and_then(|v| v.split('"').next());
        value
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {stats}"))
    };
    assert!((25.0..=50.0).contains(&stat("p50")), "{stats}");
    assert!((75.0..=100.0).contains(&stat("p90")), "{stats}");
    assert!((75.0..=100.0).contains(&stat("p99")), "{stats}");
    for needle in [
        "<dt>P50</dt>",
        "<dt>P99</dt>",
        "<dt>Avg</dt>",
        " ms</dd>",
        "linear interpolation",
    ] {
        assert!(list.contains(needle), "{needle} in:\n{list}");
    }
    assert!(
        list.contains(r#"data-meter="checkout::metrics""#),
        "grouped by meter:\n{list}"
    );

    let instrument = "/#/metrics/shop-api/http.server.duration";
    let chart = chromium.dump_dom(&server.login_url(instrument));
    assert!(chart.contains(r#"class="timechart""#), "{chart}");
    for route in ["http.route=/checkout", "http.route=/cart"] {
        assert!(
            chart.contains(&format!(r#"data-line="{route}""#)),
            "{route}:\n{chart}"
        );
    }
    let exemplar = format!(r##"href="#/traces/{TRACE_ID}?span={}""##, CHARGE.0);
    assert!(
        chart.contains(&exemplar),
        "the exemplar links to its trace:\n{chart}"
    );
    let filtered = chromium.dump_dom(&server.login_url(&format!(
        "{instrument}?where=http.route%3D%2Fcart&window=5m"
    )));
    assert!(
        filtered.contains(r#"data-line="http.route=/cart""#),
        "{filtered}"
    );
    assert!(
        !filtered.contains(r#"data-line="http.route=/checkout""#),
        "{filtered}"
    );
    let table = chromium.dump_dom(&server.login_url(&format!("{instrument}?view=table&stat=p90")));
    assert!(table.contains(r#"data-table="points""#), "{table}");
    assert_eq!(
        table.matches("<td>http.route=").count(),
        16 + 2,
        "eight points a route, and the latest:\n{table}"
    );

    let dir = artifacts_dir();
    for (file, hash) in [
        ("issue-17-metrics.png", "/#/metrics".to_owned()),
        ("issue-17-instrument-chart.png", instrument.to_owned()),
        (
            "issue-17-instrument-table.png",
            format!("{instrument}?view=table"),
        ),
    ] {
        let path = dir.join(file);
        chromium.screenshot(&server.login_url(&hash), &path, &[]);
        println!("screenshot: {}", path.display());
    }
}

/// Attribute filters (key, operator, value) narrow traces and logs, and a
/// duration range narrows traces; the controls show the filter from the hash.
#[test]
fn attribute_and_duration_filters_narrow_the_lists() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    let listed = |hash: &str| chromium.dump_dom(&server.login_url(hash));
    let trace = format!(r#"data-trace-id="{TRACE_ID}""#);
    for (hash, shown) in [
        ("/#/traces?attr=cart.id%3Dc-42", true),
        ("/#/traces?attr=cart.id%3Dc-43", false),
        ("/#/traces?attr=cart.id!%3Dc-42", false),
        ("/#/traces?attr=payment.provider~ACME", true),
        ("/#/traces?attr=service.name%3Dshop-api", true),
        ("/#/traces?min_duration_ms=100000", false),
        ("/#/traces?max_duration_ms=100000&min_duration_ms=1", true),
    ] {
        let dom = listed(hash);
        assert_eq!(dom.contains(&trace), shown, "{hash}:\n{dom}");
        if !shown {
            assert!(dom.contains("No matching traces"), "{hash}:\n{dom}");
        }
    }
    let dom = listed("/#/traces?attr=payment.provider~ACME");
    let key = start_tag_with(&dom, r#"class="attr-key""#).expect("the key box");
    assert!(key.contains(r#"value="payment.provider""#), "{key}");
    let logs = listed("/#/logs?attr=user.id%3Du-7");
    assert!(logs.contains("checkout started"), "{logs}");
    assert!(!logs.contains("listening on 127.0.0.1"), "{logs}");
    assert!(logs.contains(">1 record<"), "{logs}");
    let response = server.get("/api/traces?attr=no-operator", Some(&server.sign_in()));
    assert_eq!(response.status, 400, "{}", response.text());
    screenshot(
        &chromium,
        &server,
        "issue-17-filters.png",
        "/#/traces?attr=payment.provider~ACME&min_duration_ms=1",
    );
}

/// Past a page of 500, the list pages: "Older" to the next 500, "Newer" back.
#[test]
fn lists_page_past_five_hundred() {
    let Some(chromium) = chromium() else { return };
    let store = Store::new(Caps::default());
    let now = now_ns();
    for i in 0..520u64 {
        let mut request = late_trace(now - i * MS);
        let span = &mut request.resource_spans[0].scope_spans[0].spans[0];
        span.trace_id = hex(&format!("{:032x}", 0xabc0_0000 + i));
        store.ingest_traces(request);
    }
    let server = Server::serve(Some(TOKEN), store, |app| app);
    let rows = |dom: &str| dom.matches("data-trace-id=").count();
    let first = chromium.dump_dom(&server.login_url("/#/traces"));
    assert_eq!(rows(&first), 500);
    assert!(first.contains(r#"data-page="older""#) && !first.contains(r#"data-page="newer""#));
    assert!(first.contains("1–500, newest first"), "{first}");
    assert!(!first.contains(">null<"), "{first}");
    let second = chromium.dump_dom(&server.login_url("/#/traces?page=1"));
    assert_eq!(rows(&second), 20);
    assert!(second.contains(r#"data-page="newer""#) && !second.contains(r#"data-page="older""#));
    assert!(second.contains("501–520"), "{second}");
    screenshot(
        &chromium,
        &server,
        "issue-17-paging.png",
        "/#/traces?page=1",
    );
}

/// A paused page (`?paused`, what the Pause button sets) keeps its view
/// while data arrives, and says so; the counts still move.
#[test]
fn a_paused_page_does_not_pick_up_new_traces() {
    let Some(chromium) = chromium() else { return };
    let server = LateArrival::server();
    let dom = chromium.dump_dom(&server.login_url("/?paused#/traces"));
    assert!(
        dom.contains(&format!(r#"data-trace-id="{TRACE_ID}""#)),
        "{dom}"
    );
    assert!(
        !dom.contains(&format!(r#"data-trace-id="{LATE_TRACE_ID}""#)),
        "paused, yet updated:\n{dom}"
    );
    let button = &dom[dom
        .find(r#"data-control="pause""#)
        .expect("the pause button")..];
    assert!(
        button[button.find('>').unwrap_or(0) + 1..].starts_with("Resume"),
        "{button}"
    );
    assert!(
        dom.contains("paused · 2 traces"),
        "the counts move on:\n{dom}"
    );
    screenshot(
        &chromium,
        &server,
        "issue-17-paused.png",
        "/?paused#/traces",
    );
}

/// `POST /api/clear` takes out everything, or one service's telemetry; it
/// needs the dashboard's own header, a loopback host and no foreign origin.
#[test]
fn clear_takes_out_all_or_one_service() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    let cookie = server.sign_in();
    let post = |path: &str, extra: &[(&str, &str)]| {
        let mut headers = vec![("Cookie", cookie.as_str())];
        headers.extend_from_slice(extra);
        http(server.addr, "POST", path, &headers, b"").expect("POST")
    };
    let action = ("x-cargo-otel-action", "clear");
    for refused in [
        post("/api/clear", &[]),
        post("/api/clear", &[action, ("Origin", "http://evil.example")]),
        post("/api/clear", &[action, ("Host", "evil.example")]),
    ] {
        assert_eq!(refused.status, 403, "{}", refused.text());
    }
    let unauthenticated = http(server.addr, "POST", "/api/clear", &[action], b"").expect("POST");
    assert_eq!(unauthenticated.status, 401);
    assert!(
        server
            .get("/api/summary", Some(&cookie))
            .text()
            .contains("shop-api")
    );

    let origin = format!("http://{}", server.addr);
    let cleared = post(
        "/api/clear?service=no-such-service",
        &[action, ("Origin", &origin)],
    );
    assert_eq!(cleared.status, 200, "{}", cleared.text());
    assert!(
        cleared.text().contains(r#""spans":3"#),
        "nothing of shop-api went: {}",
        cleared.text()
    );
    let cleared = post("/api/clear?service=shop-api", &[action]);
    assert_eq!(cleared.status, 200, "{}", cleared.text());
    assert!(
        cleared
            .text()
            .contains(r#""held":{"traces":0,"spans":0,"logs":0,"metric_points":0}"#),
        "{}",
        cleared.text()
    );
    let dom = chromium.dump_dom(&server.login_url("/#/traces"));
    assert!(dom.contains("No traces yet"), "{dom}");
    assert!(dom.contains(r#"data-control="clear""#), "{dom}");
    screenshot(&chromium, &server, "issue-17-cleared.png", "/#/metrics");
}

/// A trace, and the traces or logs a filter selects, download as OTLP/JSON
/// export requests (what `--save` writes and `--load` reads).
#[test]
fn traces_and_logs_export_as_otlp_json() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    let cookie = server.sign_in();
    let response = server.get(&format!("/api/traces/{TRACE_ID}/otlp"), Some(&cookie));
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header("content-disposition"),
        Some(format!(r#"attachment; filename="trace-{TRACE_ID}.json""#).as_str())
    );
    let request: ExportTraceServiceRequest =
        serde_json::from_slice(&response.body).expect("OTLP/JSON");
    let spans: Vec<_> = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    assert_eq!(spans.len(), 3, "{}", response.text());
    assert!(
        response
            .text()
            .contains(&format!(r#""traceId":"{TRACE_ID}""#)),
        "hex ids, as OTLP/JSON has them"
    );
    let logs = server.get("/api/export/logs?attr=user.id%3Du-7", Some(&cookie));
    let logs: ExportLogsServiceRequest = serde_json::from_slice(&logs.body).expect("OTLP/JSON");
    let records: Vec<_> = logs
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .collect();
    assert_eq!(records.len(), 1, "{logs:?}");

    let dom = chromium.dump_dom(&server.login_url(&format!("/#/traces/{TRACE_ID}")));
    let link = start_tag_with(&dom, "data-export").expect("the export link");
    assert!(
        link.contains(&format!(r#"href="/api/traces/{TRACE_ID}/otlp""#)),
        "{link}"
    );
    let list = chromium.dump_dom(&server.login_url("/#/logs?level=warn"));
    let link = start_tag_with(&list, "data-export").expect("the export link");
    assert!(link.contains("/api/export/logs?level=warn"), "{link}");
    screenshot(
        &chromium,
        &server,
        "issue-17-export.png",
        &format!("/#/traces/{TRACE_ID}"),
    );
}

/// A trace's waterfall folds a span's children away (`collapsed`), marks
/// the spans a search finds and dims the rest (`find`), and draws each span's
/// log records on its bar.
#[test]
fn the_waterfall_folds_finds_and_shows_log_records() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    let trace = format!("/#/traces/{TRACE_ID}");
    let folded = chromium.dump_dom(&server.login_url(&format!("{trace}?collapsed={}", ROOT.0)));
    assert!(
        folded.contains(&format!(r#"data-span-name="{}""#, ROOT.1)),
        "{folded}"
    );
    assert!(
        !folded.contains(&format!(r#"data-span-name="{}""#, CART.1)),
        "{folded}"
    );
    assert!(folded.contains(r#"data-hidden="2""#), "{folded}");
    assert!(folded.contains(r#"data-fold="collapsed""#), "{folded}");

    let found = chromium.dump_dom(&server.login_url(&format!("{trace}?find=acme")));
    let charge =
        start_tag_with(&found, &format!(r#"data-span-name="{}""#, CHARGE.1)).expect("the row");
    assert!(charge.contains("match"), "{charge}");
    let root = start_tag_with(&found, &format!(r#"data-span-name="{}""#, ROOT.1)).expect("the row");
    assert!(root.contains("dimmed"), "{root}");
    assert!(found.contains("1 of 3 spans match"), "{found}");

    let plain = chromium.dump_dom(&server.login_url(&trace));
    let ticks = plain.matches("class=\"log-tick").count();
    assert!(ticks >= 3, "log records on the bars ({ticks}):\n{plain}");
    assert!(plain.contains(r#"class="log-tick error""#), "{plain}");
    screenshot(
        &chromium,
        &server,
        "issue-17-waterfall-find.png",
        &format!("{trace}?find=acme"),
    );
}

/// Saves a screenshot of `hash` to the artifacts directory and says where.
fn screenshot(
    chromium: &crate::support::chromium::Chromium,
    server: &Server,
    file: &str,
    hash: &str,
) {
    let path = artifacts_dir().join(file);
    chromium.screenshot(&server.login_url(hash), &path, &[]);
    println!("screenshot: {}", path.display());
}

/// A trace that arrives while the page is open shows up without a reload:
/// the server stores it just before answering the page's second summary poll,
/// so the page must notice the new version and refetch the list.
#[test]
fn the_open_page_picks_up_new_traces() {
    let Some(chromium) = chromium() else { return };
    let server = LateArrival::server();
    let dom = chromium.dump_dom(&server.login_url("/#/traces"));
    for id in [TRACE_ID, LATE_TRACE_ID] {
        assert!(
            dom.contains(&format!(r#"data-trace-id="{id}""#)),
            "trace {id} is not listed:\n{dom}"
        );
    }
}

/// Runs of `dash --watch` (the `cargo_otel.run` resource attribute): a trace shows its run,
/// and the run's badge lists that run alone, with a chip that says so.
#[test]
fn runs_are_labelled_and_filter_the_lists() {
    let Some(chromium) = chromium() else { return };
    let store = sample_store(Caps::default());
    let mut second = late_trace(now_ns());
    let resource = second.resource_spans[0]
        .resource
        .as_mut()
        .expect("a resource");
    let run = cargo_otel::backend::model::RUN;
    resource.attributes.push(attr(run, Value::IntValue(2)));
    store.ingest_traces(second);
    let server = Server::serve(Some(TOKEN), store, |app| app);
    let listed = |hash: &str| chromium.dump_dom(&server.login_url(hash));
    let row = |id: &str| format!(r#"data-trace-id="{id}""#);

    let all = listed("/#/traces");
    assert!(
        all.contains(&row(TRACE_ID)) && all.contains(&row(LATE_TRACE_ID)),
        "{all}"
    );
    let badge = start_tag_with(&all, r#"class="run-badge""#).expect("a run badge");
    assert!(badge.contains(r##"href="#/traces?run=2""##), "{badge}");
    assert_eq!(all.matches(r#"class="run-badge""#).count(), 1, "{all}");

    let only = listed("/#/traces?run=2");
    assert!(only.contains(&row(LATE_TRACE_ID)), "{only}");
    assert!(!only.contains(&row(TRACE_ID)), "{only}");
    assert!(only.contains(r#"data-filter="run""#), "{only}");
    assert!(listed("/#/traces?run=3").contains("No matching traces"));
    screenshot(&chromium, &server, "issue-19-runs.png", "/#/traces");
}

const LATE_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

#[derive(Clone)]
struct LateArrival {
    store: Store,
    polls: Arc<AtomicUsize>,
}

impl LateArrival {
    /// The sample telemetry served, with the late trace arriving at the
    /// second summary poll.
    fn server() -> Server {
        let store = sample_store(Caps::default());
        let late = Self {
            store: store.clone(),
            polls: Arc::new(AtomicUsize::new(0)),
        };
        Server::serve(Some(TOKEN), store, |app| {
            app.layer(middleware::from_fn_with_state(late, Self::inject))
        })
    }

    async fn inject(State(late): State<Self>, request: Request, next: Next) -> AxumResponse {
        let is_poll = request.uri().path() == "/api/summary";
        if is_poll && late.polls.fetch_add(1, Ordering::SeqCst) == 1 {
            late.store.ingest_traces(late_trace(now_ns()));
        }
        next.run(request).await
    }
}

fn late_trace(now: u64) -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: hex(LATE_TRACE_ID),
        span_id: hex("b7ad6b7169203331"),
        name: "POST /orders".to_owned(),
        kind: SpanKind::Server as i32,
        start_time_unix_nano: now - 30 * MS,
        end_time_unix_nano: now,
        ..Span::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource("shop-api"),
            scope_spans: vec![ScopeSpans {
                scope: scope("checkout::http"),
                spans: vec![span],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

#[test]
fn live_counts_say_what_was_evicted() {
    let Some(chromium) = chromium() else { return };
    let caps = Caps {
        logs: 4,
        ..Caps::default()
    };
    let server = Server::with_caps(Some(TOKEN), caps);
    let dom = chromium.dump_dom(&server.login_url("/#/logs"));
    let live = start_tag_with(&dom, r#"id="live""#).expect("the live indicator");
    assert!(live.contains("class=\"live ok\""), "{live}");
    let at = dom.find(r#"id="live-text""#).expect("the live counts");
    let counts = &dom[at..at + dom[at..].find("</div>").unwrap_or(0)];
    assert!(counts.contains("4 logs"), "{counts}");
    assert!(counts.contains("2 evicted"), "{counts}");
}

/// Every route mounts its view, which proves the whole module graph loaded
/// from `/assets/` under the page's CSP (one module that fails to load or run
/// stops them all), with its filters read from the hash, its tab marked and
/// nothing in the console. A hash no route matches gets the not-found view.
#[test]
fn every_route_mounts_its_view_with_a_quiet_console() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    let detail = format!("/#/traces/{TRACE_ID}?span={}", CHARGE.0);
    let case = |path, route, tab, shown, hidden| RouteCase {
        path,
        route,
        tab,
        shown,
        hidden,
    };
    let cases = [
        case("/", "traces", Some("traces"), TRACE_ID, None),
        case(
            "/#/traces?q=no-such-span",
            "traces",
            Some("traces"),
            "No matching traces",
            Some(TRACE_ID),
        ),
        case(&detail, "trace", Some("traces"), "card declined", None),
        case(
            "/#/logs?level=warn",
            "logs",
            Some("logs"),
            "payment provider slow",
            Some("checkout started"),
        ),
        case(
            "/#/metrics?q=memory",
            "metrics",
            Some("metrics"),
            "process.memory.usage",
            Some("http.server.requests"),
        ),
        case("/#/logs/4", "log", Some("logs"), "payment failed", None),
        case("/#/nowhere", "not-found", None, "Nothing here", None),
        case("/#/traces/a/b", "not-found", None, "Nothing here", None),
    ];
    for case in cases {
        case.check(&chromium.dump_dom(&server.login_url(case.path)));
    }
}

/// What one hash should show.
struct RouteCase<'a> {
    path: &'a str,
    /// The mounted view's `data-route`.
    route: &'a str,
    /// The navigation tab marked as current, if any.
    tab: Option<&'a str>,
    /// Text the view shows.
    shown: &'a str,
    /// Text the hash's filters hide.
    hidden: Option<&'a str>,
}

impl RouteCase<'_> {
    fn check(&self, dom: &str) {
        let Self {
            path,
            route,
            tab,
            shown,
            hidden,
        } = self;
        assert!(
            dom.contains(&format!(r#"data-route="{route}""#)),
            "{path} did not mount the `{route}` view:\n{dom}"
        );
        assert!(
            dom.contains(shown),
            "{path} does not show `{shown}`:\n{dom}"
        );
        if let Some(hidden) = hidden {
            assert!(!dom.contains(hidden), "{path} shows `{hidden}`:\n{dom}");
        }
        for name in ["traces", "logs", "metrics"] {
            let link = start_tag_with(dom, &format!(r#"data-view="{name}""#)).unwrap_or_default();
            let active = link.contains("active");
            assert_eq!(active, *tab == Some(name), "{path}: tab {link}");
        }
    }
}

/// A hash whose percent-encoding is broken cannot be decoded. The router says
/// so instead of throwing an uncaught `URIError`, which left the old view (or
/// "Loading…") on the page.
#[test]
fn a_malformed_route_hash_shows_a_bad_link_view() {
    let Some(chromium) = chromium() else { return };
    let server = Server::start(Some(TOKEN));
    let hash = "#/traces/%E0%A4%A";
    let page = chromium.load(&server.login_url(&format!("/{hash}")));
    assert_quiet_console(hash, &page.console);
    let dom = page.dom;
    assert!(dom.contains(r#"data-route="bad-link""#), "{dom}");
    assert!(dom.contains("Bad link"), "{dom}");
    assert!(
        dom.contains(&format!(r#"<code class="bad-hash">{hash}</code>"#)),
        "the link is not shown: {dom}"
    );
    assert!(!dom.contains("Loading…"), "the old view stayed: {dom}");
    assert!(dom.contains(r##"href="#/traces""##), "no way back: {dom}");
}

/// The real path: a `Backend` receives an OTLP/HTTP protobuf export, and
/// the browser sees it through the backend's own dashboard port.
#[test]
fn backend_shows_a_trace_exported_over_otlp_http() {
    let Some(chromium) = chromium() else { return };
    let runtime = runtime();
    let mut config = BackendConfig::loopback("checkout");
    let any_port = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    (config.grpc, config.http, config.ui) = (any_port, any_port, any_port);
    config.browser_token = Some(TOKEN.to_owned());
    let backend = runtime
        .block_on(Backend::start(config))
        .expect("the backend starts");

    let otlp_http = backend.http_endpoint();
    let otlp_http = otlp_http
        .trim_start_matches("http://")
        .parse()
        .expect("an address");
    let body = sample_traces(now_ns()).encode_to_vec();
    let response = http(
        otlp_http,
        "POST",
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf")],
        &body,
    )
    .expect("POST /v1/traces");
    assert_eq!(response.status, 200, "export failed: {}", response.text());

    let ui = backend.ui_addr();
    let return_url = percent_encode(&format!("/#/traces/{TRACE_ID}"));
    let dom = chromium.dump_dom(&format!(
        "http://{ui}/login?t={TOKEN}&returnUrl={return_url}"
    ));
    assert_waterfall(&dom);
    runtime.block_on(backend.stop()).expect("the backend stops");
}

/// All three spans are rows, with their ids, and only the failed one is
/// marked as an error.
fn assert_waterfall(dom: &str) {
    for (id, name) in [ROOT, CART, CHARGE] {
        let row = start_tag_with(dom, &format!(r#"data-span-name="{name}""#))
            .unwrap_or_else(|| panic!("no waterfall row for `{name}` in:\n{dom}"));
        assert!(row.contains(&format!(r#"data-span-id="{id}""#)), "{row}");
        let marked = row.contains(r#"data-status="error""#) && row.contains("span-row error");
        assert_eq!(marked, name == CHARGE.1, "error marking of `{name}`: {row}");
    }
    assert!(dom.contains("card declined") || dom.contains("charge card"));
}

/// The start tag (`<div ...>`) that contains `needle`.
fn start_tag_with<'a>(html: &'a str, needle: &str) -> Option<&'a str> {
    let at = html.find(needle)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    Some(&html[start..=end])
}

// ---------------------------------------------------------------------------------------------
// HTTP tests

#[test]
fn health_needs_no_login() {
    let server = Server::start(Some(TOKEN));
    let response = server.get("/health", None);
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "Healthy")
    );
}

#[test]
fn api_needs_the_session_cookie() {
    let server = Server::start(Some(TOKEN));
    let denied = server.get("/api/traces", None);
    assert_eq!(denied.status, 401);
    assert!(
        denied
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    assert!(denied.text().contains("\"error\""), "{}", denied.text());

    let cookie = server.sign_in();
    let traces = server.get("/api/traces", Some(&cookie));
    assert_eq!(traces.status, 200, "{}", traces.text());
    assert!(traces.text().contains(TRACE_ID), "{}", traces.text());
    assert_eq!(traces.header("cache-control"), Some("no-store"));

    let detail = server.get(&format!("/api/traces/{TRACE_ID}"), Some(&cookie));
    assert_eq!(detail.status, 200);
    for (id, _) in [ROOT, CART, CHARGE] {
        assert!(
            detail.text().contains(id),
            "{id} missing from {}",
            detail.text()
        );
    }
    for path in ["/api/summary", "/api/logs?level=warn", "/api/metrics"] {
        assert_eq!(server.get(path, Some(&cookie)).status, 200, "{path}");
    }
    assert_eq!(
        server
            .get(&format!("/api/traces/{}", "0".repeat(32)), Some(&cookie))
            .status,
        404
    );
    assert_eq!(server.get("/api/nothing", Some(&cookie)).status, 404);
    // The right cookie name with a made-up value.
    let forged = format!("{}=forged", cookie.split('=').next().unwrap_or_default());
    assert_eq!(server.get("/api/summary", Some(&forged)).status, 401);
}

#[test]
fn bad_query_values_are_400() {
    let server = Server::start(Some(TOKEN));
    let cookie = server.sign_in();
    for path in [
        "/api/traces?limit=many",
        "/api/traces?errors=maybe",
        "/api/logs?level=loud",
        "/api/traces/not-hex",
    ] {
        let response = server.get(path, Some(&cookie));
        assert_eq!(response.status, 400, "{path}: {}", response.text());
        assert!(
            response.text().contains("\"error\""),
            "{path}: {}",
            response.text()
        );
    }
}

#[test]
fn wrong_token_sets_no_cookie_and_is_not_echoed() {
    let server = Server::start(Some(TOKEN));
    let response = server.get("/login?t=wrong-guess-123", None);
    assert_eq!(response.status, 401);
    assert_eq!(response.header("set-cookie"), None);
    assert!(
        response.text().contains(r#"action="/login""#),
        "{}",
        response.text()
    );
    assert!(!response.text().contains("wrong-guess-123"));

    let missing = server.get("/login", None);
    assert_eq!((missing.status, missing.header("set-cookie")), (200, None));
}

#[test]
fn login_redirects_only_to_local_paths() {
    let server = Server::start(Some(TOKEN));
    let cases = [
        ("%2F%2Fevil.example", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("%2F%09%2Fevil.example", "/"),
        ("%2F%23%2Flogs", "/#/logs"),
    ];
    for (return_url, expected) in cases {
        let path = format!("/login?t={TOKEN}&returnUrl={return_url}");
        let response = server.get(&path, None);
        assert_eq!(response.status, 303, "{path}");
        assert_eq!(response.header("location"), Some(expected), "{path}");
        let cookie = response.header("set-cookie").expect("a session cookie");
        for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!cookie.contains(TOKEN), "the cookie must not be the token");
    }
}

#[test]
fn pages_are_locked_down_and_assets_typed() {
    let server = Server::start(Some(TOKEN));
    let cookie = server.sign_in();
    let page = server.get("/", Some(&cookie));
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(page.text().contains("<title>checkout"), "{}", page.text());
    assert!(
        !page.text().contains("<script>"),
        "inline script in the page"
    );

    let login = server.get("/", None);
    assert_eq!(login.status, 200);
    assert!(login.text().contains(r#"id="login-form""#));
    assert!(login.header("content-security-policy").is_some());

    for (asset, content_type) in [
        ("app.js", "text/javascript"),
        ("app.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let response = server.get(&format!("/assets/{asset}"), None);
        assert_eq!(response.status, 200, "{asset}");
        let got = response.header("content-type").unwrap_or_default();
        assert!(got.starts_with(content_type), "{asset}: {got}");
    }
    assert_eq!(server.get("/assets/nope.js", None).status, 404);
}

/// Every file under `assets/` is served at its path there, byte for byte,
/// with its content type (module scripts need a JavaScript one); nothing else
/// under `/assets/` is.
#[test]
fn every_asset_is_served_with_its_content_type() {
    let server = Server::start(Some(TOKEN));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/backend/web/assets");
    let files = files_under(&root);
    assert!(files.len() > 10, "{files:?}");
    for file in files {
        let name = file.strip_prefix(&root).expect("under assets/");
        let name = name.to_str().expect("a UTF-8 name").replace('\\', "/");
        let response = server.get(&format!("/assets/{name}"), None);
        assert_eq!(response.status, 200, "{name}");
        let expected = match file.extension().and_then(|e| e.to_str()) {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            other => panic!("{name}: which content type for {other:?}?"),
        };
        assert_eq!(response.header("content-type"), Some(expected), "{name}");
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        let on_disk = fs::read(&file).expect("read the asset");
        assert!(response.body == on_disk, "{name} differs from the file");
    }
    for path in [
        "/assets/nope.js",
        "/assets/views/nope.js",
        "/assets/views",
        "/assets/views/",
        "/assets/",
        "/assets/./app.js",
        "/assets//app.js",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/pages.rs",
        "/assets/APP.JS",
        "/assets/app.html",
    ] {
        assert_eq!(server.get(path, None).status, 404, "{path}");
    }
}

/// Every file below `dir`, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).expect("read the directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn anonymous_access_needs_no_login() {
    let server = Server::start(None);
    assert_eq!(server.get("/api/summary", None).status, 200);
    let page = server.get("/", None);
    assert!(
        page.text().contains(r#"src="/assets/app.js""#),
        "{}",
        page.text()
    );
    let login = server.get("/login?returnUrl=%2F%23%2Fmetrics", None);
    assert_eq!(
        (login.status, login.header("location")),
        (303, Some("/#/metrics"))
    );
}

// ---------------------------------------------------------------------------------------------
// The server under test

struct Server {
    addr: SocketAddr,
    // Dropping the runtime stops the server.
    _runtime: Runtime,
}

impl Server {
    fn start(token: Option<&str>) -> Self {
        Self::with_caps(token, Caps::default())
    }

    /// The sample telemetry in a store bounded by `caps`, served on a free port.
    fn with_caps(token: Option<&str>, caps: Caps) -> Self {
        Self::serve(token, sample_store(caps), |app| app)
    }

    /// Serves `store` through the web router, after `wrap` has added its layers.
    fn serve(token: Option<&str>, store: Store, wrap: impl FnOnce(Router) -> Router) -> Self {
        let config = WebConfig {
            browser_token: token.map(str::to_owned),
            application_name: "checkout".to_owned(),
        };
        let app = wrap(router(store, config));
        let runtime = runtime();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("a local address");
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            addr,
            _runtime: runtime,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn login_url(&self, return_url: &str) -> String {
        self.url(&format!(
            "/login?t={TOKEN}&returnUrl={}",
            percent_encode(return_url)
        ))
    }

    fn get(&self, path: &str, cookie: Option<&str>) -> HttpResponse {
        let headers: Vec<_> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
        http(self.addr, "GET", path, &headers, b"").unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Logs in and returns the `name=value` of the session cookie.
    fn sign_in(&self) -> String {
        let response = self.get(&format!("/login?t={TOKEN}"), None);
        assert_eq!(response.status, 303);
        let cookie = response.header("set-cookie").expect("a session cookie");
        cookie.split(';').next().unwrap_or_default().to_owned()
    }
}

fn sample_store(caps: Caps) -> Store {
    let store = Store::new(caps);
    let now = now_ns();
    store.ingest_traces(sample_traces(now));
    store.ingest_logs(sample_logs(now));
    store.ingest_metrics(sample_metrics(now));
    store
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Enough percent-encoding for a `returnUrl` query value.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Telemetry to show

const MS: u64 = 1_000_000;

fn now_ns() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970");
    u64::try_from(since.as_nanos()).expect("a time before 2554")
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn attr(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    attr(key, Value::StringValue(value.to_owned()))
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![text("service.name", service)],
        ..Resource::default()
    })
}

fn scope(name: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: name.to_owned(),
        ..InstrumentationScope::default()
    })
}

struct SpanSpec<'a> {
    id: (&'a str, &'a str),
    parent: &'a str,
    kind: SpanKind,
    from_ms: u64,
    to_ms: u64,
    attributes: Vec<KeyValue>,
    events: Vec<Event>,
    status: Option<Status>,
}

fn span(t0: u64, spec: SpanSpec<'_>) -> Span {
    Span {
        trace_id: hex(TRACE_ID),
        span_id: hex(spec.id.0),
        parent_span_id: if spec.parent.is_empty() {
            Vec::new()
        } else {
            hex(spec.parent)
        },
        name: spec.id.1.to_owned(),
        kind: spec.kind as i32,
        start_time_unix_nano: t0 + spec.from_ms * MS,
        end_time_unix_nano: t0 + spec.to_ms * MS,
        attributes: spec.attributes,
        events: spec.events,
        status: spec.status,
        ..Span::default()
    }
}

/// `GET /checkout` (shop-api) with `load cart` (an event) and `charge card`
/// (in the payments service, failed).
fn sample_traces(now: u64) -> ExportTraceServiceRequest {
    let t0 = now - 4_000 * MS;
    let root = span(
        t0,
        SpanSpec {
            id: ROOT,
            parent: "",
            kind: SpanKind::Server,
            from_ms: 0,
            to_ms: 184,
            attributes: vec![
                text("http.request.method", "GET"),
                text("url.path", "/checkout"),
                attr("http.response.status_code", Value::IntValue(502)),
            ],
            events: Vec::new(),
            status: None,
        },
    );
    let cart = span(
        t0,
        SpanSpec {
            id: CART,
            parent: ROOT.0,
            kind: SpanKind::Internal,
            from_ms: 6,
            to_ms: 48,
            attributes: vec![
                attr("cart.items", Value::IntValue(3)),
                text("cart.id", "c-42"),
            ],
            events: vec![Event {
                time_unix_nano: t0 + 20 * MS,
                name: "cache miss".to_owned(),
                attributes: vec![text("cache.key", "cart:c-42")],
                dropped_attributes_count: 0,
            }],
            status: None,
        },
    );
    let charge = span(
        t0,
        SpanSpec {
            id: CHARGE,
            parent: ROOT.0,
            kind: SpanKind::Client,
            from_ms: 55,
            to_ms: 176,
            attributes: vec![
                text("payment.provider", "acme-pay"),
                attr("payment.amount", Value::DoubleValue(42.5)),
            ],
            events: vec![Event {
                time_unix_nano: t0 + 170 * MS,
                name: "exception".to_owned(),
                attributes: vec![
                    text("exception.type", "PaymentError"),
                    text("exception.message", "card declined"),
                    text("exception.stacktrace", &stacktrace()),
                ],
                dropped_attributes_count: 0,
            }],
            status: Some(Status {
                message: "card declined".to_owned(),
                code: status::StatusCode::Error as i32,
            }),
        },
    );
    let resource_spans = |service, spans| ResourceSpans {
        resource: resource(service),
        scope_spans: vec![ScopeSpans {
            scope: scope("checkout::http"),
            spans,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![
            resource_spans("shop-api", vec![root, cart]),
            resource_spans("payments", vec![charge]),
        ],
    }
}

/// The functions of [`stacktrace`], innermost first.
const FRAMES: [&str; 16] = [
    "__rustc::rust_begin_unwind",
    "core::panicking::panic_fmt",
    "payments::acme::decline",
    "payments::acme::Client::charge::{{closure}}",
    "payments::charge::{{closure}}",
    "<tracing::instrument::Instrumented<T> as core::future::future::Future>::poll",
    "checkout::handlers::checkout::{{closure}}",
    "axum::handler::Handler::call::{{closure}}",
    "tower::util::map_response::MapResponseFuture::poll",
    "hyper::proto::h1::dispatch::Dispatcher::poll_loop",
    "hyper::server::conn::http1::Connection::poll",
    "tokio::runtime::task::core::Core<T,S>::poll",
    "tokio::runtime::task::harness::Harness<T,S>::poll",
    "tokio::runtime::scheduler::multi_thread::worker::Context::run_task",
    "tokio::runtime::scheduler::multi_thread::worker::run",
    "std::thread::Builder::spawn_unchecked_::{{closure}}",
];

/// A Rust stack trace as the generated module records a panic: numbered
/// frames, each with its `at file:line:column` line.
fn stacktrace() -> String {
    let frames: Vec<String> = FRAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                "{i:4}: {name}\n             at ./src/frame_{i}.rs:{}:5",
                10 + i
            )
        })
        .collect();
    frames.join("\n")
}

/// A startup line, then the trace's story (it starts 500 ms in).
fn sample_logs(now: u64) -> ExportLogsServiceRequest {
    let t0 = now - 4_500 * MS;
    let record = |at_ms: u64, severity: i32, body: &str, span_id: &str, attributes| LogRecord {
        time_unix_nano: t0 + at_ms * MS,
        observed_time_unix_nano: t0 + at_ms * MS,
        severity_number: severity,
        body: Some(AnyValue {
            value: Some(Value::StringValue(body.to_owned())),
        }),
        attributes,
        trace_id: if span_id.is_empty() {
            Vec::new()
        } else {
            hex(TRACE_ID)
        },
        span_id: hex(span_id),
        ..LogRecord::default()
    };
    let records = vec![
        record(
            0,
            9,
            "listening on 127.0.0.1:8080",
            "",
            vec![text("net.host.port", "8080")],
        ),
        record(
            501,
            9,
            "checkout started",
            ROOT.0,
            vec![text("user.id", "u-7")],
        ),
        record(
            530,
            5,
            "cart loaded from the database",
            CART.0,
            vec![attr("cart.items", Value::IntValue(3))],
        ),
        record(
            620,
            13,
            "payment provider slow, retrying",
            CHARGE.0,
            vec![attr("retry", Value::IntValue(1))],
        ),
        record(
            671,
            17,
            "payment failed: card declined",
            CHARGE.0,
            vec![
                text("error.type", "PaymentError"),
                text("exception.type", "PaymentError"),
                text("exception.message", "card declined"),
                text("exception.stacktrace", &stacktrace()),
            ],
        ),
        record(683, 9, "responded 502 in 184 ms", ROOT.0, Vec::new()),
    ];
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("shop-api"),
            scope_logs: vec![ScopeLogs {
                scope: scope("checkout"),
                log_records: records,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// Request latency per route, cumulative over eight exports: `/checkout`
/// observes 1..=100 ms once per export (P50 in (25, 50] ms, P90 in (75,
/// 100]), `/cart` ten times 3 ms; the last `/checkout` point carries an
/// exemplar from the sample trace's failed span.
fn latency_histogram(now: u64) -> Metric {
    const BOUNDS: [f64; 10] = [
        0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 1000.0,
    ];
    let one_export = |values: &[u64]| {
        let mut counts = vec![0; BOUNDS.len() + 1];
        for &value in values {
            counts[BOUNDS.partition_point(|&b| b < value as f64)] += 1;
        }
        counts
    };
    let checkout: Vec<u64> = (1..=100).collect();
    let exports = 8u64;
    let first = now - exports * 1_000 * MS;
    let mut data_points = Vec::new();
    for (route, values) in [("/checkout", checkout), ("/cart", vec![3; 10])] {
        let counts = one_export(&values);
        for i in 1..=exports {
            let exemplars = (route == "/checkout" && i == exports).then(|| Exemplar {
                time_unix_nano: first + i * 1_000 * MS,
                value: Some(exemplar::Value::AsDouble(97.0)),
                trace_id: hex(TRACE_ID),
                span_id: hex(CHARGE.0),
                ..Exemplar::default()
            });
            data_points.push(HistogramDataPoint {
                attributes: vec![text("http.route", route)],
                start_time_unix_nano: first,
                time_unix_nano: first + i * 1_000 * MS,
                count: values.len() as u64 * i,
                sum: Some(values.iter().sum::<u64>() as f64 * i as f64),
                bucket_counts: counts.iter().map(|c| c * i).collect(),
                explicit_bounds: BOUNDS.to_vec(),
                exemplars: exemplars.into_iter().collect(),
                min: values.iter().min().map(|&v| v as f64),
                max: values.iter().max().map(|&v| v as f64),
                ..HistogramDataPoint::default()
            });
        }
    }
    Metric {
        name: "http.server.duration".to_owned(),
        description: "Time to answer a request".to_owned(),
        unit: "ms".to_owned(),
        data: Some(Data::Histogram(Histogram {
            data_points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Metric::default()
    }
}

fn sample_metrics(now: u64) -> ExportMetricsServiceRequest {
    let points = |values: &[f64]| -> Vec<NumberDataPoint> {
        let first = now - values.len() as u64 * 1_000 * MS;
        values
            .iter()
            .enumerate()
            .map(|(i, value)| NumberDataPoint {
                start_time_unix_nano: first,
                time_unix_nano: first + i as u64 * 1_000 * MS,
                value: Some(number_data_point::Value::AsDouble(*value)),
                attributes: vec![text("http.route", "/checkout")],
                ..NumberDataPoint::default()
            })
            .collect()
    };
    let requests = Metric {
        name: "http.server.requests".to_owned(),
        description: "Requests handled".to_owned(),
        unit: "{request}".to_owned(),
        data: Some(Data::Sum(Sum {
            data_points: points(&[3.0, 7.0, 12.0, 14.0, 21.0, 30.0, 33.0, 41.0]),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        })),
        ..Metric::default()
    };
    let memory = Metric {
        name: "process.memory.usage".to_owned(),
        description: "Resident memory".to_owned(),
        unit: "By".to_owned(),
        data: Some(Data::Gauge(Gauge {
            data_points: points(&[
                31.0e6, 33.5e6, 32.1e6, 36.8e6, 35.2e6, 38.9e6, 37.4e6, 40.2e6,
            ]),
        })),
        ..Metric::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("shop-api"),
            scope_metrics: vec![ScopeMetrics {
                scope: scope("checkout::metrics"),
                metrics: vec![requests, memory, latency_histogram(now)],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}
