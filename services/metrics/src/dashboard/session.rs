//! Session ids and the cookie that carries them. An id is 32 random bytes
//! (hex in the cookie); the database keeps only its SHA-256, and the
//! SHA-256 of the token it was signed in with. Pure.

use rand::Rng as _;
use sha2::{Digest, Sha256};

/// The cookie's name.
pub const COOKIE: &str = "growth_dashboard";
/// The cookie's path: it goes with dashboard requests only.
pub const COOKIE_PATH: &str = "/dashboard";

/// A new random session id, as the cookie carries it (64 hex digits).
pub fn new_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `text`: what the database keeps of a session id or a token.
pub fn digest(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

/// The session id in a `Cookie` header, if it has one of the right shape.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `Set-Cookie` for a session id living `max_age_seconds`: HttpOnly,
/// SameSite=Strict, on the dashboard's path, `Secure` unless `insecure`.
pub fn set_cookie(id: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE}={id}; Path={COOKIE_PATH}; Max-Age={max_age_seconds}; HttpOnly; SameSite=Strict{secure}"
    )
}

/// `Set-Cookie` that makes the browser forget the session.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie("", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_hex_and_read_back_from_the_cookie_header() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        let header = format!("other=1; {COOKIE}={a}; x=y");
        assert_eq!(from_cookie_header(&header), Some(a.as_str()));
        assert_eq!(from_cookie_header(&format!("{COOKIE}=short")), None);
        assert_eq!(from_cookie_header("other=1"), None);
        assert_eq!(digest(&a).len(), 32);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_on_the_dashboard_path() {
        let cookie = set_cookie("abc", 60, true);
        for part in ["HttpOnly", "SameSite=Strict", "Path=/dashboard", "Secure"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!set_cookie("abc", 60, false).contains("Secure"));
        assert!(clear_cookie(true).contains("Max-Age=0"));
    }
}
