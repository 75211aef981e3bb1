//! Matrices split by plan or by one key of the users' attributes. The keys
//! are open-ended, so segments are not stored: they are computed at read
//! time from the stored rollup (one read of the cohorts in range, the same
//! one-pass matrix code) and from the payments, in one snapshot.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::matrix::{CohortCounts, Matrices, UserActivity};
use super::period::Period;
use super::revenue::{self, CohortRevenue};

/// Values with the most users that get a row of their own; the rest are
/// grouped as [`OTHER`].
pub const SEGMENT_CAP: usize = 10;
/// The segment of values past the cap.
pub const OTHER: &str = "other";
/// The segment of users without the value.
pub const NONE: &str = "(none)";

/// What to split cohorts by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breakdown {
    /// The user's plan.
    Plan,
    /// One key of the user's attributes.
    Attribute(String),
}

impl Breakdown {
    /// Parses `plan` or `attributes.<key>` (key: 1 to 64 letters, digits,
    /// `_`, `-` or `.`); empty means none.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text == "plan" {
            return Ok(Some(Breakdown::Plan));
        }
        match text.strip_prefix("attributes.") {
            Some(key)
                if !key.is_empty()
                    && key.len() <= 64
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) =>
            {
                Ok(Some(Breakdown::Attribute(key.to_owned())))
            }
            Some(key) => Err(format!(
                "{key:?} is not an attribute key (1 to 64 letters, digits, '_', '-' or '.')"
            )),
            None => Err(format!(
                "must be \"plan\" or \"attributes.<key>\", got {text:?}"
            )),
        }
    }

    /// The attribute key; `None` for the plan.
    pub fn key(&self) -> Option<&str> {
        match self {
            Breakdown::Plan => None,
            Breakdown::Attribute(key) => Some(key),
        }
    }
}

/// One segment of one cohort.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentRow {
    /// Cohort start.
    pub cohort: NaiveDate,
    /// The breakdown value, [`OTHER`] or [`NONE`].
    pub segment: String,
    /// Users counts of the segment.
    pub counts: CohortCounts,
    /// Revenue of the segment per currency.
    pub revenue: BTreeMap<String, CohortRevenue>,
}

/// Maps raw values to segments: the [`SEGMENT_CAP`] values with the most
/// users keep their name; the others become [`OTHER`], a missing value
/// [`NONE`]. Returns the map and the segment order (by users, then name;
/// "other" and "(none)" last).
fn segments(values: &HashMap<Option<String>, usize>) -> (HashMap<String, usize>, Vec<String>) {
    // A real value spelled like a special segment is grouped into "other".
    let special = |v: &String| v == OTHER || v == NONE;
    let mut ranked: Vec<(&String, usize)> = values
        .iter()
        .filter_map(|(v, n)| v.as_ref().map(|v| (v, *n)))
        .filter(|(v, _)| !special(v))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut order: Vec<String> = ranked
        .iter()
        .take(SEGMENT_CAP)
        .map(|(v, _)| (*v).clone())
        .collect();
    if ranked.len() > SEGMENT_CAP || values.keys().flatten().any(special) {
        order.push(OTHER.to_owned());
    }
    if values.contains_key(&None) {
        order.push(NONE.to_owned());
    }
    let rank = order
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), i))
        .collect();
    (rank, order)
}

fn segment_of(rank: &HashMap<String, usize>, value: Option<&str>) -> String {
    match value {
        None => NONE.to_owned(),
        Some(v) if rank.contains_key(v) && v != OTHER && v != NONE => v.to_owned(),
        Some(_) => OTHER.to_owned(),
    }
}

/// The segmented rows of the `period` cohorts from one snapshot of their
/// `users` (with their breakdown value) and the money `flows` of their
/// cohort days (by value): segments by users, then name.
pub fn rows(
    period: Period,
    users: Vec<(UserActivity, Option<String>)>,
    flows: Vec<revenue::Flow>,
) -> Vec<SegmentRow> {
    let mut values: HashMap<Option<String>, usize> = HashMap::new();
    for (_, v) in &users {
        *values.entry(v.clone()).or_default() += 1;
    }
    let (rank, order) = segments(&values);

    let mut by_segment: HashMap<String, Vec<UserActivity>> = HashMap::new();
    for (user, value) in users {
        by_segment
            .entry(segment_of(&rank, value.as_deref()))
            .or_default()
            .push(user);
    }
    let mut flows_by_segment: HashMap<String, Vec<revenue::Flow>> = HashMap::new();
    for f in flows {
        flows_by_segment
            .entry(segment_of(&rank, f.segment.as_deref()))
            .or_default()
            .push(f);
    }

    let mut rows = Vec::new();
    for segment in &order {
        let counts = by_segment
            .get(segment)
            .map(Matrices::compute)
            .unwrap_or_default();
        let mut money = flows_by_segment
            .get(segment)
            .map(|f| revenue::compute(f, &[period]))
            .unwrap_or_default()
            .remove(&period)
            .unwrap_or_default();
        if let Some(cohorts) = counts.by_period.get(&period) {
            for (cohort, c) in cohorts {
                rows.push(SegmentRow {
                    cohort: *cohort,
                    segment: segment.clone(),
                    counts: c.clone(),
                    revenue: money.remove(cohort).unwrap_or_default(),
                });
            }
        }
    }
    let position: HashMap<&String, usize> = order.iter().zip(0..).collect();
    rows.sort_by_key(|r| (r.cohort, position.get(&r.segment).copied()));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdowns_parse_or_name_the_problem() {
        assert_eq!(Breakdown::parse(""), Ok(None));
        assert_eq!(Breakdown::parse("plan"), Ok(Some(Breakdown::Plan)));
        assert_eq!(
            Breakdown::parse("attributes.country"),
            Ok(Some(Breakdown::Attribute("country".into())))
        );
        assert!(
            Breakdown::parse("attributes.")
                .unwrap_err()
                .contains("not an attribute key")
        );
        assert!(
            Breakdown::parse("attributes.a b")
                .unwrap_err()
                .contains("not an attribute key")
        );
        assert!(
            Breakdown::parse("country")
                .unwrap_err()
                .contains("must be \"plan\"")
        );
    }

    #[test]
    fn the_biggest_values_keep_their_names_and_the_rest_are_other() {
        let mut values: HashMap<Option<String>, usize> = (0..12)
            .map(|i| (Some(format!("v{i:02}")), 100 - i))
            .collect();
        values.insert(None, 3);
        let (rank, order) = segments(&values);
        assert_eq!(order.len(), SEGMENT_CAP + 2);
        assert_eq!(order[0], "v00");
        assert_eq!(order[SEGMENT_CAP - 1], "v09");
        assert_eq!(&order[SEGMENT_CAP..], [OTHER, NONE]);
        assert_eq!(segment_of(&rank, Some("v03")), "v03");
        assert_eq!(segment_of(&rank, Some("v11")), OTHER);
        assert_eq!(segment_of(&rank, None), NONE);
    }
}
