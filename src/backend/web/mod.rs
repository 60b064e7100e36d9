//! The web view of the local backend: one embedded page (plain HTML, CSS and
//! JavaScript, no build step) and the JSON API it reads from the [`Store`].
//!
//! Access works like the Aspire dashboard's browser token: `GET /login?t=TOKEN`
//! exchanges the token for an HttpOnly cookie, and every page and API call
//! needs that cookie. `WebConfig::browser_token: None` turns this off.
//!
//! | route | auth | what |
//! |---|---|---|
//! | `GET /health` | no | `Healthy`, for readiness checks |
//! | `GET /login?t=TOKEN&returnUrl=/path` | no | sets the cookie and redirects, or shows the login form |
//! | `GET /` | yes (else the login form) | the app; views are hash routes (`#/traces`, `#/logs`, `#/metrics`) |
//! | `GET /assets/{path}` | no | the embedded `assets/` directory: the page's scripts, styles, icon |
//! | `GET /api/...` | yes (else 401) | JSON: see [`crate::backend::model`] |

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

/// How the web view presents itself and who may see it.
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

/// The web view's routes, ready for `axum::serve`.
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
