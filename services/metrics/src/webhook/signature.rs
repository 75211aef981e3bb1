//! `Stripe-Signature` verification: `t=<unix>,v1=<hex>[,v1=<hex>…]`, where
//! each `v1` is HMAC-SHA256 of `"{t}.{body}"` under the endpoint secret.
//! Compared in constant time; timestamps older or newer than the tolerance
//! are refused (replay protection).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far the signed timestamp may be from now (Stripe's default).
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a signature is refused (the text goes back to the sender).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No header.
    #[error("missing Stripe-Signature header")]
    Missing,
    /// No `t=` or no `v1=`.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// Outside the tolerance.
    #[error("timestamp outside the {TOLERANCE_SECONDS} s tolerance")]
    Stale,
    /// No `v1` matches.
    #[error("no signature matches the payload")]
    Mismatch,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `v1` signature of `body` at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// Checks `header` for `body` at `now` (Unix seconds).
pub fn verify(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => candidates.push(v.to_owned()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    let expected = sign(secret, timestamp, body);
    let matched = candidates.iter().fold(0u8, |found, c| {
        found | c.as_bytes().ct_eq(expected.as_bytes()).unwrap_u8()
    });
    if matched == 1 {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    #[test]
    fn a_valid_signature_among_several_is_accepted() {
        let body = br#"{"id":"evt_1"}"#;
        let good = sign(SECRET, 1_700_000_000, body);
        let header = format!("t=1700000000,v1=deadbeef,v1={good},v0=ignored");
        assert_eq!(verify(SECRET, Some(&header), body, 1_700_000_100), Ok(()));
    }

    #[test]
    fn tampered_stale_and_malformed_signatures_are_refused() {
        let body = br#"{"id":"evt_1"}"#;
        let good = sign(SECRET, 1_700_000_000, body);
        let header = format!("t=1700000000,v1={good}");
        assert_eq!(
            verify(SECRET, Some(&header), br#"{"id":"evt_2"}"#, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_other", Some(&header), body, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, Some(&header), body, 1_700_000_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(SECRET, Some("v1=abc"), body, 1_700_000_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(SECRET, Some("t=1700000000"), body, 1_700_000_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(SECRET, None, body, 1_700_000_000),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn the_signature_matches_an_independent_hmac_sha256() {
        // python3: hmac.new(b"key", b"1.payload", hashlib.sha256).hexdigest()
        assert_eq!(
            sign("key", 1, b"payload"),
            "32c9b0eaac24dc9674a36bdaa6352fb67abcb2c6d9731e18010b62b34fbdd32a"
        );
    }
}
