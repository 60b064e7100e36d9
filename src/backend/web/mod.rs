//! The built-in dashboard's web side: one embedded page (HTML, CSS and native
//! ES modules, no build step) and the JSON API it reads from the [`Store`].
//!
//! Access works like the Aspire dashboard's browser token: `GET /login?t=TOKEN`
//! exchanges the token for an HttpOnly cookie, and every page and API call
//! needs that cookie; API calls may send the token as `Authorization: Bearer`
//! instead (the query commands and `cargo otel mcp` do).
//! `WebConfig::browser_token: None` turns this off.
//!
//! | route | auth | what |
//! |---|---|---|
//! | `GET /health` | no | `Healthy`, for readiness checks |
//! | `GET /login?t=TOKEN&returnUrl=/path` | no | sets the cookie and redirects, or shows the login form |
//! | `GET /` | yes (else the login form) | the app; views are hash routes (`#/traces`, `#/logs`, `#/metrics`) |
//! | `GET /assets/{path}` | no | the embedded `assets/` directory: the page's modules, styles, icon |
//! | `GET /api/...` | cookie or bearer token (else 401) | JSON: see [`crate::backend::model`]; `/api/traces/{id}/otlp` and `/api/export/{traces,logs}?...` download OTLP/JSON |
//! | `POST /api/clear?service=S` | cookie or bearer token, and the `x-cargo-otel-action: clear` header, a loopback `Host`, no foreign `Origin` (else 403) | takes out what is held |
//!
//! The page is `html/app.html` plus native ES modules under `assets/`, served
//! as they are (no bundler, no npm):
//!
//! | module | what |
//! |---|---|
//! | `app.js` | the entry: starts the live store and the router |
//! | `routes.js`, `router.js` | the route table (hash to view) and the router that mounts one view at a time |
//! | `live.js`, `live-status.js`, `controls.js` | the one live data store (polls `/api/summary`; views subscribe; pauses), the top bar's indicator and its Pause and Clear buttons |
//! | `views/*.js` | one file per view: `traces`, `trace` (with `waterfall`), `logs`, `metrics`, `instrument` (one metric's chart), `not-found` |
//! | `metric-stats.js` | what a metric series says by kind: percentiles, total and rate, value |
//! | `list.js` | the list views' shared toolbar, filters, table and empty states |
//! | `api.js`, `model.js` | fetching `/api/*`; JSDoc types of its JSON (checked against the model by a test) |
//! | `dom.js`, `format.js`, `telemetry.js`, `charts/` | DOM from text only; times, durations, units; service badges; scales, axes, sparkline, the time chart |
//!
//! A view is `(root, params, ctx) -> { refresh, failed, unmount }`: it builds
//! its DOM under `root`, and the router calls `refresh` when the live store
//! sees new data and `unmount` on the next route.

mod api;
mod auth;
mod pages;
#[cfg(test)]
mod tests;

use std::{fmt, sync::Arc};

use axum::{Router, middleware, routing::get};

use super::Store;
use auth::Auth;
use pages::Pages;

/// How the built-in dashboard presents itself and who may see it.
#[derive(Clone)]
pub struct WebConfig {
    /// The token `GET /login?t=` must present; `None` lets anyone in.
    pub browser_token: Option<String>,
    /// Shown in the page title and header.
    pub application_name: String,
}

// Hand-written so the token never ends up in a log line.
impl fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = self.browser_token.as_ref().map(|_| "<redacted>");
        f.debug_struct("WebConfig")
            .field("browser_token", &token)
            .field("application_name", &self.application_name)
            .finish()
    }
}

/// What every handler can reach.
#[derive(Clone)]
struct AppState {
    store: Store,
    auth: Arc<Auth>,
    pages: Arc<Pages>,
}

/// The built-in dashboard's routes (page, assets, API), ready for `axum::serve`.
pub fn router(store: Store, config: WebConfig) -> Router {
    let state = AppState {
        store,
        auth: Arc::new(Auth::new(config.browser_token)),
        pages: Arc::new(Pages::new(&config.application_name)),
    };
    let api = api::routes().layer(middleware::from_fn_with_state(
        state.clone(),
        auth::require_for_api,
    ));
    Router::new()
        .route("/health", get(health))
        .route("/login", get(auth::login))
        .route("/", get(pages::index))
        .route("/assets/{*path}", get(pages::asset))
        .merge(api)
        .fallback(pages::not_found)
        .with_state(state)
}

/// Aspire's readiness endpoint answers exactly this.
async fn health() -> &'static str {
    "Healthy"
}
