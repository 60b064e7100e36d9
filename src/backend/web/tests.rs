use axum::http::{HeaderMap, HeaderValue, header};

use super::{
    auth::{Auth, cookie_values, local_return_url},
    pages::{content_type, embedded_assets, escape_html},
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

/// What `/assets/` serves is the whole directory (`tests/web_ui.rs` fetches
/// every file on disk); only the extensions below have a content type.
#[test]
fn assets_are_typed_by_extension() {
    let served = embedded_assets();
    assert!(served.contains_key("app.js") && served.contains_key("favicon.svg"));
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
