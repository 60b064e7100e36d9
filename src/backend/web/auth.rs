//! Browser-token login, as the Aspire dashboard does it: the token from the
//! terminal is traded once for a cookie, so it does not linger in the address
//! bar, and the cookie alone grants access afterwards.
//!
//! The cookie holds a random session key made at startup, never the token, so
//! a restart signs everyone out and a leaked cookie dies with the process.
//!
//! Programs without a browser (`cargo otel traces`, `cargo otel mcp`) send
//! the token itself in `Authorization: Bearer <token>` instead.

use std::hash::{BuildHasher as _, RandomState};

use axum::{
    extract::{Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use serde::Deserialize;

use super::{AppState, api::ApiError, pages};
use crate::secret::{self, constant_time_eq};

/// Prefix of the session cookie's name. Browsers keep cookies per host, not
/// per port, so each server names its cookie after its own session: two
/// dashboards on `localhost` (a kept container and `cargo otel serve`, two
/// workspaces) then do not sign each other out.
const COOKIE_PREFIX: &str = "cargo_otel_session_";

/// Who may see the built-in dashboard.
pub(super) struct Auth {
    /// `None`: anonymous access.
    token: Option<String>,
    session: String,
    cookie_name: String,
}

impl Auth {
    pub(super) fn new(token: Option<String>) -> Self {
        // The name is its own random value: it is no secret, the session is.
        let cookie_name = format!("{COOKIE_PREFIX}{}", &random_session_key()[..8]);
        Self {
            token,
            session: random_session_key(),
            cookie_name,
        }
    }

    /// Whether the request carries the session cookie (always true when
    /// anonymous access is on).
    pub(super) fn is_signed_in(&self, headers: &HeaderMap) -> bool {
        if self.token.is_none() {
            return true;
        }
        cookie_values(headers, &self.cookie_name)
            .any(|value| constant_time_eq(value.as_bytes(), self.session.as_bytes()))
    }

    /// Whether the request carries the session cookie or the token as a
    /// bearer token (what the API accepts).
    pub(super) fn may_read_api(&self, headers: &HeaderMap) -> bool {
        self.is_signed_in(headers) || bearer_tokens(headers).any(|t| self.token_matches(t))
    }

    fn token_matches(&self, candidate: &str) -> bool {
        self.token
            .as_ref()
            .is_some_and(|token| constant_time_eq(candidate.as_bytes(), token.as_bytes()))
    }

    pub(super) fn session_cookie(&self) -> String {
        format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            self.cookie_name, self.session
        )
    }
}

/// 128 random bits. `router` cannot fail, so if the OS's generator does,
/// fall back to std's: every `RandomState` is keyed from OS randomness, and
/// SipHash under a secret key is a pseudorandom function.
fn random_session_key() -> String {
    secret::generate().unwrap_or_else(|_| {
        let state = RandomState::new();
        format!("{:016x}{:016x}", state.hash_one(1_u8), state.hash_one(2_u8))
    })
}

/// Every value of cookie `name` in the request's `Cookie` headers.
pub(super) fn cookie_values<'a>(
    headers: &'a HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(move |pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

/// Every `Authorization: Bearer <token>` value (the scheme is
/// case-insensitive, as RFC 9110 has it).
fn bearer_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
}

/// Where to go after login: only a path on this server. `//host`, `/\host`
/// and anything with whitespace or control characters (which browsers strip,
/// turning `/\t/host` into `//host`) fall back to `/`.
pub(super) fn local_return_url(raw: Option<&str>) -> &str {
    match raw {
        Some(url)
            if url.starts_with('/')
                && !url.starts_with("//")
                && !url.contains('\\')
                && url.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            url
        }
        _ => "/",
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginParams {
    t: Option<String>,
    #[serde(rename = "returnUrl")]
    return_url: Option<String>,
}

/// `GET /login?t=TOKEN&returnUrl=/path`.
pub(super) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<LoginParams>,
) -> Response {
    let target = local_return_url(params.return_url.as_deref());
    match params.t.as_deref() {
        _ if state.auth.token.is_none() => see_other(target, None),
        Some(token) if state.auth.token_matches(token) => {
            see_other(target, Some(state.auth.session_cookie()))
        }
        // The token is never echoed back, not even into the form.
        Some(_) => state.pages.login(
            StatusCode::UNAUTHORIZED,
            target,
            Some("That token is not valid."),
        ),
        None if state.auth.is_signed_in(&headers) => see_other(target, None),
        None => state.pages.login(StatusCode::OK, target, None),
    }
}

/// A 303 to a local path (already checked), optionally setting the cookie.
fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/")),
    );
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    pages::no_store(headers);
    response
}

/// Middleware on `/api/*`: 401 JSON without the cookie or the bearer token.
pub(super) async fn require_for_api(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.auth.may_read_api(request.headers()) {
        next.run(request).await
    } else {
        let mut response = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "not signed in: open the login URL cargo-otel printed, or send its token as `Authorization: Bearer <token>`",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    }
}
