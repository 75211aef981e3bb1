//! Rule-based insights: drivers, bottlenecks and recommendations from the
//! week's numbers, always produced, deterministic, each citing the numbers
//! behind it. Pure: the same facts give the same sentences in the same
//! order.

use growth_proto::money::{percent, with_currency};

use super::anomaly::{Level, Method};
use super::kpi::Kpi;
use crate::revenue::money::MonthMoney;
use crate::revenue::movements::MonthTotals;

/// The kind of an insight (the wire's `InsightKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// What drove growth.
    Driver,
    /// What held it back.
    Bottleneck,
    /// What to do next.
    Recommendation,
}

/// One insight.
#[derive(Debug, Clone, PartialEq)]
pub struct Insight {
    /// Its kind.
    pub kind: Kind,
    /// The rule's machine name.
    pub rule: &'static str,
    /// The sentence, with its numbers.
    pub text: String,
    /// The KPIs it cites.
    pub kpis: Vec<String>,
}

/// An anomaly as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Flagged {
    /// The series.
    pub series: String,
    /// Where ("2025-11-19", "2025-W47").
    pub at: String,
    /// How it was found.
    pub method: Method,
    /// How serious.
    pub level: Level,
}

/// The latest audit's verdict as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Audit {
    /// Never audited.
    #[default]
    None,
    /// PASS.
    Pass,
    /// WARNING.
    Warning,
    /// FAIL.
    Fail,
    /// The run did not finish.
    Failed,
}

/// What the rules read.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The KPIs.
    pub kpis: &'a [Kpi],
    /// The week's MRR movements, per currency.
    pub mrr: &'a [MonthTotals],
    /// The week's money, per currency.
    pub money: &'a [MonthMoney],
    /// The anomalies.
    pub anomalies: &'a [Flagged],
    /// The month's latest audit.
    pub audit: Audit,
    /// The audited month, "YYYY-MM".
    pub audit_month: &'a str,
    /// Whether the lifecycle service answered.
    pub lifecycle_reachable: bool,
}

/// A change this large (relative, week over week) is worth a sentence.
pub const NOTABLE_CHANGE: f64 = 0.1;
/// Refunds above this share of the week's revenue are a bottleneck.
pub const REFUND_SHARE: f64 = 0.05;
/// Stickiness (DAU/MAU) below this calls for a recommendation.
pub const LOW_STICKINESS: f64 = 0.1;

fn kpi<'a>(facts: &'a Facts<'_>, name: &str) -> Option<&'a Kpi> {
    facts.kpis.iter().find(|k| k.series.name == name)
}

fn signed(ratio: f64) -> String {
    format!("{}{}", if ratio >= 0.0 { "+" } else { "" }, percent(ratio))
}

/// The insights of `facts`, drivers first, then bottlenecks, then
/// recommendations.
pub fn insights(facts: &Facts<'_>) -> Vec<Insight> {
    let mut out = Vec::new();
    mrr(facts, &mut out);
    people(facts, &mut out);
    refunds(facts, &mut out);
    conversion(facts, &mut out);
    operations(facts, &mut out);
    if !out.iter().any(|i| i.kind != Kind::Recommendation) {
        out.push(Insight {
            kind: Kind::Driver,
            rule: "steady",
            text: format!(
                "A steady week: no KPI moved by {} or more against last week.",
                percent(NOTABLE_CHANGE)
            ),
            kpis: vec![],
        });
    }
    out.sort_by_key(|i| i.kind);
    out
}

fn mrr(facts: &Facts<'_>, out: &mut Vec<Insight>) {
    for t in facts.mrr {
        let c = t.currency.as_str();
        let gained = t.new + t.expansion + t.reactivation;
        let lost = t.contraction + t.churned;
        let net = gained - lost;
        let name = format!("mrr_{c}");
        if net != 0 {
            let change = if t.mrr_start == 0 {
                String::new()
            } else {
                format!(" ({})", signed(net as f64 / t.mrr_start as f64))
            };
            let (kind, verb) = if net > 0 {
                (Kind::Driver, "grew")
            } else {
                (Kind::Bottleneck, "shrank")
            };
            out.push(Insight {
                kind,
                rule: if net > 0 { "mrr_growth" } else { "mrr_decline" },
                text: format!(
                    "MRR in {} {verb} by {}{change} to {}: new {}, expansion {}, reactivation {} against contraction {} and churn {}.",
                    c.to_ascii_uppercase(),
                    with_currency(net.abs(), c),
                    with_currency(t.mrr_end, c),
                    with_currency(t.new, c),
                    with_currency(t.expansion, c),
                    with_currency(t.reactivation, c),
                    with_currency(t.contraction, c),
                    with_currency(t.churned, c),
                ),
                kpis: vec![name.clone()],
            });
        }
        if lost > 0 && t.churned > t.new + t.reactivation {
            out.push(Insight {
                kind: Kind::Bottleneck,
                rule: "churn_over_new",
                text: format!(
                    "Churn in {} ({}) exceeded new and reactivated MRR ({}).",
                    c.to_ascii_uppercase(),
                    with_currency(t.churned, c),
                    with_currency(t.new + t.reactivation, c)
                ),
                kpis: vec![name.clone()],
            });
            out.push(Insight {
                kind: Kind::Recommendation,
                rule: "reach_churned",
                text: format!(
                    "Contact the customers who churned in {} this week (`growthctl cohorts churn`) and ask why; {} of MRR left.",
                    c.to_ascii_uppercase(),
                    with_currency(t.churned, c)
                ),
                kpis: vec![name.clone()],
            });
        }
        if lost > 0 {
            let quick = gained as f64 / lost as f64;
            if quick < 1.0 {
                out.push(Insight {
                    kind: Kind::Bottleneck,
                    rule: "quick_ratio_below_one",
                    text: format!(
                        "Quick ratio in {} is {quick:.2}: MRR lost ({}) outpaced MRR gained ({}).",
                        c.to_ascii_uppercase(),
                        with_currency(lost, c),
                        with_currency(gained, c)
                    ),
                    kpis: vec![format!("quick_ratio_{c}")],
                });
            } else if quick >= 4.0 {
                out.push(Insight {
                    kind: Kind::Driver,
                    rule: "quick_ratio_strong",
                    text: format!(
                        "Quick ratio in {} is {quick:.2}: every unit of MRR lost was replaced {quick:.1} times.",
                        c.to_ascii_uppercase()
                    ),
                    kpis: vec![format!("quick_ratio_{c}")],
                });
            }
        }
    }
}

fn people(facts: &Facts<'_>, out: &mut Vec<Insight>) {
    for (name, what) in [("signups", "Signups"), ("wau", "Weekly active users")] {
        let Some(k) = kpi(facts, name) else { continue };
        let Some(change) = k.change.filter(|c| c.abs() >= NOTABLE_CHANGE) else {
            continue;
        };
        out.push(Insight {
            kind: if change > 0.0 {
                Kind::Driver
            } else {
                Kind::Bottleneck
            },
            rule: if change > 0.0 {
                "people_up"
            } else {
                "people_down"
            },
            text: format!(
                "{what}: {} this week against {} last week ({}).",
                k.value,
                k.previous,
                signed(change)
            ),
            kpis: vec![name.into()],
        });
    }
    if let Some(k) = kpi(facts, "stickiness").filter(|k| k.value < LOW_STICKINESS && k.value > 0.0)
    {
        out.push(Insight {
            kind: Kind::Recommendation,
            rule: "low_stickiness",
            text: format!(
                "Stickiness (DAU/MAU) is {}: most monthly users come back rarely; find what the daily users do and lead others there.",
                percent(k.value)
            ),
            kpis: vec!["stickiness".into()],
        });
    }
}

fn refunds(facts: &Facts<'_>, out: &mut Vec<Insight>) {
    for m in facts.money {
        if m.gross <= 0 {
            continue;
        }
        let share = m.refunds as f64 / m.gross as f64;
        if share > REFUND_SHARE {
            out.push(Insight {
                kind: Kind::Bottleneck,
                rule: "refunds_high",
                text: format!(
                    "Refunds in {} were {} of the week's revenue ({} of {}).",
                    m.currency.to_ascii_uppercase(),
                    percent(share),
                    with_currency(m.refunds, &m.currency),
                    with_currency(m.gross, &m.currency)
                ),
                kpis: vec![format!("refund_share_{}", m.currency)],
            });
        }
    }
}

fn conversion(facts: &Facts<'_>, out: &mut Vec<Insight>) {
    let Some(k) = kpi(facts, "trial_conversion") else {
        return;
    };
    let usual = super::anomaly::median(&k.history);
    if usual > 0.0 && k.value < usual * (1.0 - 2.0 * NOTABLE_CHANGE) {
        out.push(Insight {
            kind: Kind::Bottleneck,
            rule: "conversion_down",
            text: format!(
                "Trial to paid conversion was {} against a usual {} (the median of 12 weeks).",
                percent(k.value),
                percent(usual)
            ),
            kpis: vec!["trial_conversion".into()],
        });
        out.push(Insight {
            kind: Kind::Recommendation,
            rule: "review_trial",
            text: "Review the trial's onboarding and the checkout: fewer trials than usual turned into payments.".into(),
            kpis: vec!["trial_conversion".into()],
        });
    }
}

fn operations(facts: &Facts<'_>, out: &mut Vec<Insight>) {
    for a in facts
        .anomalies
        .iter()
        .filter(|a| a.method == Method::FlatLine)
    {
        out.push(Insight {
            kind: Kind::Recommendation,
            rule: "check_ingest",
            text: format!(
                "No counted event at all on {}: check that the product still sends events (ingest may have stopped); the week's activity figures are low for that reason.",
                a.at
            ),
            kpis: vec![a.series.clone()],
        });
    }
    let audit = match facts.audit {
        Audit::Fail => Some("failed"),
        Audit::Warning => Some("ended with warnings"),
        Audit::Failed => Some("could not finish"),
        Audit::None => Some("has not run"),
        Audit::Pass => None,
    };
    if let Some(what) = audit {
        out.push(Insight {
            kind: Kind::Recommendation,
            rule: "audit",
            text: format!(
                "The revenue audit of {} {what}: revenue figures may not match Stripe; see `growthctl audit list --month {}`.",
                facts.audit_month, facts.audit_month
            ),
            kpis: vec![],
        });
    }
    if !facts.lifecycle_reachable {
        out.push(Insight {
            kind: Kind::Recommendation,
            rule: "lifecycle_unreachable",
            text: "The lifecycle service did not answer: the stage distribution is missing from this report.".into(),
            kpis: vec![],
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::kpi::{Series, Unit};

    fn totals(currency: &str, start: i64, new: i64, churned: i64) -> MonthTotals {
        MonthTotals {
            k: 1,
            currency: currency.into(),
            mrr_start: start,
            mrr_end: start + new - churned,
            new,
            churned,
            ..MonthTotals::default()
        }
    }

    fn facts<'a>(kpis: &'a [Kpi], mrr: &'a [MonthTotals]) -> Facts<'a> {
        Facts {
            kpis,
            mrr,
            money: &[],
            anomalies: &[],
            audit: Audit::Pass,
            audit_month: "2025-11",
            lifecycle_reachable: true,
        }
    }

    #[test]
    fn growth_and_churn_cite_their_numbers_in_a_fixed_order() {
        let mrr = [
            totals("usd", 100_000, 5_000, 1_000),
            totals("eur", 50_000, 0, 3_000),
        ];
        let got = insights(&facts(&[], &mrr));
        let rules: Vec<&str> = got.iter().map(|i| i.rule).collect();
        assert_eq!(
            rules,
            [
                "mrr_growth",
                "quick_ratio_strong",
                "mrr_decline",
                "churn_over_new",
                "quick_ratio_below_one",
                "reach_churned"
            ]
        );
        assert_eq!(
            got[0].text,
            "MRR in USD grew by 40.00 USD (+4.0%) to 1,040.00 USD: new 50.00 USD, expansion 0.00 USD, reactivation 0.00 USD against contraction 0.00 USD and churn 10.00 USD."
        );
        assert_eq!(insights(&facts(&[], &mrr)), got, "deterministic");
    }

    #[test]
    fn a_quiet_week_still_says_something_and_operations_problems_are_named() {
        let steady = insights(&facts(&[], &[]));
        assert_eq!(steady[0].rule, "steady");
        let mut f = facts(&[], &[]);
        let flat = [Flagged {
            series: "dau".into(),
            at: "2025-11-19".into(),
            method: Method::FlatLine,
            level: Level::Critical,
        }];
        f.anomalies = &flat;
        f.audit = Audit::Fail;
        f.lifecycle_reachable = false;
        let rules: Vec<&str> = insights(&f).iter().map(|i| i.rule).collect();
        assert_eq!(
            rules,
            ["steady", "check_ingest", "audit", "lifecycle_unreachable"]
        );
    }

    #[test]
    fn a_conversion_drop_against_its_median_is_a_bottleneck() {
        let mut weeks = vec![0.30; 12];
        weeks.push(0.15);
        let k = Kpi::of(Series {
            name: "trial_conversion".into(),
            label: "Trial to paid conversion".into(),
            unit: Unit::Ratio,
            currency: String::new(),
            higher_is_better: true,
            weeks,
        });
        let kpis = [k];
        let got = insights(&facts(&kpis, &[]));
        assert!(got.iter().any(|i| i.rule == "conversion_down"
            && i.text == "Trial to paid conversion was 15.0% against a usual 30.0% (the median of 12 weeks)."));
    }
}
