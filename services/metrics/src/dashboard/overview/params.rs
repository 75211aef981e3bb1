//! The overview page's query string: `months`, the window of months its
//! revenue, funnel and audit panels show (the current month and the ones
//! before it). Anything else is refused, naming it, with what the page
//! accepts. Pure.

use growth_runtime::status::FieldViolation;

use crate::dashboard::params::BadParam;

/// Months shown when the query names none.
pub const DEFAULT_MONTHS: u32 = 12;
/// The most months one page shows (ten years, the revenue summary's cap).
pub const MAX_MONTHS: u32 = 120;

const MONTHS_ACCEPTS: &str =
    "a whole number of months from 1 to 120, this month included (default 12)";

/// What each parameter of the overview page accepts.
fn accepts(name: &str) -> &'static str {
    match name {
        "months" => MONTHS_ACCEPTS,
        _ => "the parameter months only",
    }
}

fn bad(name: &str, reason: impl Into<String>) -> BadParam {
    BadParam::accepting(FieldViolation::new(name, reason), accepts)
}

/// A valid query of the overview page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverviewQuery {
    /// Months in the window, 1 to [`MAX_MONTHS`].
    pub months: u32,
}

/// Parses a query string (without the `?`).
pub fn overview(query: &str) -> Result<OverviewQuery, Vec<BadParam>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| vec![bad("query", "is not a URL-encoded query string")])?;
    let mut errors = Vec::new();
    let mut months = DEFAULT_MONTHS;
    let mut seen = false;
    for (name, value) in &pairs {
        if name != "months" {
            errors.push(bad(
                name,
                format!("is not a parameter of this page (value {value:?})"),
            ));
            continue;
        }
        if seen {
            errors.push(bad(name, "is given more than once"));
            continue;
        }
        seen = true;
        match value.trim() {
            "" => {}
            v => match v.parse::<u32>() {
                Ok(n) if (1..=MAX_MONTHS).contains(&n) => months = n,
                _ => errors.push(bad(name, format!("{v:?} is not accepted"))),
            },
        }
    }
    if errors.is_empty() {
        Ok(OverviewQuery { months })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_default_to_twelve_and_bad_values_are_named_with_what_is_accepted() {
        assert_eq!(overview("").map(|q| q.months), Ok(12));
        assert_eq!(overview("months=3").map(|q| q.months), Ok(3));
        for q in [
            "months=0",
            "months=121",
            "months=x",
            "months=-1",
            "months=3&months=4",
        ] {
            let bad = overview(q).expect_err(q);
            assert_eq!(bad[0].name, "months", "{q}");
            assert_eq!(bad[0].accepts, MONTHS_ACCEPTS, "{q}");
        }
        let bad = overview("period=week").expect_err("unknown");
        assert_eq!(
            (bad[0].name.as_str(), bad[0].accepts),
            ("period", "the parameter months only")
        );
    }
}
