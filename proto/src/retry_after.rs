//! The one `Retry-After` parser (RFC 9110 §10.2.3): delta-seconds or an
//! HTTP-date, capped at [`MAX`]. It takes the header's text, not an HTTP
//! library's types, so every client (reqwest, hyper, a CLI) shares it.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

/// The longest `Retry-After` taken at its word.
pub const MAX: Duration = Duration::from_secs(3600);

/// The wait a `Retry-After` value asks for, measured from `now`, at most
/// [`MAX`]. `None` for an absent or unreadable value; a date in the past
/// means no wait. Fractional seconds are accepted, as some peers send them.
pub fn parse(value: Option<&str>, now: DateTime<Utc>) -> Option<Duration> {
    let value = value?.trim();
    let wait = if let Ok(seconds) = value.parse::<f64>() {
        if !seconds.is_finite() || seconds < 0.0 {
            return None;
        }
        Duration::from_secs_f64(seconds.min(MAX.as_secs_f64()))
    } else {
        (http_date(value)? - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), and the two obsolete forms
/// RFC 9110 still asks recipients to accept: RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc2822(value) {
        return Some(at.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|at| at.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .expect("date")
            .with_timezone(&Utc)
    }

    fn at(v: &str) -> Option<Duration> {
        parse(Some(v), now())
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        assert_eq!(at("120"), Some(Duration::from_secs(120)));
        assert_eq!(at(" 1.5 "), Some(Duration::from_millis(1500)));
        assert_eq!(
            at("Sun, 01 Mar 2026 12:00:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            at("Sunday, 01-Mar-26 12:01:00 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(at("Sun Mar  1 12:00:05 2026"), Some(Duration::from_secs(5)));
        assert_eq!(at("Sun, 01 Mar 2026 11:00:00 GMT"), Some(Duration::ZERO));
    }

    #[test]
    fn it_is_capped_and_nonsense_is_ignored() {
        assert_eq!(at("99999999"), Some(MAX));
        assert_eq!(at("Mon, 01 Mar 2027 12:00:00 GMT"), Some(MAX));
        assert_eq!(at("-3"), None);
        assert_eq!(at("NaN"), None);
        assert_eq!(at("inf"), None);
        assert_eq!(at("soon"), None);
        assert_eq!(at(""), None);
        assert_eq!(parse(None, now()), None);
    }
}
