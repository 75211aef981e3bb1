//! Order independence as a property: generated event sequences of one
//! payment (automatic and manual capture, partial captures, expiries,
//! cancels, failed attempts, refunds partly, fully and twice, invoice
//! links, disputes won and lost; both API shapes), delivered in their
//! natural order and in shuffled orders with duplicates, end in the same
//! payment row, refund history and disputes.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use sqlx::PgPool;

use crate::stripe_objects::*;
use crate::webhook::{SECRET, app, post};

const T: i64 = 1_762_000_000;

/// The natural sequence of scenario `seed`, every id tagged with `tag`.
fn scenario(seed: u64, tag: &str) -> Vec<Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let version = if rng.random_bool(0.5) { LEGACY } else { DAHLIA };
    let legacy = version == LEGACY;
    let (pi, ch) = (format!("pi_{tag}"), format!("ch_{tag}"));
    let amount: i64 = rng.random_range(10..100) * 100;
    let mut events = Vec::new();
    let mut t = T;
    let mut next = |rng: &mut ChaCha8Rng| {
        t += rng.random_range(0..3); // same-second ties included
        t
    };
    let mut push = |kind: &str, at: i64, object: Value| {
        let id = format!("evt_{tag}_{}", events.len());
        events.push(stripe_event(&id, kind, at, version, object));
    };
    let intent = |status: &'static str, received: i64, capturable: i64, latest: bool| {
        Pi {
            id: &pi,
            status,
            amount,
            received,
            capturable,
            created: T,
            latest_charge: latest.then_some(ch.as_str()),
        }
        .object(version)
    };
    let charge = |id: &str,
                  captured: bool,
                  taken: i64,
                  refunded_total: i64,
                  refunded: bool,
                  status: &'static str| {
        Ch {
            id,
            pi: Some(&pi),
            amount,
            captured,
            amount_captured: taken,
            amount_refunded: refunded_total,
            refunded,
            status,
            created: T + 1,
        }
        .object(version)
    };
    push(
        "payment_intent.created",
        T,
        intent("requires_payment_method", 0, 0, false),
    );
    if rng.random_bool(0.3) {
        let at = next(&mut rng);
        push(
            "payment_intent.requires_action",
            at,
            intent("requires_action", 0, 0, false),
        );
    }
    if rng.random_bool(0.3) {
        // A failed attempt first.
        let failed = format!("chf_{tag}");
        let at = next(&mut rng);
        push(
            "charge.failed",
            at,
            charge(&failed, false, 0, 0, false, "failed"),
        );
        push(
            "payment_intent.payment_failed",
            at,
            intent("requires_payment_method", 0, 0, false),
        );
    }
    let manual = rng.random_bool(0.5);
    let taken = match rng.random_range(0..10) {
        0 => {
            let at = next(&mut rng);
            push(
                "payment_intent.canceled",
                at,
                intent("canceled", 0, 0, false),
            );
            return events;
        }
        1 if !manual => {
            let at = next(&mut rng);
            push(
                "charge.failed",
                at,
                charge(&ch, false, 0, 0, false, "failed"),
            );
            push(
                "payment_intent.payment_failed",
                at,
                intent("requires_payment_method", 0, 0, true),
            );
            return events;
        }
        _ if manual => {
            let at = next(&mut rng);
            push(
                "charge.succeeded",
                at,
                charge(&ch, false, 0, 0, false, "succeeded"),
            );
            push(
                "payment_intent.amount_capturable_updated",
                at,
                intent("requires_capture", 0, amount, true),
            );
            let at = next(&mut rng);
            match rng.random_range(0..4) {
                0 => {
                    // Expired: before 2025-03-31 Stripe refunds it in full.
                    let released = if legacy { amount } else { 0 };
                    push(
                        "charge.expired",
                        at,
                        charge(&ch, false, 0, released, legacy, "succeeded"),
                    );
                    push(
                        "payment_intent.canceled",
                        at,
                        intent("canceled", 0, 0, true),
                    );
                    return events;
                }
                1 => {
                    push(
                        "payment_intent.canceled",
                        at,
                        intent("canceled", 0, 0, true),
                    );
                    return events;
                }
                _ => {
                    let taken = if rng.random_bool(0.5) {
                        amount
                    } else {
                        amount / 2
                    };
                    let released = if legacy { amount - taken } else { 0 };
                    push(
                        "charge.captured",
                        at,
                        charge(&ch, true, taken, released, false, "succeeded"),
                    );
                    push(
                        "payment_intent.succeeded",
                        at,
                        intent("succeeded", taken, 0, true),
                    );
                    taken
                }
            }
        }
        _ => {
            let at = next(&mut rng);
            if rng.random_bool(0.3) {
                push(
                    "payment_intent.processing",
                    at,
                    intent("processing", 0, 0, true),
                );
                push(
                    "charge.pending",
                    at,
                    charge(&ch, false, 0, 0, false, "pending"),
                );
            }
            let at = next(&mut rng);
            push(
                "charge.succeeded",
                at,
                charge(&ch, true, amount, 0, false, "succeeded"),
            );
            push(
                "payment_intent.succeeded",
                at,
                intent("succeeded", amount, 0, true),
            );
            amount
        }
    };
    let released = if legacy { amount - taken } else { 0 };
    if rng.random_bool(0.3) {
        let at = next(&mut rng);
        if legacy {
            push(
                "invoice.paid",
                at,
                invoice(&format!("in_{tag}"), &pi, version, false),
            );
        } else {
            let inpay = invoice_payment(&format!("inpay_{tag}"), &format!("in_{tag}"), &pi);
            push("invoice_payment.paid", at, inpay);
        }
    }
    // Refunds: none, part, all, or part twice.
    let mut refunded = 0;
    for _ in 0..rng.random_range(0..3) {
        refunded = (refunded + taken / 3).min(taken);
        if rng.random_bool(0.3) {
            refunded = taken;
        }
        let at = next(&mut rng) + 86_400;
        push(
            "charge.refunded",
            at,
            charge(
                &ch,
                true,
                taken,
                released + refunded,
                refunded == taken,
                "succeeded",
            ),
        );
    }
    if refunded < taken && rng.random_bool(0.4) {
        let dp = format!("dp_{tag}");
        let disputed = taken - refunded;
        let opened = next(&mut rng) + 2 * 86_400;
        push(
            "charge.dispute.created",
            opened,
            dispute(&dp, &ch, &pi, disputed, "needs_response", &[]),
        );
        push(
            "charge.dispute.funds_withdrawn",
            opened,
            dispute(
                &dp,
                &ch,
                &pi,
                disputed,
                "needs_response",
                &[(opened, -disputed)],
            ),
        );
        let later = opened + 20 * 86_400;
        push(
            "charge.dispute.updated",
            later,
            dispute(
                &dp,
                &ch,
                &pi,
                disputed,
                "under_review",
                &[(opened, -disputed)],
            ),
        );
        if rng.random_bool(0.5) {
            let moves = [(opened, -disputed), (later + 1, disputed)];
            push(
                "charge.dispute.funds_reinstated",
                later + 1,
                dispute(&dp, &ch, &pi, disputed, "won", &moves),
            );
            push(
                "charge.dispute.closed",
                later + 1,
                dispute(&dp, &ch, &pi, disputed, "won", &moves),
            );
        } else {
            push(
                "charge.dispute.closed",
                later + 1,
                dispute(&dp, &ch, &pi, disputed, "lost", &[(opened, -disputed)]),
            );
        }
    }
    events
}

/// Everything the webhook stored for the payment tagged `tag`, with the tag
/// taken out of the ids.
async fn stored(pool: &PgPool, tag: &str) -> String {
    let snapshot: Option<String> = sqlx::query_scalar(
        "SELECT json_build_object(
             'payment', (SELECT json_build_object('status', status, 'amount', amount_minor,
                             'currency', currency, 'refunded', refunded_minor,
                             'refunded_at', refunded_at, 'created_at', created_at,
                             'charge', stripe_charge_id, 'invoice', stripe_invoice_id,
                             'customer', stripe_customer)
                         FROM metrics.payments WHERE stripe_id = $1),
             'refunds', (SELECT json_agg(json_build_array(r.amount_minor, r.refunded_at)
                                         ORDER BY r.refunded_at, r.amount_minor)
                         FROM metrics.payment_refunds r JOIN metrics.payments p USING (payment_id)
                         WHERE p.stripe_id = $1),
             'disputes', (SELECT json_agg(json_build_array(dispute_id, charge_id, amount_minor,
                              reason, status, created_at, withdrawn_minor, withdrawn_at,
                              reinstated_minor, reinstated_at))
                          FROM metrics.payment_disputes WHERE stripe_id = $1),
             'waiting', (SELECT count(*) FROM metrics.stripe_events
                         WHERE payment = $1 AND outcome = 'waiting'))::text",
    )
    .bind(format!("pi_{tag}"))
    .fetch_one(pool)
    .await
    .expect("snapshot");
    snapshot.unwrap_or_default().replace(tag, "X")
}

#[sqlx::test(migrations = false)]
async fn every_delivery_order_with_duplicates_ends_in_the_natural_orders_rows(pool: PgPool) {
    let app = app(pool, Some(SECRET)).await;
    let mut shuffler = ChaCha8Rng::seed_from_u64(2026);
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 0..30 {
        let natural_tag = format!("s{seed}n");
        for e in scenario(seed, &natural_tag) {
            kinds.insert(e["type"].as_str().unwrap_or_default().to_owned());
            let (status, body) = post(&app, &e, SECRET, None).await;
            assert_eq!(status, 200, "{body}");
        }
        let natural = stored(&app.pool, &natural_tag).await;
        assert!(
            natural.contains("\"waiting\" : 0"),
            "seed {seed}: {natural}"
        );
        for round in 0..3 {
            let tag = format!("s{seed}r{round}");
            let mut events = scenario(seed, &tag);
            let duplicates: Vec<Value> = events
                .iter()
                .filter(|_| shuffler.random_bool(0.3))
                .cloned()
                .collect();
            events.extend(duplicates);
            events.shuffle(&mut shuffler);
            for e in &events {
                let (status, body) = post(&app, e, SECRET, None).await;
                assert_eq!(status, 200, "{body}");
            }
            assert_eq!(
                stored(&app.pool, &tag).await,
                natural,
                "seed {seed}, round {round}: order {:?}",
                events
                    .iter()
                    .map(|e| e["type"].as_str().unwrap_or_default())
                    .collect::<Vec<_>>()
            );
        }
    }
    // The generator covered every kind of event the issue lists.
    for kind in [
        "payment_intent.created",
        "payment_intent.processing",
        "payment_intent.requires_action",
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
        "payment_intent.canceled",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "charge.captured",
        "charge.expired",
        "charge.failed",
        "charge.refunded",
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
        "charge.dispute.closed",
    ] {
        assert!(kinds.contains(kind), "no scenario sent {kind}");
    }
}

#[sqlx::test(migrations = false)]
async fn concurrent_deliveries_end_like_sequential_ones_and_a_duplicate_applies_once(pool: PgPool) {
    let app = std::sync::Arc::new(app(pool, Some(SECRET)).await);
    for seed in [3, 7, 11] {
        let natural_tag = format!("c{seed}n");
        for e in scenario(seed, &natural_tag) {
            post(&app, &e, SECRET, None).await;
        }
        let tag = format!("c{seed}p");
        let mut sends = tokio::task::JoinSet::new();
        for e in scenario(seed, &tag) {
            let app = app.clone();
            sends.spawn(async move { post(&app, &e, SECRET, None).await });
        }
        while let Some(done) = sends.join_next().await {
            assert_eq!(done.expect("sent").0, 200);
        }
        assert_eq!(
            stored(&app.pool, &tag).await,
            stored(&app.pool, &natural_tag).await,
            "seed {seed}"
        );
    }
    // 8 deliveries of one event at once: one applied, 7 duplicates.
    let event = scenario(1, "dup").remove(0);
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (app, event) = (app.clone(), event.clone());
        sends.spawn(async move { post(&app, &event, SECRET, None).await });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = sends.join_next().await {
        outcomes.push(
            done.expect("sent").1["outcome"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    outcomes.sort();
    let expected: Vec<String> = std::iter::once("applied")
        .chain(std::iter::repeat_n("duplicate", 7))
        .map(str::to_owned)
        .collect();
    assert_eq!(outcomes, expected);
}
