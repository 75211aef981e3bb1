//! A payment's row from every fact its events told, whatever order they came
//! in: each field is merged by a rule that does not depend on arrival order
//! (terminal states win, amounts taken and refunded only grow, a
//! PaymentIntent's own `created` beats its charge's), and ties are broken by
//! Stripe's event time, then by value. Folding the same set of facts always
//! gives the same row, refund history and disputes.

use std::collections::BTreeMap;

use super::facts::{Charge, Dispute, Fact, Intent, Movement};
use crate::audit::model::Status;

/// A fact with the time Stripe created its event (Unix seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Told {
    /// The event's `created`.
    pub at: i64,
    /// What it told.
    pub fact: Fact,
}

/// The payment as the facts have it (`metrics.payments`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    /// `pi_…`, or `ch_…` for a charge made without a PaymentIntent.
    pub stripe_id: String,
    /// The charge that took the money (else the latest attempt).
    pub charge_id: Option<String>,
    /// `cus_…`.
    pub customer: Option<String>,
    /// `in_…`.
    pub invoice_id: Option<String>,
    /// Taken (captured) amount; the authorised or intended amount when
    /// nothing was taken.
    pub amount_minor: i64,
    /// Lower-case currency.
    pub currency: String,
    /// State.
    pub status: Status,
    /// Refunded of the money taken.
    pub refunded_minor: i64,
    /// When the latest refund was made (Unix seconds).
    pub refunded_at: Option<i64>,
    /// The PaymentIntent's `created`, else the first charge's.
    pub created_at: i64,
}

/// A dispute as the facts have it (`metrics.payment_disputes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeRow {
    /// `dp_…`.
    pub dispute_id: String,
    /// `ch_…`.
    pub charge_id: String,
    /// Disputed amount.
    pub amount_minor: i64,
    /// Lower-case currency.
    pub currency: String,
    /// Stripe's reason.
    pub reason: String,
    /// Stripe's status, the furthest reached.
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When the money left, and how much.
    pub withdrawn: Option<Movement>,
    /// When it came back, and how much.
    pub reinstated: Option<Movement>,
}

/// Everything the facts of one payment decide.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Folded {
    /// `None` while no PaymentIntent or Charge event has arrived (an invoice
    /// payment or a dispute waits for one).
    pub payment: Option<PaymentRow>,
    /// Each rise of the refunded amount: (minor units, Unix seconds). They
    /// add up to `refunded_minor`.
    pub refunds: Vec<(i64, i64)>,
    /// The payment's disputes, by id.
    pub disputes: Vec<DisputeRow>,
}

fn intent_rank(status: &str) -> u8 {
    match status {
        "requires_confirmation" => 1,
        "requires_action" => 2,
        "processing" => 3,
        "requires_capture" => 4,
        "canceled" | "succeeded" => 5,
        _ => 0, // requires_payment_method
    }
}

fn charge_rank(status: &str) -> u8 {
    match status {
        "succeeded" | "failed" => 1,
        _ => 0,
    }
}

fn dispute_rank(status: &str) -> u8 {
    match status {
        "under_review" | "warning_under_review" => 1,
        "won" | "lost" | "warning_closed" | "prevented" => 2,
        _ => 0,
    }
}

/// The intent the facts end in: a terminal state (succeeded, canceled) wins;
/// before that the latest event, a failed attempt in a tie, then the furthest
/// state. Amounts taken and the links only accumulate.
fn merge_intents<'a>(intents: impl Iterator<Item = (i64, &'a Intent)>) -> Option<Intent> {
    let all: Vec<(i64, &Intent)> = intents.collect();
    let (_, last) = all.iter().copied().max_by(|(at_a, a), (at_b, b)| {
        let key = |at: &i64, i: &Intent| {
            (
                intent_rank(&i.status) == 5,
                *at,
                i.failed_attempt,
                intent_rank(&i.status),
                i.status.clone(),
                i.amount,
            )
        };
        key(at_a, a).cmp(&key(at_b, b))
    })?;
    let mut merged = last.clone();
    for (_, i) in &all {
        merged.amount_received = merged.amount_received.max(i.amount_received);
        merged.amount_capturable = merged.amount_capturable.max(i.amount_capturable);
        merged.created = merged.created.min(i.created);
        merged.customer = merged.customer.clone().max(i.customer.clone());
        merged.invoice = merged.invoice.clone().max(i.invoice.clone());
        merged.latest_charge = merged.latest_charge.clone().or(i.latest_charge.clone());
    }
    Some(merged)
}

/// One charge from all its observations: its furthest state, taken and
/// refunded amounts that only grow.
fn merge_charge(a: &Charge, b: &Charge) -> Charge {
    let furthest = std::cmp::max_by_key(a, b, |c| (charge_rank(&c.status), c.status.clone()));
    Charge {
        id: a.id.clone(),
        created: a.created.min(b.created),
        amount: a.amount.max(b.amount),
        captured: a.captured || b.captured,
        amount_captured: a.amount_captured.max(b.amount_captured),
        refunded: a.refunded.max(b.refunded),
        status: furthest.status.clone(),
        expired: a.expired || b.expired,
        currency: a.currency.clone().max(b.currency.clone()),
        customer: a.customer.clone().max(b.customer.clone()),
        invoice: a.invoice.clone().max(b.invoice.clone()),
    }
}

fn merge_dispute(a: &Dispute, b: &Dispute) -> Dispute {
    let earliest = |x: Option<Movement>, y: Option<Movement>| match (x, y) {
        (Some(x), Some(y)) => Some(std::cmp::min_by_key(x, y, |m| (m.at, m.amount))),
        (x, y) => x.or(y),
    };
    let furthest = std::cmp::max_by_key(a, b, |d| {
        (dispute_rank(&d.status), d.status.clone(), d.amount)
    });
    Dispute {
        id: a.id.clone(),
        charge: a.charge.clone().max(b.charge.clone()),
        amount: furthest.amount,
        currency: furthest.currency.clone(),
        reason: a.reason.clone().max(b.reason.clone()),
        status: furthest.status.clone(),
        created: a.created.min(b.created),
        withdrawn: earliest(a.withdrawn, b.withdrawn),
        reinstated: earliest(a.reinstated, b.reinstated),
    }
}

/// Folds every fact told about one payment (`stripe_id`).
pub fn fold(stripe_id: &str, told: &[Told]) -> Folded {
    let mut charges: BTreeMap<&str, Charge> = BTreeMap::new();
    let mut disputes: BTreeMap<&str, Dispute> = BTreeMap::new();
    let mut invoices: Vec<&str> = Vec::new();
    for t in told {
        match &t.fact {
            Fact::Charge(c) => {
                let merged = charges
                    .get(c.id.as_str())
                    .map_or_else(|| c.clone(), |m| merge_charge(m, c));
                charges.insert(&c.id, merged);
            }
            Fact::Dispute(d) => {
                let merged = disputes
                    .get(d.id.as_str())
                    .map_or_else(|| d.clone(), |m| merge_dispute(m, d));
                disputes.insert(&d.id, merged);
            }
            Fact::Invoice { invoice_id } => invoices.push(invoice_id),
            Fact::Intent(_) => {}
        }
    }
    let intent = merge_intents(told.iter().filter_map(|t| match &t.fact {
        Fact::Intent(i) => Some((t.at, i)),
        _ => None,
    }));
    let disputes = disputes
        .into_values()
        .map(|d| DisputeRow {
            dispute_id: d.id,
            charge_id: d.charge,
            amount_minor: d.amount,
            currency: d.currency,
            reason: d.reason,
            status: d.status,
            created_at: d.created,
            withdrawn: d.withdrawn,
            reinstated: d.reinstated,
        })
        .collect();
    let Some(payment) = payment(stripe_id, intent.as_ref(), &charges, &invoices) else {
        return Folded {
            payment: None,
            refunds: Vec::new(),
            disputes,
        };
    };
    let refunds = refund_steps(told, payment.refunded_minor, payment.created_at);
    Folded {
        payment: Some(PaymentRow {
            refunded_at: refunds.last().map(|(_, at)| *at),
            ..payment
        }),
        refunds,
        disputes,
    }
}

fn payment(
    stripe_id: &str,
    intent: Option<&Intent>,
    charges: &BTreeMap<&str, Charge>,
    invoices: &[&str],
) -> Option<PaymentRow> {
    // The charge that took the money; else the latest attempt.
    let taken = charges
        .values()
        .filter(|c| c.captured)
        .max_by_key(|c| (c.amount_captured, c.created, c.id.clone()));
    let latest = charges
        .values()
        .max_by_key(|c| (c.created, charge_rank(&c.status), c.id.clone()));
    let first = intent
        .map(|i| (i.currency.clone(), i.created, i.amount))
        .or_else(|| {
            charges
                .values()
                .min_by_key(|c| (c.created, c.id.clone()))
                .map(|c| (c.currency.clone(), c.created, c.amount))
        })?;
    let (currency, created_at, intended) = first;
    let intent_status = intent.map_or("", |i| i.status.as_str());
    let taken_amount = std::cmp::max(
        taken.map_or(0, |c| c.amount_captured),
        intent
            .filter(|i| i.status == "succeeded")
            .map_or(0, |i| i.amount_received),
    );
    let authorised = charges
        .values()
        .find(|c| c.status == "succeeded" && !c.captured && !c.expired);
    let (status, amount, refunded) = if taken.is_some() || intent_status == "succeeded" {
        let refunded = charges
            .values()
            .map(|c| c.refunded)
            .max()
            .unwrap_or(0)
            .min(taken_amount);
        (
            Status::captured_with_refunds(taken_amount, refunded),
            taken_amount,
            refunded,
        )
    } else if intent_status == "canceled" || charges.values().any(|c| c.expired) {
        (Status::Canceled, intended, 0)
    } else if intent_status == "requires_capture" || authorised.is_some() {
        let held = intent
            .map(|i| i.amount_capturable)
            .filter(|a| *a > 0)
            .or(authorised.map(|c| c.amount))
            .unwrap_or(intended);
        (Status::Authorized, held, 0)
    } else if intent.is_some_and(|i| i.failed_attempt && i.status == "requires_payment_method")
        || ((intent_status.is_empty() || intent_status == "requires_payment_method")
            && latest.is_some_and(|c| c.status == "failed"))
    {
        (Status::Failed, intended, 0)
    } else {
        (Status::Pending, intended, 0)
    };
    let customer = intent
        .and_then(|i| i.customer.clone())
        .or_else(|| charges.values().filter_map(|c| c.customer.clone()).max());
    let invoice_id = invoices
        .iter()
        .map(|i| (*i).to_owned())
        .chain(intent.and_then(|i| i.invoice.clone()))
        .chain(charges.values().filter_map(|c| c.invoice.clone()))
        .min();
    Some(PaymentRow {
        stripe_id: stripe_id.to_owned(),
        charge_id: taken
            .or(latest)
            .map(|c| c.id.clone())
            .or_else(|| intent.and_then(|i| i.latest_charge.clone())),
        customer,
        invoice_id,
        amount_minor: amount,
        currency,
        status,
        refunded_minor: refunded,
        refunded_at: None,
        created_at,
    })
}

/// The refund history: each rise of the refunded amount the charge events
/// report, in Stripe's event order, dated by the event that reported it
/// (never before the payment), cut at `total`.
fn refund_steps(told: &[Told], total: i64, created_at: i64) -> Vec<(i64, i64)> {
    let mut seen: Vec<(i64, i64)> = told
        .iter()
        .filter_map(|t| match &t.fact {
            Fact::Charge(c) if c.refunded > 0 => Some((t.at, c.refunded)),
            _ => None,
        })
        .collect();
    seen.sort_unstable();
    let mut steps = Vec::new();
    let mut so_far = 0;
    for (at, refunded) in seen {
        let reached = refunded.min(total);
        if reached > so_far {
            steps.push((reached - so_far, at.max(created_at)));
            so_far = reached;
        }
    }
    steps
}
