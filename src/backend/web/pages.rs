//! The HTML pages and the embedded assets they load.
//!
//! Everything ships inside the binary, so the built-in dashboard works
//! offline and needs no build step: the two page templates in `html/`, and
//! the whole `assets/` directory (the page's ES modules, styles, icon),
//! served at `/assets/<path>` by its path there. Pages carry a strict
//! Content-Security-Policy: scripts and styles only from `/assets/`, no inline
//! script, so a span name full of `<script>` can do nothing even if it slipped
//! past the page's own escaping.

use std::collections::BTreeMap;

use axum::{
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response},
};
use include_dir::{Dir, include_dir};

use super::AppState;

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

const APP_HTML: &str = include_str!("html/app.html");
const LOGIN_HTML: &str = include_str!("html/login.html");

/// Everything `/assets/` serves. A new file needs no table entry: the next
/// build embeds it (editing the module that imports it triggers one).
static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/backend/web/assets");

/// An embedded file under `/assets/`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Asset {
    pub(super) content_type: &'static str,
    pub(super) body: &'static [u8],
}

/// The `Content-Type` of an asset, by its extension; `None` for a kind the
/// dashboard does not serve (a unit test keeps `assets/` free of those).
pub(super) fn content_type(path: &str) -> Option<&'static str> {
    let (_, extension) = path.rsplit_once('.')?;
    Some(match extension {
        // Module scripts must come with a JavaScript type, or the browser refuses them.
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

/// Every servable file in `assets/` and below, by its path there.
pub(super) fn embedded_assets() -> BTreeMap<&'static str, Asset> {
    let mut table = BTreeMap::new();
    let mut dirs = vec![&ASSETS];
    while let Some(dir) = dirs.pop() {
        dirs.extend(dir.dirs());
        for file in dir.files() {
            let Some(path) = file.path().to_str() else {
                continue;
            };
            if let Some(content_type) = content_type(path) {
                let body = file.contents();
                table.insert(path, Asset { content_type, body });
            }
        }
    }
    table
}

/// The pages, with the application name filled in once.
pub(super) struct Pages {
    app: String,
    login: String,
    assets: BTreeMap<&'static str, Asset>,
}

impl Pages {
    pub(super) fn new(application_name: &str) -> Self {
        let name = escape_html(application_name);
        Self {
            app: APP_HTML.replace("{{app_name}}", &name),
            login: LOGIN_HTML.replace("{{app_name}}", &name),
            assets: embedded_assets(),
        }
    }

    pub(super) fn app(&self) -> Response {
        html(StatusCode::OK, self.app.clone())
    }

    /// The token form. `return_url` must already be a checked local path.
    pub(super) fn login(
        &self,
        status: StatusCode,
        return_url: &str,
        notice: Option<&str>,
    ) -> Response {
        let notice = notice
            .map(|text| {
                format!(
                    r#"<p class="notice" role="alert">{}</p>"#,
                    escape_html(text)
                )
            })
            .unwrap_or_default();
        let page = self
            .login
            .replace("{{notice}}", &notice)
            .replace("{{return_url}}", &escape_html(return_url));
        html(status, page)
    }
}

/// `GET /`: the app, or the login form for a browser without the cookie.
pub(super) async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.auth.is_signed_in(&headers) {
        state.pages.app()
    } else {
        state.pages.login(StatusCode::OK, "/", None)
    }
}

/// `GET /assets/{*path}`: an embedded file by its exact path (`views/traces.js`).
pub(super) async fn asset(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    let Some(asset) = state.pages.assets.get(path.as_str()) else {
        return not_found().await;
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    // Revalidate every time: a new cargo-otel binary may serve new assets
    // under the same names.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub(super) async fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "<!doctype html><title>Not found</title><p>Not found. <a href=\"/\">Home</a></p>"
            .to_owned(),
    )
}

/// An HTML response with the page security headers.
fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The login URL carries the token: never pass it on to another site.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    no_store(headers);
    response
}

/// Keeps a response out of every cache (pages depend on the cookie).
pub(super) fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Escapes text for HTML element content and quoted attribute values.
pub(super) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            // So a name cannot smuggle a `{{placeholder}}` into a later fill-in.
            '{' => escaped.push_str("&#123;"),
            _ => escaped.push(c),
        }
    }
    escaped
}
