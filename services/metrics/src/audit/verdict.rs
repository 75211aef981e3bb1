//! The verdict and the recommendations, both derived from the findings.
//!
//! Rules (documented in docs/AUDIT.md):
//! - FAIL when there are at least `fail_critical_findings` critical findings,
//!   or when in any currency Stripe and the database differ by more than
//!   `fail_net_ratio` of Stripe's figure in the net revenue of the month
//!   (captured minus the refunds made in the month) or in the month's
//!   charges net of their refunds to date;
//! - else WARNING when there is any warning or critical finding, or any net
//!   difference at all;
//! - else PASS (informational findings alone do not change it).

use std::collections::BTreeMap;

use super::findings::{Finding, Kind, Severity};
use super::model::Status;
use super::reconcile::{CurrencyTotals, Reconciliation};

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Stripe and the database agree.
    Pass,
    /// Discrepancies below the failure thresholds.
    Warning,
    /// Discrepancies at or above the failure thresholds.
    Fail,
}

impl Verdict {
    /// Parses [`Verdict::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        [Verdict::Pass, Verdict::Warning, Verdict::Fail]
            .into_iter()
            .find(|v| v.as_str() == name)
    }

    /// Upper-case name, as reports and the CLI print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Warning => "WARNING",
            Verdict::Fail => "FAIL",
        }
    }
}

/// Configurable thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Critical findings that make the audit fail (default 1).
    pub fail_critical_findings: usize,
    /// Relative net difference in one currency that makes it fail
    /// (default 0.005, i.e. 0.5%).
    pub fail_net_ratio: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            fail_critical_findings: 1,
            fail_net_ratio: 0.005,
        }
    }
}

/// Applies the rules above.
pub fn verdict(reconciliation: &Reconciliation, thresholds: &Thresholds) -> Verdict {
    let critical = reconciliation
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    let off = |stripe: i64, db: i64, ratio: f64| {
        (stripe - db).unsigned_abs() as f64 > ratio * stripe.unsigned_abs() as f64
    };
    let net_off = |ratio: f64| {
        reconciliation.totals.iter().any(|t| {
            off(t.stripe_month_net(), t.db_month_net(), ratio)
                || off(t.stripe_net(), t.db_net(), ratio)
        })
    };
    if critical >= thresholds.fail_critical_findings.max(1) || net_off(thresholds.fail_net_ratio) {
        Verdict::Fail
    } else if reconciliation
        .findings
        .iter()
        .any(|f| f.severity >= Severity::Warning)
        || net_off(0.0)
    {
        Verdict::Warning
    } else {
        Verdict::Pass
    }
}

/// What to do about the findings, one line per kind present.
pub fn recommendations(findings: &[Finding]) -> Vec<String> {
    let mut by_kind: BTreeMap<Kind, usize> = BTreeMap::new();
    for f in findings {
        *by_kind.entry(f.kind).or_default() += 1;
    }
    let failed_in_stripe = findings
        .iter()
        .filter(|f| {
            f.kind == Kind::StatusDrift
                && f.stripe_status == Some(Status::Failed)
                && f.db_status.is_some_and(Status::captured)
        })
        .count();
    let mut out = Vec::new();
    for (kind, n) in by_kind {
        out.push(match kind {
            Kind::MissingInDb => {
                let captured = findings
                    .iter()
                    .filter(|f| f.kind == Kind::MissingInDb)
                    .filter(|f| f.stripe_status.is_some_and(Status::captured))
                    .count();
                let rest = n - captured;
                if captured == 0 {
                    format!(
                        "Review the Stripe webhook endpoint: {rest} payment(s) that took no money \
                         (failed, canceled, uncaptured or pending) never reached the database; \
                         a repair does not backfill them"
                    )
                } else if rest == 0 {
                    format!(
                        "Backfill {captured} payment(s) missing from the database (run the audit with repair), \
                         and review the Stripe webhook endpoint: these events never arrived or failed"
                    )
                } else {
                    format!(
                        "Backfill {captured} payment(s) missing from the database (run the audit with repair), \
                         and review the Stripe webhook endpoint: these events never arrived or failed \
                         ({rest} more missing payment(s) took no money and are not backfilled)"
                    )
                }
            }
            Kind::OrphanedInDb => format!(
                "Investigate {n} database payment(s) Stripe does not know in this period \
                 (test-mode rows, deleted objects, or a wrong created_at)"
            ),
            Kind::AmountMismatch => format!(
                "Correct the amount of {n} payment(s) to Stripe's, and check how the amount is recorded (tax, discounts, minor units)"
            ),
            Kind::CurrencyMismatch => format!(
                "Correct the currency of {n} payment(s); never store amounts without their currency"
            ),
            Kind::StatusDrift => format!(
                "Update the status of {n} payment(s) from Stripe and replay their webhook events"
            ),
            Kind::RefundNotRecorded => format!(
                "Record {n} refund(s) and make sure the webhook handles charge.refunded and refund.* events"
            ),
            Kind::DuplicateRows => format!(
                "Remove duplicate rows for {n} Stripe payment(s) and keep one row per Stripe id"
            ),
            Kind::PaidNotProvisioned => format!(
                "Grant access to {n} subscription(s) customers pay for in Stripe (a repair records Stripe's state), and check the customer.subscription.* webhook events"
            ),
            Kind::ProvisionedNotPaid => format!(
                "Review {n} subscription(s) the database grants though Stripe has them canceled, past due or unpaid (a repair records Stripe's state)"
            ),
            Kind::PlanMismatch => format!(
                "Align the plan of {n} customer(s) with the price they pay in Stripe (STRIPE_PRICE_PLANS maps prices to plans); a person decides which side is right"
            ),
            Kind::DuplicateSubscriptions => format!(
                "Cancel the extra live subscription(s) of {n} customer(s) in Stripe, and refund what they paid twice"
            ),
            Kind::TrialOverrun => format!(
                "End {n} trial(s) past their end date: charge or downgrade in Stripe, then let the webhook record the new state"
            ),
            Kind::MissedEvent => format!(
                "Replay {n} Stripe event(s) the webhook never recorded (run the audit with repair), and check the webhook endpoint's deliveries in Stripe"
            ),
            Kind::StaleMoneyState => format!(
                "Capture, cancel or follow up {n} payment(s) or refund(s) stuck in Stripe (requires_capture, pending): uncaptured authorisations expire after 7 days"
            ),
        });
    }
    if failed_in_stripe > 0 {
        out.push(format!(
            "Contact the customer(s) of {failed_in_stripe} payment(s) the database counts as paid but Stripe failed"
        ));
    }
    out
}

/// What to do when the refunds made in the month disagree: they are not
/// per-payment findings (a refund made this month may be on an earlier
/// month's charge), so the totals speak for them.
pub fn refund_recommendations(totals: &[CurrencyTotals]) -> Vec<String> {
    totals
        .iter()
        .filter(|t| t.stripe_refunds_in_month != t.db_refunds_in_month)
        .map(|t| {
            let c = t.currency.as_str();
            let money = |minor| growth_proto::money::with_currency(minor, c);
            format!(
                "Reconcile the refunds made in the month in {}: {} in Stripe vs {} in the database; \
                 check that the webhook records charge.refunded events with their time, and audit the \
                 months of the refunded charges",
                c.to_uppercase(),
                money(t.stripe_refunds_in_month),
                money(t.db_refunds_in_month)
            )
        })
        .collect()
}
