//! Findings: one discrepancy each, with a severity and a reason that names
//! the fields ("amount 4900 in Stripe vs 4090 in DB").

use super::model::Status;

/// The class of a discrepancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A Stripe payment with no database row.
    MissingInDb,
    /// A database row with no Stripe payment.
    OrphanedInDb,
    /// Amounts differ.
    AmountMismatch,
    /// Currencies differ.
    CurrencyMismatch,
    /// States differ beyond refunds.
    StatusDrift,
    /// Stripe has refunds the database does not.
    RefundNotRecorded,
    /// Several rows for one Stripe payment.
    DuplicateRows,
    /// Paid in Stripe, not granted by the database.
    PaidNotProvisioned,
    /// Granted by the database, not paid in Stripe.
    ProvisionedNotPaid,
    /// The granted plan is not the one the Stripe price maps to.
    PlanMismatch,
    /// One customer with several live paying subscriptions.
    DuplicateSubscriptions,
    /// A trial past its end still treated as a trial.
    TrialOverrun,
    /// A handled Stripe event the webhook never recorded.
    MissedEvent,
    /// Money stuck in a state that should not last.
    StaleMoneyState,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 14] = [
        Kind::MissingInDb,
        Kind::OrphanedInDb,
        Kind::AmountMismatch,
        Kind::CurrencyMismatch,
        Kind::StatusDrift,
        Kind::RefundNotRecorded,
        Kind::DuplicateRows,
        Kind::PaidNotProvisioned,
        Kind::ProvisionedNotPaid,
        Kind::PlanMismatch,
        Kind::DuplicateSubscriptions,
        Kind::TrialOverrun,
        Kind::MissedEvent,
        Kind::StaleMoneyState,
    ];

    /// Parses [`Kind::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MissingInDb => "missing_in_db",
            Kind::OrphanedInDb => "orphaned_in_db",
            Kind::AmountMismatch => "amount_mismatch",
            Kind::CurrencyMismatch => "currency_mismatch",
            Kind::StatusDrift => "status_drift",
            Kind::RefundNotRecorded => "refund_not_recorded",
            Kind::DuplicateRows => "duplicate_rows",
            Kind::PaidNotProvisioned => "paid_not_provisioned",
            Kind::ProvisionedNotPaid => "provisioned_not_paid",
            Kind::PlanMismatch => "plan_mismatch",
            Kind::DuplicateSubscriptions => "duplicate_subscriptions",
            Kind::TrialOverrun => "trial_overrun",
            Kind::MissedEvent => "missed_event",
            Kind::StaleMoneyState => "stale_money_state",
        }
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; no money at stake.
    Info,
    /// Money or state may be wrong.
    Warning,
    /// Money is wrong.
    Critical,
}

impl Severity {
    /// Parses [`Severity::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        [Severity::Info, Severity::Warning, Severity::Critical]
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// An amount in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    /// Minor units.
    pub minor: i64,
    /// Lower-case ISO currency.
    pub currency: String,
}

/// One discrepancy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Its class.
    pub kind: Kind,
    /// Its severity.
    pub severity: Severity,
    /// Stripe object type, when a Stripe object is involved.
    pub object_type: &'static str,
    /// Stripe id, when there is one.
    pub stripe_id: String,
    /// Database rows involved.
    pub db_payment_ids: Vec<i64>,
    /// Field-by-field reason.
    pub reason: String,
    /// Amount on the Stripe side.
    pub stripe_amount: Option<Amount>,
    /// Amount on the database side.
    pub db_amount: Option<Amount>,
    /// State in Stripe, when a Stripe payment is involved.
    pub stripe_status: Option<Status>,
    /// State in the database, when one row is involved.
    pub db_status: Option<Status>,
}

/// The static name of a Stripe object type read back from storage.
pub fn object_type(name: &str) -> &'static str {
    match name {
        "payment_intent" => "payment_intent",
        "charge" => "charge",
        "refund" => "refund",
        "subscription" => "subscription",
        "event" => "event",
        _ => "",
    }
}
