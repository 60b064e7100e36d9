use std::collections::{BTreeMap, BTreeSet};

use axum::http::{HeaderMap, HeaderValue, header};

use super::{
    auth::{Auth, cookie_values, local_return_url},
    pages::{content_type, embedded_assets, escape_html},
};
use crate::backend::model::{
    Attribute, Buckets, Counts, Exemplar, HistogramStats, LogEntry, Memory, MetricPoint,
    MetricSeries, SpanDetail, SpanEvent, SpanLink, StatusCode, Summary, TraceDetail, TraceSummary,
};

#[test]
fn return_url_accepts_local_paths_only() {
    assert_eq!(local_return_url(Some("/#/traces/ab")), "/#/traces/ab");
    assert_eq!(
        local_return_url(Some("/logs?level=warn")),
        "/logs?level=warn"
    );
    for bad in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "evil",
        "/\t/evil.example",
        "/a b",
        "/é",
        "",
    ] {
        assert_eq!(local_return_url(Some(bad)), "/", "{bad:?}");
    }
    assert_eq!(local_return_url(None), "/");
}

#[test]
fn cookie_values_finds_every_occurrence() {
    let mut headers = HeaderMap::new();
    headers.append(header::COOKIE, HeaderValue::from_static("a=1; s=x"));
    headers.append(header::COOKIE, HeaderValue::from_static("s=y"));
    assert_eq!(cookie_values(&headers, "s").collect::<Vec<_>>(), ["x", "y"]);
    assert_eq!(cookie_values(&headers, "b").count(), 0);
}

#[test]
fn anonymous_access_is_always_signed_in() {
    assert!(Auth::new(None).is_signed_in(&HeaderMap::new()));
    assert!(!Auth::new(Some("t".to_owned())).is_signed_in(&HeaderMap::new()));
}

#[test]
fn the_api_takes_the_token_as_a_bearer_token() {
    let auth = Auth::new(Some("s3cret".to_owned()));
    let with = |value: &'static str| {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
        headers
    };
    assert!(auth.may_read_api(&with("Bearer s3cret")));
    assert!(auth.may_read_api(&with("bearer  s3cret")));
    for refused in [
        "Bearer s3cre",
        "Bearer s3cret2",
        "Basic s3cret",
        "s3cret",
        "Bearer",
    ] {
        assert!(!auth.may_read_api(&with(refused)), "{refused}");
    }
    assert!(!auth.may_read_api(&HeaderMap::new()));
    // A bearer token is for the API: the page still needs the cookie.
    assert!(!auth.is_signed_in(&with("Bearer s3cret")));
}

#[test]
fn sessions_are_random() {
    let cookie = |auth: &Auth| auth.session_cookie();
    assert_ne!(cookie(&Auth::new(None)), cookie(&Auth::new(None)));
}

#[test]
fn escape_html_escapes_markup_and_placeholders() {
    assert_eq!(
        escape_html(r#"<a href="x">'&'{{y}}</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&#123;&#123;y}}&lt;/a&gt;"
    );
}

#[test]
fn each_server_names_its_own_cookie() {
    let (one, two) = (Auth::new(Some("t".into())), Auth::new(Some("t".into())));
    let name = |auth: &Auth| {
        auth.session_cookie()
            .split('=')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(name(&one).starts_with("cargo_otel_session_"));
    assert_ne!(
        name(&one),
        name(&two),
        "two dashboards on localhost would sign each other out"
    );
}

/// What `/assets/` serves is the whole directory (`tests/testsuite/web_ui.rs` fetches
/// every file on disk); only the extensions below have a content type.
#[test]
fn assets_are_typed_by_extension() {
    let served = embedded_assets();
    assert!(served.contains_key("app.js") && served.contains_key("views/traces.js"));
    assert_eq!(
        content_type("app.js"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        content_type("charts/scale.js"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(content_type("app.css"), Some("text/css; charset=utf-8"));
    assert_eq!(content_type("favicon.svg"), Some("image/svg+xml"));
    for unknown in ["notes.txt", "Makefile", "app.js.map", "app.html"] {
        assert_eq!(content_type(unknown), None, "{unknown}");
    }
}

/// The page builds DOM from text only (telemetry can hold markup), and each
/// module stays small enough to read in one sitting.
#[test]
fn asset_scripts_never_parse_html_and_stay_small() {
    let sinks = [
        ".innerHTML",
        ".outerHTML",
        "insertAdjacentHTML(",
        "document.write(",
        "eval(",
        "Function(",
    ];
    for (path, asset) in embedded_assets() {
        if !path.ends_with(".js") {
            continue;
        }
        let source = std::str::from_utf8(asset.body).expect("UTF-8 JavaScript");
        for sink in sinks {
            assert!(!source.contains(sink), "{path} uses `{sink}`");
        }
        let lines = source.lines().count();
        assert!(lines <= 400, "{path} has {lines} lines: split it");
    }
}

/// `assets/model.js` documents the API's JSON for the page's modules; each
/// `@typedef` there must list exactly the fields the server sends.
#[test]
fn model_js_typedefs_mirror_the_api_json() {
    let typedefs = typedef_properties(include_str!("assets/model.js"));
    let attribute = Attribute {
        key: "k".into(),
        value: "v".into(),
    };
    let event = SpanEvent {
        name: "e".into(),
        time_unix_nano: "1".into(),
        attributes: vec![attribute.clone()],
    };
    let link = SpanLink {
        trace_id: "t".into(),
        span_id: "s".into(),
        attributes: vec![attribute.clone()],
        held: false,
    };
    let stats = HistogramStats::default();
    let buckets = Buckets::default();
    let exemplar = Exemplar {
        time_unix_nano: "1".into(),
        value: 1.0,
        trace_id: "t".into(),
        span_id: "s".into(),
    };
    let span = SpanDetail {
        span_id: "s".into(),
        parent_span_id: String::new(),
        name: "n".into(),
        service: "svc".into(),
        kind: "server".into(),
        start_unix_nano: "1".into(),
        duration_ns: 1,
        status: StatusCode::Ok,
        status_message: String::new(),
        attributes: vec![attribute.clone()],
        events: vec![event.clone()],
        scope: String::new(),
        scope_version: String::new(),
        resource: vec![attribute.clone()],
        links: vec![link.clone()],
    };
    let samples = [
        ("Summary", json(&Summary::default())),
        ("Counts", json(&Counts::default())),
        ("Memory", json(&Memory::default())),
        ("Attribute", json(&attribute)),
        ("SpanEvent", json(&event)),
        ("SpanDetail", json(&span)),
        (
            "TraceDetail",
            json(&TraceDetail {
                trace_id: "t".into(),
                spans: vec![span],
            }),
        ),
        (
            "TraceSummary",
            json(&TraceSummary {
                trace_id: "t".into(),
                service: "svc".into(),
                root_name: "r".into(),
                start_unix_nano: "1".into(),
                duration_ns: 1,
                status: StatusCode::Error,
                span_count: 1,
                services: vec!["svc".into()],
                exception: "panic: boom".into(),
                run: Some(2),
            }),
        ),
        (
            "LogEntry",
            json(&LogEntry {
                id: 1,
                time_unix_nano: "1".into(),
                level: "INFO".into(),
                severity_number: 9,
                body: "b".into(),
                service: "svc".into(),
                trace_id: String::new(),
                span_id: String::new(),
                attributes: vec![attribute.clone()],
                resource: vec![attribute.clone()],
                scope: String::new(),
                run: Some(2),
            }),
        ),
        (
            "MetricPoint",
            json(&MetricPoint {
                time_unix_nano: "1".into(),
                value: 1.0,
                count: None,
                buckets: Some(buckets.clone()),
                histogram: Some(stats),
                exemplars: vec![exemplar.clone()],
            }),
        ),
        ("SpanLink", json(&link)),
        ("HistogramStats", json(&stats)),
        ("Buckets", json(&buckets)),
        ("Exemplar", json(&exemplar)),
        (
            "MetricSeries",
            json(&MetricSeries {
                name: "m".into(),
                service: "svc".into(),
                description: String::new(),
                unit: "1".into(),
                kind: "sum".into(),
                attributes: vec![attribute],
                latest: 1.0,
                points: Vec::new(),
                scope: "meter".into(),
                scope_version: String::new(),
                temporality: "cumulative".into(),
                histogram: None,
            }),
        ),
    ];
    for (name, fields) in &samples {
        assert_eq!(
            typedefs.get(*name),
            Some(fields),
            "`@typedef {{object}} {name}` in assets/model.js"
        );
    }
    let checked: BTreeSet<_> = samples.iter().map(|(name, _)| *name).collect();
    let documented: BTreeSet<_> = typedefs.keys().map(String::as_str).collect();
    assert_eq!(documented, checked, "object typedefs without a Rust check");
}

/// The top-level field names of `value`'s JSON, sorted.
fn json(value: &impl serde::Serialize) -> Vec<String> {
    let serde_json::Value::Object(object) = serde_json::to_value(value).expect("serializes") else {
        panic!("not a JSON object");
    };
    let mut keys: Vec<String> = object.keys().cloned().collect();
    keys.sort();
    keys
}

/// `@typedef {object} Name` blocks of a JSDoc file, with their sorted
/// `@property` names.
fn typedef_properties(source: &str) -> BTreeMap<String, Vec<String>> {
    let mut typedefs = BTreeMap::new();
    for block in source.split("/**").skip(1) {
        let block = block.split("*/").next().unwrap_or_default();
        let Some((_, rest)) = block.split_once("@typedef {object} ") else {
            continue;
        };
        let name = rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let mut properties: Vec<String> = block
            .split("@property {")
            .skip(1)
            .filter_map(|p| p.split_once('}')?.1.split_whitespace().next())
            .map(str::to_owned)
            .collect();
        properties.sort();
        typedefs.insert(name, properties);
    }
    typedefs
}
