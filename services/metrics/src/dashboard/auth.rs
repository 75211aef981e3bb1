//! Who may see the dashboard: the signed-in check every page runs (a live
//! session whose token is still configured), and the same-origin check of
//! the forms that change state (sign-in, sign-out), the CSRF defence next
//! to the cookie's `SameSite=Strict`.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::{Dashboard, pages, session};
use crate::error::MetricsError;
use crate::repo;

/// Proof that the request comes from a signed-in person.
pub struct SignedIn;

impl FromRequestParts<Dashboard> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, d: &Dashboard) -> Result<Self, Response> {
        if d.settings.tokens.is_empty() {
            return Err(pages::dashboard_off());
        }
        let token_hash = match cookie_id(&parts.headers) {
            None => None,
            Some(id) => repo::dashboard_sessions::live_token(&d.state.pool, &session::digest(id))
                .await
                .map_err(|e| pages::failure(MetricsError::Database(e)))?,
        };
        match token_hash {
            Some(hash) if still_configured(&hash, d) => Ok(SignedIn),
            _ => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map_or(super::HOME, |p| p.as_str());
                let next = serde_urlencoded::to_string([("next", here)]).unwrap_or_default();
                Err(Redirect::to(&format!("/dashboard/sign-in?{next}")).into_response())
            }
        }
    }
}

/// The session id the request's cookie carries, if any.
pub fn cookie_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(session::from_cookie_header)
}

/// Whether `token_hash` is the hash of a token still in `DASHBOARD_TOKENS`
/// (compared in constant time against each).
fn still_configured(token_hash: &[u8], d: &Dashboard) -> bool {
    d.token_hashes.iter().fold(0u8, |found, h| {
        found | h.as_slice().ct_eq(token_hash).unwrap_u8()
    }) == 1
}

/// Whether a state-changing form was posted from a dashboard page: its
/// `Origin` (or, without one, its `Referer`) names the host the request was
/// sent to. A request naming neither, or `Origin: null`, is refused.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(host) = header(axum::http::header::HOST) else {
        return false;
    };
    let source = header(axum::http::header::ORIGIN).or_else(|| header(axum::http::header::REFERER));
    let Some(source) = source else {
        return false;
    };
    let Some((scheme, rest)) = source.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(host)
}

/// Where to go after signing in: `next` when it is a dashboard path on this
/// site (never another site: `//evil.example` and `/\evil` are refused),
/// in printable ASCII (a `Location` header holds nothing else), else the
/// overview.
pub fn after_sign_in(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/dashboard")
                && !n.contains("//")
                && !n.contains('\\')
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n.to_owned()
        }
        _ => super::HOME.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn a_form_posted_from_this_host_passes_and_any_other_is_refused() {
        let host = ("host", "dash.example:8081");
        assert!(same_origin(&headers(&[
            host,
            ("origin", "https://dash.example:8081")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("referer", "http://dash.example:8081/dashboard/sign-in")
        ])));
        for bad in [
            "https://evil.example",
            "null",
            "https://dash.example:8081.evil.example",
        ] {
            assert!(!same_origin(&headers(&[host, ("origin", bad)])), "{bad}");
        }
        assert!(
            !same_origin(&headers(&[host])),
            "neither Origin nor Referer"
        );
    }

    #[test]
    fn only_dashboard_paths_are_followed_after_sign_in() {
        assert_eq!(
            after_sign_in(Some("/dashboard/retention?period=day")),
            "/dashboard/retention?period=day"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/dashboard//evil",
            "/\\evil",
            "/dashboard/é",
            "/dashboard/a b",
            "/dashboard/\r\nSet-Cookie: x",
        ] {
            assert_eq!(after_sign_in(Some(bad)), "/dashboard/overview", "{bad}");
        }
        assert_eq!(after_sign_in(None), "/dashboard/overview");
    }
}
