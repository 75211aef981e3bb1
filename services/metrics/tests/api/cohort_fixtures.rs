//! Users, events, payments and refunds for the cohort tests, and the calls
//! they make.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use growth_proto::common::v1::{Granularity, Money};
use growth_proto::metrics::v1::{self as pb, PaymentStatus, RetentionMetric, RetentionMode};

use crate::helpers::*;

pub fn signup(id: &str, when: DateTime<Utc>) -> pb::User {
    pb::User {
        signup_at: ts(when),
        ..user(id)
    }
}

pub fn active(id: &str, user: &str, when: DateTime<Utc>) -> pb::Event {
    pb::Event {
        occurred_at: ts(when),
        ..event(id, user)
    }
}

pub fn member(id: &str, signup: &str, plan: &str, attributes: &str) -> pb::User {
    pb::User {
        signup_at: ts(at(signup)),
        plan: plan.into(),
        attributes_json: attributes.into(),
        ..user(id)
    }
}

pub fn paid(id: &str, user: &str, amount: i64, currency: &str, when: &str) -> pb::Payment {
    pb::Payment {
        stripe_id: id.into(),
        user_id: user.into(),
        amount: Some(Money {
            amount_minor: amount,
            currency: currency.into(),
        }),
        status: PaymentStatus::Succeeded as i32,
        created_at: ts(at(when)),
        ..Default::default()
    }
}

pub fn refunded(p: pb::Payment, minor: i64, when: Option<&str>) -> pb::Payment {
    let full = p.amount.as_ref().unwrap().amount_minor == minor;
    pb::Payment {
        status: if full {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        } as i32,
        refunded_minor: minor,
        refunded_at: when.and_then(|w| ts(at(w))),
        ..p
    }
}

pub async fn import(app: &mut TestApp, payments: Vec<pb::Payment>) {
    app.client
        .import_payments(pb::ImportPaymentsRequest { payments })
        .await
        .expect("import");
}

pub async fn refresh(app: &mut TestApp, full: bool) -> pb::RefreshCohortsResponse {
    refresh_with(
        app,
        pb::RefreshCohortsRequest {
            full,
            ..Default::default()
        },
    )
    .await
}

pub async fn refresh_with(
    app: &mut TestApp,
    r: pb::RefreshCohortsRequest,
) -> pb::RefreshCohortsResponse {
    app.client
        .refresh_cohorts(r)
        .await
        .expect("refresh")
        .into_inner()
}

pub fn full() -> pb::RefreshCohortsRequest {
    pb::RefreshCohortsRequest {
        full: true,
        ..Default::default()
    }
}

/// A full refresh as a dry run: what a full recomputation would change.
pub async fn full_dry_run(app: &mut TestApp) -> pb::RefreshCohortsResponse {
    refresh_with(
        app,
        pb::RefreshCohortsRequest {
            dry_run: true,
            ..full()
        },
    )
    .await
}

pub async fn matrix(
    app: &mut TestApp,
    g: Granularity,
    metric: RetentionMetric,
    mode: RetentionMode,
    breakdown: &str,
) -> Result<pb::GetRetentionMatrixResponse, tonic::Status> {
    app.client
        .get_retention_matrix(pb::GetRetentionMatrixRequest {
            granularity: g as i32,
            metric: metric as i32,
            mode: mode as i32,
            breakdown: breakdown.into(),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Revenue of `currency` per offset of a row.
pub fn money(row: &pb::CohortRow, currency: &str) -> Vec<i64> {
    row.cells
        .iter()
        .map(|c| {
            c.revenue
                .iter()
                .find(|m| m.currency == currency)
                .map_or(0, |m| m.amount_minor)
        })
        .collect()
}

/// Two users of the March 2025 month cohort; a pays in March and April (in
/// dollars) and once in euros; b's April payment is half refunded in May,
/// a failed payment never counts.
pub async fn march(app: &mut TestApp) {
    upsert(
        app,
        vec![
            member("a", "2025-03-05T09:00:00Z", "pro", r#"{"country":"DE"}"#),
            member("b", "2025-03-20T09:00:00Z", "free", r#"{"country":"FR"}"#),
        ],
    )
    .await;
    import(
        app,
        vec![
            paid("pi_a1", "a", 4900, "usd", "2025-03-05T10:00:00Z"),
            paid("pi_a2", "a", 4900, "usd", "2025-04-05T10:00:00Z"),
            paid("pi_a3", "a", 1000, "eur", "2025-03-06T10:00:00Z"),
            refunded(
                paid("pi_b1", "b", 9900, "usd", "2025-04-02T10:00:00Z"),
                5000,
                Some("2025-05-10T10:00:00Z"),
            ),
            pb::Payment {
                status: PaymentStatus::Failed as i32,
                ..paid("pi_b2", "b", 9900, "usd", "2025-03-21T10:00:00Z")
            },
        ],
    )
    .await;
}

/// The row of `cohort` in a revenue matrix without breakdown.
pub async fn revenue_row(
    app: &mut TestApp,
    g: Granularity,
    mode: RetentionMode,
    cohort: &str,
) -> pb::CohortRow {
    matrix(app, g, RetentionMetric::Revenue, mode, "")
        .await
        .unwrap()
        .rows
        .into_iter()
        .find(|r| r.cohort == cohort)
        .unwrap_or_else(|| panic!("no cohort {cohort}"))
}
