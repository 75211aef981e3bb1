//! What the overview page's panels show, computed from the RPCs' answers:
//! revenue rows and charts per currency, the latest day's active users and
//! their chart, the trial funnel per month, and the audit verdicts per
//! month. Numbers are text as growthctl prints them (`growth_proto::money`).
//! Pure.

use growth_proto::metrics::v1 as pb;
use growth_proto::money::{major, percent, with_currency};
use growth_proto::timestamp::rfc3339;

use super::trend::{self, Series, Trend};

/// One month and currency of the revenue table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenueRow {
    /// `YYYY-MM`, `(to date)` when not over.
    pub month: String,
    /// Upper case.
    pub currency: String,
    /// MRR at the month's end.
    pub mrr: String,
    /// ARR (12 × MRR).
    pub arr: String,
    /// New MRR.
    pub new: String,
    /// Expansion.
    pub expansion: String,
    /// Contraction.
    pub contraction: String,
    /// Churned MRR.
    pub churned: String,
    /// Reactivation.
    pub reactivation: String,
}

/// One currency's headline and charts.
#[derive(Debug, Clone, PartialEq)]
pub struct Currency {
    /// Upper case.
    pub code: String,
    /// The latest month's MRR, with its currency.
    pub mrr: String,
    /// The latest month's ARR, with its currency.
    pub arr: String,
    /// MRR per month.
    pub mrr_chart: Trend,
    /// The five movements per month.
    pub movements_chart: Trend,
}

/// The revenue panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Revenue {
    /// Every month and currency, oldest first.
    pub rows: Vec<RevenueRow>,
    /// Each currency seen, alphabetically.
    pub currencies: Vec<Currency>,
}

fn month_label(m: &pb::MonthlyRevenue) -> String {
    if m.partial {
        format!("{} (to date)", m.month)
    } else {
        m.month.clone()
    }
}

/// The movements drawn, their CSS classes and signs (losses below zero).
const MOVEMENTS: [(&str, i64); 5] = [
    ("new", 1),
    ("expansion", 1),
    ("reactivation", 1),
    ("contraction", -1),
    ("churned", -1),
];

fn movement(c: &pb::MrrMovements, name: &str) -> i64 {
    match name {
        "new" => c.new_minor,
        "expansion" => c.expansion_minor,
        "reactivation" => c.reactivation_minor,
        "contraction" => c.contraction_minor,
        _ => c.churned_minor,
    }
}

/// The movements of `code` in month `m`, if any.
fn find<'a>(m: &'a pb::MonthlyRevenue, code: &str) -> Option<&'a pb::MrrMovements> {
    m.currencies.iter().find(|c| c.currency == code)
}

/// The revenue panel of a `GetRevenueSummary` answer.
pub fn revenue(r: &pb::GetRevenueSummaryResponse) -> Revenue {
    let rows = r
        .months
        .iter()
        .flat_map(|m| {
            m.currencies.iter().map(move |c| {
                let money = |minor: i64| major(minor, &c.currency, false);
                RevenueRow {
                    month: month_label(m),
                    currency: c.currency.to_ascii_uppercase(),
                    mrr: money(c.mrr_minor),
                    arr: money(c.arr_minor),
                    new: money(c.new_minor),
                    expansion: money(c.expansion_minor),
                    contraction: money(c.contraction_minor),
                    churned: money(c.churned_minor),
                    reactivation: money(c.reactivation_minor),
                }
            })
        })
        .collect();
    let mut codes: Vec<&str> = r
        .months
        .iter()
        .flat_map(|m| m.currencies.iter().map(|c| c.currency.as_str()))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let x: Vec<String> = r.months.iter().map(|m| m.month.clone()).collect();
    let currencies = codes
        .into_iter()
        .map(|code| {
            let upper = code.to_ascii_uppercase();
            let reading = |v: f64| with_currency(v.round() as i64, code);
            let mrr = Series {
                label: "MRR".into(),
                class: "c0".into(),
                values: r
                    .months
                    .iter()
                    .map(|m| Some(find(m, code).map_or(0, |c| c.mrr_minor) as f64))
                    .collect(),
            };
            let movements: Vec<Series> = MOVEMENTS
                .iter()
                .map(|(name, sign)| Series {
                    label: (*name).to_owned(),
                    class: format!("m-{name}"),
                    values: r
                        .months
                        .iter()
                        .map(|m| find(m, code).map(|c| (sign * movement(c, name)) as f64))
                        .collect(),
                })
                .collect();
            let latest = r.months.iter().rev().find_map(|m| find(m, code));
            Currency {
                mrr: with_currency(latest.map_or(0, |c| c.mrr_minor), code),
                arr: with_currency(latest.map_or(0, |c| c.arr_minor), code),
                mrr_chart: trend::lines(&format!("MRR, {upper}, by month"), &x, &[mrr], &reading),
                movements_chart: trend::bars(
                    &format!("MRR movements, {upper}, by month (losses below zero)"),
                    &x,
                    &movements,
                    &reading,
                ),
                code: upper,
            }
        })
        .collect();
    Revenue { rows, currencies }
}

/// The active-users panel: the latest day's numbers and the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Active {
    /// The latest complete day.
    pub day: String,
    /// Its DAU.
    pub dau: i64,
    /// Its WAU.
    pub wau: i64,
    /// Its MAU.
    pub mau: i64,
    /// DAU / MAU.
    pub stickiness: String,
    /// DAU, WAU and MAU per day.
    pub chart: Trend,
}

/// The active-users panel of a `GetActiveUsers` answer (`None`: no days).
pub fn active(r: &pb::GetActiveUsersResponse) -> Option<Active> {
    let last = r.days.last()?;
    let x: Vec<String> = r.days.iter().map(|d| d.day.clone()).collect();
    let series = [
        ("DAU", "c0", (|d| d.dau) as fn(&pb::DailyActiveUsers) -> i64),
        ("WAU", "c1", |d| d.wau),
        ("MAU", "c2", |d| d.mau),
    ]
    .map(|(label, class, get)| Series {
        label: label.into(),
        class: class.into(),
        values: r.days.iter().map(|d| Some(get(d) as f64)).collect(),
    });
    let reading = |v: f64| format!("{v:.0} users");
    Some(Active {
        day: last.day.clone(),
        dau: last.dau,
        wau: last.wau,
        mau: last.mau,
        stickiness: percent(last.stickiness),
        chart: trend::lines(
            &format!("Daily, weekly and monthly active users, {} days", x.len()),
            &x,
            &series,
            &reading,
        ),
    })
}

/// Trials that ended in a period and how many converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelRow {
    /// The month, or "all" for the total.
    pub month: String,
    /// Trials that ended.
    pub ended: i64,
    /// Of them, users who paid by seven days after.
    pub converted: i64,
    /// converted / ended, or `n/a` when none ended.
    pub rate: String,
}

fn funnel_row(month: String, ended: i64, converted: i64) -> FunnelRow {
    FunnelRow {
        month,
        ended,
        converted,
        rate: if ended > 0 {
            percent(converted as f64 / ended as f64)
        } else {
            "n/a".to_owned()
        },
    }
}

/// Per month (`months` and `trials` in the same order), then the total.
pub fn funnel(months: &[String], trials: &[(i64, i64)]) -> (Vec<FunnelRow>, FunnelRow) {
    let rows = months
        .iter()
        .zip(trials)
        .map(|(m, (ended, paid))| funnel_row(m.clone(), *ended, *paid))
        .collect();
    let (ended, paid) = trials
        .iter()
        .fold((0, 0), |(e, p), (ended, paid)| (e + ended, p + paid));
    (rows, funnel_row("all".to_owned(), ended, paid))
}

/// A month's latest audit run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// `YYYY-MM`.
    pub month: String,
    /// PASS, WARNING, FAIL, RUNNING, FAILED (`growth_proto::audit`), or
    /// "not audited".
    pub verdict: String,
    /// When it finished (or started, while running); empty when none.
    pub run_at: String,
    /// CSS class of the verdict.
    pub class: &'static str,
}

/// A run's verdict as growthctl shows it (a run without one shows its
/// status: FAILED, RUNNING), and its CSS class.
pub fn verdict(run: &pb::AuditRun) -> (String, &'static str) {
    let label = growth_proto::audit::verdict_label(run);
    let class = match label {
        "PASS" => "v-pass",
        "WARNING" => "v-warning",
        "FAIL" | "FAILED" => "v-fail",
        _ => "v-none",
    };
    (label.to_owned(), class)
}

/// A row per month (newest first) from its latest run, if any.
pub fn audits(latest: &[(String, Option<pb::AuditRun>)]) -> Vec<AuditRow> {
    latest
        .iter()
        .map(|(month, run)| match run {
            None => AuditRow {
                month: month.clone(),
                verdict: "not audited".into(),
                run_at: String::new(),
                class: "v-none",
            },
            Some(run) => {
                let (verdict, class) = verdict(run);
                AuditRow {
                    month: month.clone(),
                    verdict,
                    run_at: rfc3339(run.finished_at.as_ref().or(run.started_at.as_ref()))
                        .unwrap_or_default(),
                    class,
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_audit_run_shows_failed_as_growthctl_does() {
        let run = |status: pb::AuditRunStatus, verdict: pb::AuditVerdict| pb::AuditRun {
            status: status as i32,
            verdict: verdict as i32,
            ..Default::default()
        };
        let failed = run(pb::AuditRunStatus::Failed, pb::AuditVerdict::Unspecified);
        assert_eq!(verdict(&failed), ("FAILED".to_owned(), "v-fail"));
        let running = run(pb::AuditRunStatus::Running, pb::AuditVerdict::Unspecified);
        assert_eq!(verdict(&running), ("RUNNING".to_owned(), "v-none"));
        let passed = run(pb::AuditRunStatus::Completed, pb::AuditVerdict::Pass);
        assert_eq!(verdict(&passed), ("PASS".to_owned(), "v-pass"));
    }

    #[test]
    fn the_funnel_totals_and_a_month_without_trials_has_no_rate() {
        let months = ["2025-01".to_owned(), "2025-02".to_owned()];
        let (rows, total) = funnel(&months, &[(4, 1), (0, 0)]);
        assert_eq!(rows[0].rate, "25.0%");
        assert_eq!(rows[1].rate, "n/a");
        assert_eq!(
            (total.ended, total.converted, total.rate.as_str()),
            (4, 1, "25.0%")
        );
    }

    #[test]
    fn revenue_rows_are_major_units_and_losses_are_drawn_below_zero() {
        let r = pb::GetRevenueSummaryResponse {
            months: vec![pb::MonthlyRevenue {
                month: "2025-01".into(),
                partial: true,
                currencies: vec![pb::MrrMovements {
                    currency: "usd".into(),
                    mrr_minor: 123_456,
                    arr_minor: 1_481_472,
                    churned_minor: 500,
                    ..Default::default()
                }],
            }],
            time_zone: "UTC".into(),
        };
        let v = revenue(&r);
        assert_eq!(v.rows[0].month, "2025-01 (to date)");
        assert_eq!(
            (v.rows[0].mrr.as_str(), v.rows[0].arr.as_str()),
            ("1,234.56", "14,814.72")
        );
        assert_eq!(v.currencies[0].mrr, "1,234.56 USD");
        let churned = v.currencies[0]
            .movements_chart
            .bars
            .iter()
            .find(|b| b.class == "m-churned")
            .map(|b| b.tip.clone());
        assert_eq!(churned.as_deref(), Some("churned 2025-01: -5.00 USD"));
    }
}
