//! Signing in (a `DASHBOARD_TOKENS` token posted from the sign-in form
//! becomes a session and its cookie) and out (the session is deleted).
//! Both are POSTs from a dashboard page (`auth::same_origin`); a token is
//! compared in constant time and never logged.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::{ExposeSecret, SecretString};

use super::{Dashboard, auth, pages, session};
use crate::error::MetricsError;
use crate::repo;

/// The value of `name` in a query string or form body.
fn field(encoded: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(encoded)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// `GET /dashboard/sign-in`: the form (which says when the dashboard is off).
pub async fn form(State(d): State<Dashboard>, RawQuery(query): RawQuery) -> Response {
    if d.settings.tokens.is_empty() {
        return pages::dashboard_off();
    }
    let next = field(query.unwrap_or_default().as_bytes(), "next");
    pages::sign_in(StatusCode::OK, &auth::after_sign_in(next.as_deref()), None)
}

/// `POST /dashboard/sign-in`: a right token signs in and goes on to `next`;
/// a wrong one gets the form again (401) and writes nothing.
pub async fn submit(State(d): State<Dashboard>, headers: HeaderMap, body: Bytes) -> Response {
    if !auth::same_origin(&headers) {
        return pages::cross_site();
    }
    if d.settings.tokens.is_empty() {
        return pages::dashboard_off();
    }
    let next = auth::after_sign_in(field(&body, "next").as_deref());
    let token = SecretString::from(field(&body, "token").unwrap_or_default().trim().to_owned());
    if !growth_runtime::auth::matches_any(token.expose_secret(), &d.settings.tokens) {
        tracing::warn!("dashboard sign-in refused: the token is not in DASHBOARD_TOKENS");
        return pages::sign_in(
            StatusCode::UNAUTHORIZED,
            &next,
            Some("That token is not accepted. Ask for a dashboard token (DASHBOARD_TOKENS)."),
        );
    }
    let id = session::new_id();
    let ttl = d.settings.session_ttl;
    let created = repo::dashboard_sessions::create(
        &d.state.pool,
        &session::digest(&id),
        &session::digest(token.expose_secret()),
        chrono::Utc::now() + ttl,
    )
    .await;
    if let Err(e) = created {
        return pages::failure(MetricsError::Database(e));
    }
    tracing::info!("dashboard sign-in");
    (
        [(
            header::SET_COOKIE,
            session::set_cookie(&id, ttl.num_seconds(), d.settings.secure_cookie),
        )],
        Redirect::to(&next),
    )
        .into_response()
}

/// `POST /dashboard/sign-out`: deletes the session (so its cookie is
/// worthless even if kept) and clears the cookie.
pub async fn sign_out(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    if !auth::same_origin(&headers) {
        return pages::cross_site();
    }
    if let Some(id) = auth::cookie_id(&headers)
        && let Err(e) = repo::dashboard_sessions::delete(&d.state.pool, &session::digest(id)).await
    {
        return pages::failure(MetricsError::Database(e));
    }
    (
        [(
            header::SET_COOKIE,
            session::clear_cookie(d.settings.secure_cookie),
        )],
        Redirect::to("/dashboard/sign-in"),
    )
        .into_response()
}
