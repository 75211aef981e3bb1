//! The retention page's query string: the `GetRetentionMatrixRequest` it
//! stands for (checked further by the RPC's own parser, whose violations are
//! named here by their URL parameter) and what only the page has (`show`,
//! `compare`, `format`). Every bad parameter is reported at once, with the
//! values it accepts. Pure.

use growth_proto::common::v1::{DateRange, Granularity};
use growth_proto::metrics::v1::{self as pb, RetentionMetric, RetentionMode};
use growth_runtime::status::FieldViolation;

/// Each parameter of the retention page and what it accepts.
pub const PARAMS: &[(&str, &str)] = &[
    ("period", "day, week or month (default week)"),
    ("metric", "users or revenue (default users)"),
    ("mode", "on or on-or-after (default on)"),
    (
        "breakdown",
        "empty, plan, or attributes.<key> for an attribute some user has",
    ),
    (
        "from",
        "empty or a date YYYY-MM-DD, not in the future and not after to",
    ),
    ("to", "empty or a date YYYY-MM-DD, not in the future"),
    ("show", "percent or absolute (default percent)"),
    (
        "compare",
        "up to 20 cohorts of the matrix shown (e.g. 2025-03-03), comma-separated or repeated",
    ),
    ("format", "html, csv or json (default html)"),
];

/// The accepted values and what they stand for.
pub const PERIODS: &[(&str, Granularity)] = &[
    ("day", Granularity::Day),
    ("week", Granularity::Week),
    ("month", Granularity::Month),
];
/// The accepted values and what they stand for.
pub const METRICS: &[(&str, RetentionMetric)] = &[
    ("users", RetentionMetric::Users),
    ("revenue", RetentionMetric::Revenue),
];
/// The accepted values and what they stand for.
pub const MODES: &[(&str, RetentionMode)] = &[
    ("on", RetentionMode::On),
    ("on-or-after", RetentionMode::OnOrAfter),
];
/// The accepted values and what they stand for.
pub const SHOWS: &[(&str, Show)] = &[("percent", Show::Percent), ("absolute", Show::Absolute)];
const FORMATS: &[(&str, Format)] = &[
    ("html", Format::Html),
    ("csv", Format::Csv),
    ("json", Format::Json),
];
/// The most cohorts one comparison holds.
const MAX_COMPARE: usize = 20;

/// One bad parameter: its name, why, and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParam {
    /// The URL parameter.
    pub name: String,
    /// What is wrong with its value.
    pub reason: String,
    /// The values it accepts.
    pub accepts: &'static str,
}

impl BadParam {
    /// A bad parameter of the retention page. Name and reason cut as a
    /// field violation's are (a 70 kB value).
    pub fn new(name: &str, reason: impl Into<String>) -> Self {
        let cut = FieldViolation::new(name, reason);
        Self::accepting(cut, accepts)
    }

    /// A bad parameter of another page, whose `accepts` says what each of
    /// its parameters takes.
    pub fn accepting(cut: FieldViolation, accepts: fn(&str) -> &'static str) -> Self {
        Self {
            accepts: accepts(&cut.field),
            name: cut.field,
            reason: cut.reason,
        }
    }
}

/// What `name` accepts; for an unknown name, the list of parameters.
pub fn accepts(name: &str) -> &'static str {
    PARAMS.iter().find(|(n, _)| *n == name).map_or(
        "the parameters period, metric, mode, breakdown, from, to, show, compare, format",
        |(_, a)| *a,
    )
}

/// Percentages or counts of users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Retained users as a share of the cohort.
    Percent,
    /// Retained users counted.
    Absolute,
}

/// The page, or the matrix as a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The page.
    Html,
    /// `growthctl cohorts show --output csv`'s CSV.
    Csv,
    /// `growthctl cohorts show --output json`'s JSON.
    Json,
}

/// A valid query of the retention page; each value as the URL spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionQuery {
    /// `day`, `week` or `month`.
    pub period: &'static str,
    /// `users` or `revenue`.
    pub metric: &'static str,
    /// `on` or `on-or-after`.
    pub mode: &'static str,
    /// As given (checked by the RPC).
    pub breakdown: String,
    /// As given (checked by the RPC).
    pub from: String,
    /// As given (checked by the RPC).
    pub to: String,
    /// `percent` or `absolute`.
    pub show: &'static str,
    /// Cohorts to compare, in the order given.
    pub compare: Vec<String>,
    /// What to answer with.
    pub format: Format,
}

fn wire<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

impl RetentionQuery {
    /// The RPC request this page shows.
    pub fn request(&self) -> pb::GetRetentionMatrixRequest {
        let cohorts = (!self.from.is_empty() || !self.to.is_empty()).then(|| DateRange {
            from: self.from.clone(),
            to: self.to.clone(),
        });
        pb::GetRetentionMatrixRequest {
            granularity: wire(PERIODS, self.period).map_or(0, |g| g as i32),
            metric: wire(METRICS, self.metric).map_or(0, |m| m as i32),
            mode: wire(MODES, self.mode).map_or(0, |m| m as i32),
            breakdown: self.breakdown.clone(),
            cohorts,
        }
    }

    /// Counts rather than percentages.
    pub fn show(&self) -> Show {
        wire(SHOWS, self.show).unwrap_or(Show::Percent)
    }

    /// The query string of this page in `format` (`compare` left out when
    /// `compare` is false): what a link or an export repeats.
    pub fn link(&self, format: Format, compare: bool) -> String {
        let mut pairs = vec![
            ("period", self.period.to_owned()),
            ("metric", self.metric.to_owned()),
            ("mode", self.mode.to_owned()),
        ];
        for (name, value) in [
            ("breakdown", &self.breakdown),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                pairs.push((name, value.clone()));
            }
        }
        pairs.push(("show", self.show.to_owned()));
        if compare && !self.compare.is_empty() {
            pairs.push(("compare", self.compare.join(",")));
        }
        if let Some((name, _)) = FORMATS.iter().find(|(_, f)| *f == format)
            && format != Format::Html
        {
            pairs.push(("format", (*name).to_owned()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// The value of `name` among `table`'s names; empty is `default`.
fn choice<T: Copy>(
    errors: &mut Vec<BadParam>,
    table: &[(&'static str, T)],
    name: &str,
    value: Option<&str>,
    default: &'static str,
) -> &'static str {
    match value.map(str::trim).unwrap_or_default() {
        "" => default,
        v => match table.iter().find(|(n, _)| n.eq_ignore_ascii_case(v)) {
            Some((n, _)) => n,
            None => {
                errors.push(BadParam::new(name, format!("{v:?} is not accepted")));
                default
            }
        },
    }
}

/// Parses a query string (without the `?`).
pub fn retention(query: &str) -> Result<RetentionQuery, Vec<BadParam>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| vec![BadParam::new("query", "is not a URL-encoded query string")])?;
    let mut errors = Vec::new();
    let mut single = |name: &str| -> Option<String> {
        let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = values.next().cloned();
        if values.next().is_some() {
            errors.push(BadParam::new(name, "is given more than once"));
        }
        first
    };
    let (period, metric, mode) = (single("period"), single("metric"), single("mode"));
    let (breakdown, from, to) = (single("breakdown"), single("from"), single("to"));
    let (show, format) = (single("show"), single("format"));
    for (name, value) in &pairs {
        if !PARAMS.iter().any(|(n, _)| n == name) {
            errors.push(BadParam::new(
                name,
                format!("is not a parameter of this page (value {value:?})"),
            ));
        }
    }
    let mut compare: Vec<String> = Vec::new();
    for c in pairs
        .iter()
        .filter(|(k, _)| k == "compare")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if !compare.iter().any(|k| k == c) {
            compare.push(c.to_owned());
        }
    }
    if compare.len() > MAX_COMPARE {
        errors.push(BadParam::new(
            "compare",
            format!("names {} cohorts", compare.len()),
        ));
    }
    let text = |value: Option<String>| value.map(|v| v.trim().to_owned()).unwrap_or_default();
    let query = RetentionQuery {
        period: choice(&mut errors, PERIODS, "period", period.as_deref(), "week"),
        metric: choice(&mut errors, METRICS, "metric", metric.as_deref(), "users"),
        mode: choice(&mut errors, MODES, "mode", mode.as_deref(), "on"),
        breakdown: text(breakdown),
        from: text(from),
        to: text(to),
        show: choice(&mut errors, SHOWS, "show", show.as_deref(), "percent"),
        compare,
        format: wire(
            FORMATS,
            choice(&mut errors, FORMATS, "format", format.as_deref(), "html"),
        )
        .unwrap_or(Format::Html),
    };
    if errors.is_empty() {
        Ok(query)
    } else {
        Err(errors)
    }
}

/// The RPC's violations named by their URL parameter.
pub fn from_violations(violations: Vec<FieldViolation>) -> Vec<BadParam> {
    violations
        .into_iter()
        .map(|v| {
            let name = match v.field.as_str() {
                "granularity" => "period",
                "cohorts.from" => "from",
                "cohorts.to" => "to",
                other => other,
            };
            BadParam::new(name, v.reason)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_query_is_the_weekly_user_matrix_in_percent() {
        let q = retention("").expect("valid");
        let r = q.request();
        assert_eq!(r.granularity, Granularity::Week as i32);
        assert_eq!(r.metric, RetentionMetric::Users as i32);
        assert_eq!(r.cohorts, None);
        assert_eq!((q.show(), q.format), (Show::Percent, Format::Html));
    }

    #[test]
    fn every_bad_parameter_is_named_with_what_it_accepts() {
        let bad = retention("period=year&mode=sometimes&format=xml&colour=red&show=a&show=b")
            .expect_err("invalid");
        let names: Vec<&str> = bad.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            ["show", "colour", "period", "mode", "show", "format"]
        );
        assert_eq!(bad[2].accepts, "day, week or month (default week)");
        assert!(bad[1].accepts.contains("period, metric"), "{:?}", bad[1]);
    }

    #[test]
    fn a_link_repeats_the_page_and_parses_back_to_it() {
        let q = retention(
            "period=month&metric=revenue&mode=on-or-after&breakdown=plan&from=2025-01-01&show=absolute&compare=2025-01-01&compare=2025-02-01,2025-01-01",
        )
        .expect("valid");
        assert_eq!(q.compare, ["2025-01-01", "2025-02-01"]);
        let csv = q.link(Format::Csv, true);
        assert!(csv.ends_with("&format=csv"), "{csv}");
        let again = retention(&csv).expect("valid");
        assert_eq!(again.format, Format::Csv);
        assert_eq!(retention(&q.link(Format::Html, true)), Ok(q.clone()));
        assert!(!q.link(Format::Html, false).contains("compare"));
        assert_eq!(
            q.request().cohorts.map(|c| (c.from, c.to)),
            Some(("2025-01-01".to_owned(), String::new()))
        );
    }

    #[test]
    fn the_rpcs_fields_are_named_by_their_parameters() {
        let bad = from_violations(vec![
            FieldViolation::new("granularity", "is required"),
            FieldViolation::new("cohorts.to", "2999-01-01 is in the future"),
        ]);
        assert_eq!(bad[0].name, "period");
        assert_eq!(
            (bad[1].name.as_str(), bad[1].accepts),
            ("to", accepts("to"))
        );
    }
}
