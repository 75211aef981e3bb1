//! A subscription state to record, validated once (`history` decides what a
//! batch of them does to the stored history).

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use growth_proto::metrics::v1 as pb;
use growth_runtime::status::FieldViolation;

use super::batch::{RowErrors, parse_rows};
use super::fields;
use super::mrr::{self, Interval};
use super::payment::money;

/// Longest plan name accepted.
pub const MAX_PLAN_LEN: usize = 128;

/// A validated subscription state (also the shape of a stored latest state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    /// `sub_…`.
    pub stripe_subscription_id: String,
    /// The subscriber (empty in a webhook's state until its customer is
    /// resolved to a user).
    pub user_id: String,
    /// `cus_…`.
    pub stripe_customer: Option<String>,
    /// Plan name (price nickname or id).
    pub plan: String,
    /// Lower-case ISO currency.
    pub currency: String,
    /// Price of one unit for one interval, minor units.
    pub amount_minor: i64,
    /// Units, at least 1.
    pub quantity: i64,
    /// `day`, `week`, `month` or `year`.
    pub billing_interval: String,
    /// Intervals between bills, 1 to 365.
    pub interval_count: i32,
    /// Stripe's status name, e.g. `active`.
    pub status: String,
    /// When the subscription started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// When this state took effect.
    pub effective_at: DateTime<Utc>,
    /// Monthly-normalised amount; 0 for states that carry no MRR.
    pub mrr_minor: i64,
}

impl NewSubscription {
    /// Validates one state, its user included.
    pub fn parse(s: &pb::Subscription, now: DateTime<Utc>) -> Result<Self, Vec<FieldViolation>> {
        let user = fields::id("user_id", &s.user_id);
        match (Self::parse_unowned(s, now), user) {
            (Ok(parsed), Ok(user_id)) => Ok(Self { user_id, ..parsed }),
            (Ok(_), Err(v)) => Err(vec![v]),
            (Err(mut errors), Err(v)) => {
                errors.insert(0, v);
                Err(errors)
            }
            (Err(errors), Ok(_)) => Err(errors),
        }
    }

    /// Validates everything but the user (the webhook resolves the user from
    /// the Stripe customer); `user_id` is left empty.
    pub fn parse_unowned(
        s: &pb::Subscription,
        now: DateTime<Utc>,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut errors = RowErrors::default();
        let id = errors.check(fields::id(
            "stripe_subscription_id",
            &s.stripe_subscription_id,
        ));
        let customer = errors.check(fields::optional_id("stripe_customer", &s.stripe_customer));
        let plan = errors.check(fields::text("plan", &s.plan, MAX_PLAN_LEN));
        let (amount, currency) = money(&mut errors, "amount", s.amount.as_ref());
        let quantity = match s.quantity {
            0 => Some(1),
            q if q > 0 => Some(q),
            q => {
                errors.push(FieldViolation::new(
                    "quantity",
                    format!("must not be negative, got {q}"),
                ));
                None
            }
        };
        let interval = errors.check(Interval::from_proto(s.interval).ok_or_else(|| {
            FieldViolation::new(
                "interval",
                format!(
                    "must be a BillingInterval other than UNSPECIFIED, got {}",
                    s.interval
                ),
            )
        }));
        let interval_count = match s.interval_count {
            0 => Some(1),
            c if (1..=365).contains(&c) => Some(c),
            c => {
                errors.push(FieldViolation::new(
                    "interval_count",
                    format!("must be between 1 and 365 (0 means 1), got {c}"),
                ));
                None
            }
        };
        let status = errors.check(mrr::status_name(s.status).ok_or_else(|| {
            FieldViolation::new(
                "status",
                format!(
                    "must be a SubscriptionStatus other than UNSPECIFIED, got {}",
                    s.status
                ),
            )
        }));
        let micros = |t: DateTime<Utc>| t.trunc_subsecs(6);
        let started_at = errors
            .check(fields::timestamp("started_at", s.started_at.as_ref(), now))
            .map(micros);
        let ended_at = errors
            .check(fields::optional_timestamp(
                "ended_at",
                s.ended_at.as_ref(),
                now,
            ))
            .map(|t| t.map(micros));
        let effective_at = errors
            .check(fields::timestamp(
                "effective_at",
                s.effective_at.as_ref(),
                now,
            ))
            .map(micros);
        if let (Some(start), Some(effective)) = (started_at, effective_at)
            && effective < start
        {
            errors.push(FieldViolation::new(
                "effective_at",
                format!(
                    "{} is before started_at {}",
                    effective.to_rfc3339(),
                    start.to_rfc3339()
                ),
            ));
        }
        if let (Some(start), Some(Some(end))) = (started_at, ended_at)
            && end < start
        {
            errors.push(FieldViolation::new(
                "ended_at",
                format!(
                    "{} is before started_at {}",
                    end.to_rfc3339(),
                    start.to_rfc3339()
                ),
            ));
        }
        let mrr_minor = match (amount, quantity, interval, interval_count, status) {
            (Some(a), Some(q), Some(i), Some(c), Some(status)) if mrr::carries_mrr(status) => {
                errors.check(mrr::monthly(a, q, i, c).ok_or_else(|| {
                    FieldViolation::new(
                        "amount.amount_minor",
                        "times quantity is too large to be a monthly amount",
                    )
                }))
            }
            _ => Some(0),
        };
        errors.finish(|| {
            Some(Self {
                stripe_subscription_id: id?,
                user_id: String::new(),
                stripe_customer: customer?,
                plan: plan?,
                currency: currency?,
                amount_minor: amount?,
                quantity: quantity?,
                billing_interval: interval?.as_str().to_owned(),
                interval_count: interval_count?,
                status: status?.to_owned(),
                started_at: started_at?,
                ended_at: ended_at?,
                effective_at: effective_at?,
                mrr_minor: mrr_minor?,
            })
        })
    }

    /// Validates a whole `ImportSubscriptions` batch. A subscription may
    /// appear several times, but not twice at the same `effective_at`.
    pub fn parse_batch(
        rows: &[pb::Subscription],
        now: DateTime<Utc>,
    ) -> Result<Vec<Self>, Vec<FieldViolation>> {
        let mut seen: HashMap<(&str, i64, i32), usize> = HashMap::with_capacity(rows.len());
        let mut duplicates = Vec::new();
        for (index, row) in rows.iter().enumerate() {
            let Some(at) = &row.effective_at else {
                continue;
            };
            let key = (
                row.stripe_subscription_id.as_str(),
                at.seconds,
                at.nanos / 1000,
            );
            if let Some(first) = seen.insert(key, index) {
                duplicates.push(FieldViolation::new(
                    format!("subscriptions[{index}].effective_at"),
                    format!(
                        "duplicates subscriptions[{first}]: the same subscription {:?} at the same instant",
                        row.stripe_subscription_id
                    ),
                ));
            }
        }
        // Several states of one subscription are expected: no per-id check.
        let parsed = parse_rows("subscriptions", rows, |_| ("", ""), |s| Self::parse(s, now));
        match parsed {
            Ok(parsed) if duplicates.is_empty() => Ok(parsed),
            Ok(_) => Err(duplicates),
            Err(mut violations) => {
                violations.extend(duplicates);
                Err(violations)
            }
        }
    }

    /// Whether `other` is the same state, whatever its `effective_at`.
    pub fn same_state(&self, other: &Self) -> bool {
        Self {
            effective_at: other.effective_at,
            ..self.clone()
        } == *other
    }
}

/// Violations for states whose user does not exist, naming each row.
pub fn unknown_user_violations(
    rows: &[NewSubscription],
    unknown: &[String],
) -> Vec<FieldViolation> {
    rows.iter()
        .enumerate()
        .filter(|(_, s)| unknown.contains(&s.user_id))
        .map(|(i, s)| {
            FieldViolation::new(
                format!("subscriptions[{i}].user_id"),
                format!("unknown user {:?}: upsert the user first", s.user_id),
            )
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use growth_proto::common::v1::Money;
    use growth_proto::metrics::v1::{BillingInterval, SubscriptionStatus};

    pub(crate) fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid")
    }

    fn ts(at: DateTime<Utc>) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        })
    }

    pub(crate) fn wire(id: &str, days: i64) -> pb::Subscription {
        let start = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        pb::Subscription {
            stripe_subscription_id: id.into(),
            stripe_customer: "cus_1".into(),
            user_id: "u1".into(),
            plan: "pro".into(),
            amount: Some(Money {
                amount_minor: 49_000,
                currency: "EUR".into(),
            }),
            quantity: 0,
            interval: BillingInterval::Year as i32,
            interval_count: 0,
            status: SubscriptionStatus::Active as i32,
            started_at: ts(start),
            ended_at: None,
            effective_at: ts(start + Duration::days(days)),
        }
    }

    /// A parsed yearly ACTIVE state of `id`, `days` after 2025-01-01.
    pub(crate) fn state(id: &str, days: i64, plan: &str) -> NewSubscription {
        let wire = pb::Subscription {
            plan: plan.into(),
            ..wire(id, days)
        };
        NewSubscription::parse(&wire, now()).expect("valid")
    }

    #[test]
    fn a_state_is_normalised_and_defaults_apply() {
        let s = state("sub_1", 0, "pro");
        assert_eq!(
            (s.currency.as_str(), s.quantity, s.interval_count),
            ("eur", 1, 1)
        );
        assert_eq!((s.billing_interval.as_str(), s.mrr_minor), ("year", 4083));
        let trial = pb::Subscription {
            status: SubscriptionStatus::Trialing as i32,
            ..wire("sub_1", 0)
        };
        assert_eq!(
            NewSubscription::parse(&trial, now())
                .expect("valid")
                .mrr_minor,
            0
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = pb::Subscription {
            user_id: String::new(),
            quantity: -1,
            interval: 0,
            interval_count: 400,
            status: 0,
            effective_at: ts(Utc
                .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
                .single()
                .expect("valid")),
            ..wire("sub_1", 0)
        };
        let fields: Vec<String> = NewSubscription::parse(&bad, now())
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "user_id",
                "quantity",
                "interval",
                "interval_count",
                "status",
                "effective_at"
            ]
        );
    }

    #[test]
    fn a_batch_refuses_two_states_of_one_subscription_at_one_instant() {
        let err = NewSubscription::parse_batch(
            &[wire("sub_1", 0), wire("sub_1", 1), wire("sub_1", 0)],
            now(),
        )
        .unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].field, "subscriptions[2].effective_at");
        assert!(err[0].reason.contains("subscriptions[0]"), "{}", err[0]);
    }
}
