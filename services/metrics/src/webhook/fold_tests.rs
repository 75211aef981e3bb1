//! The fold on hand-made facts: what each rule decides, and that the order
//! of the facts never matters.

use super::facts::{Charge, Dispute, Fact, Intent, Movement};
use super::fold::{Told, fold};
use crate::audit::model::Status;

fn intent(status: &str, received: i64, failed: bool) -> Fact {
    Fact::Intent(Intent {
        id: "pi_1".into(),
        created: 100,
        amount: 1000,
        amount_received: received,
        amount_capturable: 0,
        currency: "usd".into(),
        customer: Some("cus_1".into()),
        status: status.into(),
        failed_attempt: failed,
        latest_charge: Some("ch_1".into()),
        invoice: None,
    })
}

fn charge(captured: bool, taken: i64, refunded: i64, status: &str) -> Fact {
    Fact::Charge(Charge {
        id: "ch_1".into(),
        created: 130,
        amount: 1000,
        captured,
        amount_captured: taken,
        refunded,
        status: status.into(),
        expired: false,
        currency: "usd".into(),
        customer: None,
        invoice: None,
    })
}

fn told(facts: &[(i64, Fact)]) -> Vec<Told> {
    facts
        .iter()
        .map(|(at, fact)| Told {
            at: *at,
            fact: fact.clone(),
        })
        .collect()
}

#[test]
fn refunds_are_dated_by_stripes_event_order_not_by_arrival() {
    let facts = [
        (200, charge(true, 1000, 0, "succeeded")),
        (300, charge(true, 1000, 400, "succeeded")),
        (500, charge(true, 1000, 1000, "succeeded")),
    ];
    let natural = fold("pi_1", &told(&facts));
    let mut reversed = told(&facts);
    reversed.reverse();
    assert_eq!(fold("pi_1", &reversed), natural);
    assert_eq!(natural.refunds, [(400, 300), (600, 500)]);
    let payment = natural.payment.expect("a payment");
    assert_eq!(
        (payment.status, payment.refunded_at),
        (Status::Refunded, Some(500))
    );
}

#[test]
fn a_failure_after_processing_fails_and_a_success_after_a_failure_succeeds() {
    let failed = [
        (100, intent("processing", 0, false)),
        (100, intent("requires_payment_method", 0, true)),
    ];
    let status = |facts: &[(i64, Fact)]| fold("pi_1", &told(facts)).payment.map(|p| p.status);
    assert_eq!(status(&failed), Some(Status::Failed));
    let retried = [
        failed[0].clone(),
        failed[1].clone(),
        (101, intent("succeeded", 1000, false)),
    ];
    assert_eq!(status(&retried), Some(Status::Succeeded));
    assert_eq!(
        status(&[(100, intent("processing", 0, false))]),
        Some(Status::Pending)
    );
}

#[test]
fn facts_without_a_payment_intent_or_charge_wait_but_keep_their_dispute() {
    let dispute = Fact::Dispute(Dispute {
        id: "dp_1".into(),
        charge: "ch_1".into(),
        amount: 1000,
        currency: "usd".into(),
        reason: "fraudulent".into(),
        status: "needs_response".into(),
        created: 400,
        withdrawn: Some(Movement {
            at: 400,
            amount: 1000,
        }),
        reinstated: None,
    });
    let invoice = Fact::Invoice {
        invoice_id: "in_1".into(),
    };
    let folded = fold("pi_1", &told(&[(400, dispute), (150, invoice)]));
    assert_eq!(folded.payment, None);
    assert_eq!(folded.disputes.len(), 1);
}

#[test]
fn a_partial_capture_takes_the_captured_amount_and_links_the_invoice() {
    let facts = [
        (130, charge(false, 0, 0, "succeeded")),
        (
            150,
            Fact::Invoice {
                invoice_id: "in_1".into(),
            },
        ),
        (160, charge(true, 600, 0, "succeeded")),
        (160, intent("succeeded", 600, false)),
    ];
    let payment = fold("pi_1", &told(&facts)).payment.expect("a payment");
    assert_eq!(
        (
            payment.status,
            payment.amount_minor,
            payment.created_at,
            payment.invoice_id.as_deref()
        ),
        (Status::Succeeded, 600, 100, Some("in_1"))
    );
    let authorised = fold("pi_1", &told(&facts[..1])).payment.expect("a payment");
    assert_eq!(
        (authorised.status, authorised.created_at),
        (Status::Authorized, 130)
    );
}
