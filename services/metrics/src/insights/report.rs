//! A week's report computed from its inputs: the KPI series (13 weeks: the
//! 12 before and the week), the anomalies of the daily and weekly series,
//! and the rule-based insights. Pure; `crate::api::insights` gathers the
//! inputs and stores the result.

use chrono::NaiveDate;

use super::anomaly::{self, Anomaly, Floor, Method, PEOPLE};
use super::kpi::{HISTORY_WEEKS, Kpi, Series, Unit};
use super::rules::{self, Audit, Flagged, Insight};
use super::week::Week;
use crate::active::series::Day;
use crate::revenue::money::MonthMoney;
use crate::revenue::movements::MonthTotals;

/// Weeks the report reads: the 12 before and its own.
pub const WEEKS: usize = HISTORY_WEEKS + 1;
/// Weeks of the same weekday a day is compared with.
pub const SAME_WEEKDAY_WEEKS: usize = 8;

/// A day's active users.
pub type Dated = (NaiveDate, Day);

/// What a report is computed from.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Active users of every day from the first week's Monday to the
    /// report week's Sunday.
    pub days: Vec<Dated>,
    /// Signups per week, oldest first ([`WEEKS`]).
    pub signups: Vec<i64>,
    /// Trials that ended per week and those of them converted to paid.
    pub trials: Vec<(i64, i64)>,
    /// MRR movements per currency and week (`k` = 1..=[`WEEKS`]).
    pub mrr: Vec<MonthTotals>,
    /// Money per currency and week (`k` = 1..=[`WEEKS`]).
    pub money: Vec<MonthMoney>,
    /// The month's latest audit.
    pub audit: Audit,
    /// The audited month, "YYYY-MM".
    pub audit_month: String,
    /// Whether the lifecycle service answered.
    pub lifecycle_reachable: bool,
}

/// One plan's week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanWeek {
    /// The plan.
    pub plan: String,
    /// The currency.
    pub currency: String,
    /// Customers with MRR > 0 on it at the week's end.
    pub customers: i64,
    /// MRR on it at the week's end, minor units.
    pub mrr: i64,
    /// Customers whose subscription on it started paying in the week.
    pub new_customers: i64,
    /// Customers whose subscription on it stopped paying in the week.
    pub churned_customers: i64,
}

/// An anomaly with what it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The series (a KPI name, "dau" for the daily series).
    pub series: String,
    /// Its label.
    pub label: String,
    /// The day or week.
    pub at: String,
    /// The numbers.
    pub anomaly: Anomaly,
}

impl Found {
    /// The sentence: value, baseline and method.
    pub fn description(&self) -> String {
        let a = &self.anomaly;
        match a.method {
            Method::FlatLine => format!(
                "No counted event at all on {} (a usual day has {:.0} active users): ingest has probably stopped.",
                self.at, a.baseline
            ),
            Method::RobustZ | Method::RobustZSameWeekday => format!(
                "{} was {} in {} against a baseline of {} (median of {} {}; robust z = {:.1}).",
                self.label,
                number(a.value),
                self.at,
                number(a.baseline),
                a.points,
                if a.method == Method::RobustZSameWeekday {
                    "same weekdays"
                } else {
                    "weeks before"
                },
                a.score
            ),
        }
    }
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// A computed report.
#[derive(Debug, Clone)]
pub struct Computed {
    /// The KPIs.
    pub kpis: Vec<Kpi>,
    /// The anomalies, most severe first.
    pub anomalies: Vec<Found>,
    /// The rule-based insights.
    pub insights: Vec<Insight>,
    /// The report week's MRR movements per currency.
    pub mrr: Vec<MonthTotals>,
    /// The report week's money per currency.
    pub money: Vec<MonthMoney>,
}

fn series(
    name: &str,
    label: &str,
    unit: Unit,
    currency: &str,
    up: bool,
    weeks: Vec<f64>,
) -> Series {
    Series {
        name: name.into(),
        label: label.into(),
        unit,
        currency: currency.into(),
        higher_is_better: up,
        weeks,
    }
}

/// The report of `week` from `inputs`.
pub fn compute(week: Week, inputs: &Inputs) -> Computed {
    let weekly =
        |f: &dyn Fn(&[Dated]) -> f64| -> Vec<f64> { inputs.days.chunks(7).map(f).collect() };
    let sunday = |days: &[Dated]| days.last().map_or(Day::default(), |d| d.1);
    let mean = |days: &[Dated], f: &dyn Fn(&Day) -> f64| {
        days.iter().map(|(_, d)| f(d)).sum::<f64>() / days.len().max(1) as f64
    };
    let mut kpis = vec![
        series(
            "signups",
            "Signups",
            Unit::Count,
            "",
            true,
            inputs.signups.iter().map(|n| *n as f64).collect(),
        ),
        series(
            "dau",
            "Daily active users (mean)",
            Unit::Count,
            "",
            true,
            weekly(&|d| mean(d, &|x| x.dau as f64)),
        ),
        series(
            "wau",
            "Weekly active users",
            Unit::Count,
            "",
            true,
            weekly(&|d| sunday(d).wau as f64),
        ),
        series(
            "mau",
            "Monthly active users (28 days)",
            Unit::Count,
            "",
            true,
            weekly(&|d| sunday(d).mau as f64),
        ),
        series(
            "stickiness",
            "Stickiness (DAU/MAU)",
            Unit::Ratio,
            "",
            true,
            weekly(&|d| mean(d, &Day::stickiness)),
        ),
        series(
            "new_actives",
            "New active users",
            Unit::Count,
            "",
            true,
            weekly(&|d| d.iter().map(|x| x.1.new as f64).sum()),
        ),
        series(
            "resurrected",
            "Resurrected users",
            Unit::Count,
            "",
            true,
            weekly(&|d| d.iter().map(|x| x.1.resurrected as f64).sum()),
        ),
        series(
            "trial_conversion",
            "Trial to paid conversion",
            Unit::Ratio,
            "",
            true,
            inputs
                .trials
                .iter()
                .map(|(ended, paid)| {
                    if *ended == 0 {
                        0.0
                    } else {
                        *paid as f64 / *ended as f64
                    }
                })
                .collect(),
        ),
    ];
    let mut currencies: Vec<&str> = inputs.mrr.iter().map(|t| t.currency.as_str()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    for c in &currencies {
        let per_week = |f: &dyn Fn(&MonthTotals) -> i64| -> Vec<f64> {
            (1..=WEEKS as i32)
                .map(|k| {
                    inputs
                        .mrr
                        .iter()
                        .find(|t| t.k == k && t.currency == *c)
                        .map_or(0.0, |t| f(t) as f64)
                })
                .collect()
        };
        let up = c.to_ascii_uppercase();
        kpis.push(series(
            &format!("mrr_{c}"),
            &format!("MRR ({up})"),
            Unit::MoneyMinor,
            c,
            true,
            per_week(&|t| t.mrr_end),
        ));
        kpis.push(series(
            &format!("churned_customers_{c}"),
            &format!("Churned customers ({up})"),
            Unit::Count,
            "",
            false,
            per_week(&|t| t.churned_customers),
        ));
    }
    let kpis: Vec<Kpi> = kpis.into_iter().map(Kpi::of).collect();
    let anomalies = anomalies(week, inputs, &kpis);
    let this_week = WEEKS as i32;
    let mrr: Vec<MonthTotals> = inputs
        .mrr
        .iter()
        .filter(|t| t.k == this_week)
        .cloned()
        .collect();
    let money: Vec<MonthMoney> = inputs
        .money
        .iter()
        .filter(|m| m.k == this_week)
        .cloned()
        .collect();
    let flagged: Vec<Flagged> = anomalies
        .iter()
        .map(|f| Flagged {
            series: f.series.clone(),
            at: f.at.clone(),
            method: f.anomaly.method,
            level: f.anomaly.level,
        })
        .collect();
    let insights = rules::insights(&rules::Facts {
        kpis: &kpis,
        mrr: &mrr,
        money: &money,
        anomalies: &flagged,
        audit: inputs.audit,
        audit_month: &inputs.audit_month,
        lifecycle_reachable: inputs.lifecycle_reachable,
    });
    Computed {
        kpis,
        anomalies,
        insights,
        mrr,
        money,
    }
}

/// The week's unusual days (DAU against the same weekday, the flat line)
/// and weeks (people KPIs against the 12 weeks before; MRR with a 5% floor).
fn anomalies(week: Week, inputs: &Inputs, kpis: &[Kpi]) -> Vec<Found> {
    let mut found = Vec::new();
    let daily: Vec<f64> = inputs.days.iter().map(|(_, d)| d.dau as f64).collect();
    for i in daily.len().saturating_sub(7)..daily.len() {
        let at = inputs.days[i].0.to_string();
        let anomaly = anomaly::flat_line(&daily, i)
            .or_else(|| anomaly::same_weekday(&daily, i, SAME_WEEKDAY_WEEKS, PEOPLE));
        if let Some(anomaly) = anomaly {
            found.push(Found {
                series: "dau".into(),
                label: "Daily active users".into(),
                at,
                anomaly,
            });
        }
    }
    for k in kpis {
        let floor = match k.series.unit {
            Unit::Count => PEOPLE,
            Unit::Ratio => Floor {
                absolute: 0.05,
                relative: 0.2,
            },
            Unit::MoneyMinor => Floor {
                absolute: 0.0,
                relative: 0.05,
            },
        };
        if k.series.name == "dau" {
            continue;
        }
        if let Some(anomaly) = anomaly::robust(k.value, &k.history, floor, Method::RobustZ) {
            found.push(Found {
                series: k.series.name.clone(),
                label: k.series.label.clone(),
                at: week.label(),
                anomaly,
            });
        }
    }
    found.sort_by(|a, b| {
        b.anomaly
            .level
            .cmp(&a.anomaly.level)
            .then(b.anomaly.score.total_cmp(&a.anomaly.score))
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(dau: impl Fn(usize) -> i64) -> Inputs {
        let monday = NaiveDate::from_ymd_opt(2025, 8, 25).expect("valid");
        let days = (0..WEEKS * 7)
            .map(|i| {
                let d = dau(i);
                (
                    monday + chrono::Duration::days(i as i64),
                    Day {
                        dau: d,
                        wau: d * 3,
                        mau: d * 6,
                        ..Day::default()
                    },
                )
            })
            .collect();
        Inputs {
            days,
            signups: vec![50; WEEKS],
            trials: vec![(10, 3); WEEKS],
            audit: Audit::Pass,
            audit_month: "2025-11".into(),
            lifecycle_reachable: true,
            ..Inputs::default()
        }
    }

    fn week() -> Week {
        Week::of(NaiveDate::from_ymd_opt(2025, 11, 17).expect("valid"))
    }

    #[test]
    fn seasonal_activity_is_no_anomaly_and_the_kpis_read_the_last_week() {
        let c = compute(week(), &inputs(|i| if i % 7 >= 5 { 400 } else { 1000 }));
        assert!(c.anomalies.is_empty(), "{:?}", c.anomalies);
        let wau = c.kpis.iter().find(|k| k.series.name == "wau").expect("wau");
        assert_eq!(
            (wau.value, wau.previous, wau.change),
            (1200.0, 1200.0, Some(0.0))
        );
        let conv = c
            .kpis
            .iter()
            .find(|k| k.series.name == "trial_conversion")
            .expect("conversion");
        assert!((conv.value - 0.3).abs() < 1e-12);
        assert_eq!(c.insights[0].rule, "steady");
    }

    #[test]
    fn a_spike_and_a_day_without_events_are_found_and_described() {
        let last = WEEKS * 7 - 1;
        let c = compute(
            week(),
            &inputs(|i| match i {
                i if i == last => 0,
                i if i == last - 2 => 5000,
                i if i % 7 >= 5 => 400,
                _ => 1000,
            }),
        );
        let methods: Vec<(Method, &str)> = c
            .anomalies
            .iter()
            .map(|f| (f.anomaly.method, f.series.as_str()))
            .collect();
        assert!(methods.contains(&(Method::FlatLine, "dau")), "{methods:?}");
        assert!(
            methods.contains(&(Method::RobustZSameWeekday, "dau")),
            "{methods:?}"
        );
        let flat = c
            .anomalies
            .iter()
            .find(|f| f.anomaly.method == Method::FlatLine)
            .expect("flat");
        assert_eq!(
            flat.description(),
            "No counted event at all on 2025-11-23 (a usual day has 1000 active users): ingest has probably stopped."
        );
        assert!(c.insights.iter().any(|i| i.rule == "check_ingest"));
    }
}
