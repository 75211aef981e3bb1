//! The subscription history of a converted user, consistent with their
//! payments: a trial, the paid plan from the end of the trial, some upgrades
//! and downgrades at renewals (the payments from then on are repriced), a
//! past-due spell after each failed payment, a few annual plans (billed once
//! a year at ten months' price), the cancellation when they churn and, for
//! some churned users, a new subscription a few weeks later (a
//! reactivation). Drawn from its own random stream, so the users, events
//! and payments of a seed stay what they were before subscriptions existed.

use chrono::{DateTime, Duration, Months, Utc};
use growth_proto::common::v1::Money;
use growth_proto::metrics::v1::{self as pb, BillingInterval, SubscriptionStatus};
use growth_proto::timestamp::from_utc;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Share of converted users on an annual plan.
const ANNUAL: f64 = 0.12;
/// Monthly chance of an upgrade / a downgrade at a renewal.
const UPGRADE: f64 = 0.04;
const DOWNGRADE: f64 = 0.02;
/// Share of churned users who come back with a new subscription.
const REACTIVATE: f64 = 0.3;
/// Days a failed renewal stays past due before it is paid.
const PAST_DUE_DAYS: i64 = 3;

/// What the history is built from.
#[derive(Debug, Clone)]
pub struct Customer<'a> {
    /// The user.
    pub user_id: &'a str,
    /// Their Stripe customer.
    pub customer: &'a str,
    /// Their currency.
    pub currency: &'a str,
    /// Plans by price, cheapest first: (name, monthly price).
    pub plans: &'a [(&'a str, i64)],
    /// Index of the plan they convert to.
    pub plan: usize,
    /// Signup (the trial starts).
    pub signup_at: DateTime<Utc>,
    /// End of the trial (the first payment is due).
    pub trial_ends_at: DateTime<Utc>,
    /// When they cancel, if they do.
    pub churned_at: Option<DateTime<Utc>>,
    /// End of the generated history (exclusive).
    pub until: DateTime<Utc>,
}

/// A history and the user's plan at its end.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// States in time order, per subscription.
    pub states: Vec<pb::Subscription>,
    /// Plan name at the end, when paying then.
    pub plan_at_end: Option<String>,
    /// Payments of a reactivated subscription (to add to the user's).
    pub reactivation_payments: Vec<(DateTime<Utc>, i64)>,
}

struct Sub<'a> {
    id: String,
    started_at: DateTime<Utc>,
    annual: bool,
    c: &'a Customer<'a>,
}

impl Sub<'_> {
    fn state(
        &self,
        plan: usize,
        status: SubscriptionStatus,
        at: DateTime<Utc>,
    ) -> pb::Subscription {
        let (name, price) = self.c.plans[plan];
        let (amount, interval, suffix) = if self.annual {
            (price * 10, BillingInterval::Year, "-annual")
        } else {
            (price, BillingInterval::Month, "")
        };
        pb::Subscription {
            stripe_subscription_id: self.id.clone(),
            stripe_customer: self.c.customer.to_owned(),
            user_id: self.c.user_id.to_owned(),
            plan: format!("{name}{suffix}"),
            amount: Some(Money {
                amount_minor: amount,
                currency: self.c.currency.to_owned(),
            }),
            quantity: 1,
            interval: interval as i32,
            interval_count: 1,
            status: status as i32,
            started_at: Some(from_utc(self.started_at)),
            ended_at: (status == SubscriptionStatus::Canceled).then(|| from_utc(at)),
            effective_at: Some(from_utc(at)),
        }
    }
}

fn sub_id(rng: &mut ChaCha8Rng) -> String {
    format!(
        "sub_{:016x}{:08x}",
        rng.random::<u64>(),
        rng.random::<u32>()
    )
}

/// Builds the history; reprices `payments` (one per monthly renewal, in
/// order, as the payment generator made them) to the plan in force.
pub fn history(rng: &mut ChaCha8Rng, c: &Customer<'_>, payments: &mut Vec<pb::Payment>) -> History {
    let mut out = History::default();
    let first = Sub {
        id: sub_id(rng),
        started_at: c.signup_at,
        annual: rng.random_bool(ANNUAL),
        c,
    };
    let mut plan = c.plan;
    out.states
        .push(first.state(plan, SubscriptionStatus::Trialing, c.signup_at));
    if c.trial_ends_at >= c.until {
        return out;
    }
    if first.annual {
        // One payment a year at the annual price.
        let annual_price = c.plans[plan].1 * 10;
        let mut kept = Vec::new();
        for (m, mut p) in std::mem::take(payments).into_iter().enumerate() {
            if m.is_multiple_of(12) {
                reprice(&mut p, annual_price);
                kept.push(p);
            }
        }
        *payments = kept;
        out.states
            .push(first.state(plan, SubscriptionStatus::Active, c.trial_ends_at));
    } else {
        for (m, payment) in payments.iter_mut().enumerate() {
            let Some(due) = c.trial_ends_at.checked_add_months(Months::new(m as u32)) else {
                continue;
            };
            if m > 0 {
                if plan + 1 < c.plans.len() && rng.random_bool(UPGRADE) {
                    plan += 1;
                } else if plan > 0 && rng.random_bool(DOWNGRADE) {
                    plan -= 1;
                }
            }
            reprice(payment, c.plans[plan].1);
            let failed = payment.status == pb::PaymentStatus::Failed as i32;
            let status = if failed {
                SubscriptionStatus::PastDue
            } else {
                SubscriptionStatus::Active
            };
            let state = first.state(plan, status, due);
            if out.states.last().is_none_or(|last| !same(last, &state)) {
                out.states.push(state);
            }
            let recovered = due + Duration::days(PAST_DUE_DAYS);
            if failed && recovered < c.until {
                out.states
                    .push(first.state(plan, SubscriptionStatus::Active, recovered));
            }
        }
    }
    let Some(churned_at) = c.churned_at else {
        out.plan_at_end = Some(
            out.states
                .last()
                .map(|s| s.plan.clone())
                .unwrap_or_default(),
        );
        return out;
    };
    out.states
        .push(first.state(plan, SubscriptionStatus::Canceled, churned_at));
    if !rng.random_bool(REACTIVATE) {
        return out;
    }
    let back = churned_at + Duration::days(rng.random_range(20..120));
    if back >= c.until {
        return out;
    }
    let again = Sub {
        id: sub_id(rng),
        started_at: back,
        annual: false,
        c,
    };
    out.states
        .push(again.state(plan, SubscriptionStatus::Active, back));
    out.plan_at_end = Some(c.plans[plan].0.to_owned());
    let mut m = 0;
    while let Some(due) = back
        .checked_add_months(Months::new(m))
        .filter(|due| *due < c.until)
    {
        out.reactivation_payments.push((due, c.plans[plan].1));
        m += 1;
    }
    out
}

/// Same plan, price and status (the instant aside).
fn same(a: &pb::Subscription, b: &pb::Subscription) -> bool {
    (&a.plan, &a.amount, a.status) == (&b.plan, &b.amount, b.status)
}

/// Sets a payment's amount (and its refund, in proportion).
fn reprice(p: &mut pb::Payment, amount: i64) {
    if let Some(money) = p.amount.as_mut() {
        money.amount_minor = amount;
    }
    p.refunded_minor = if p.status == pb::PaymentStatus::Refunded as i32 {
        amount
    } else if p.status == pb::PaymentStatus::PartiallyRefunded as i32 {
        amount / 2
    } else {
        0
    };
    if let Ok(mut raw) = serde_json::from_str::<serde_json::Value>(&p.raw_json) {
        raw["amount"] = amount.into();
        p.raw_json = raw.to_string();
    }
}

#[cfg(test)]
mod tests {
    use growth_proto::metrics::v1 as pb;

    use super::super::generate::tests::model;
    use super::super::generate::{Model, Synthetic};

    #[test]
    fn subscription_histories_are_valid_ordered_and_varied() {
        use metrics_svc::domain::NewSubscription;
        use std::collections::HashMap;

        // Long enough and churny enough for a few reactivations.
        let m = Model {
            users: 2000,
            months: 12,
            churn: 0.1,
            events_per_user: 2.0,
            ..model()
        };
        let users: Vec<Synthetic> = (0..m.users).map(|i| m.user(i)).collect();
        let states: Vec<pb::Subscription> =
            users.iter().flat_map(|u| u.subscriptions.clone()).collect();
        // Every state passes the server's validation (unique instants too).
        let parsed = NewSubscription::parse_batch(&states, m.until).expect("valid states");
        let mut last: HashMap<&str, i64> = HashMap::new();
        for s in &states {
            let at = s.effective_at.as_ref().map_or(0, |t| t.seconds);
            let before = last.insert(&s.stripe_subscription_id, at);
            assert!(before.is_none_or(|b| b < at), "states in time order");
        }
        let count = |f: &dyn Fn(&NewSubscription) -> bool| parsed.iter().filter(|s| f(s)).count();
        assert!(count(&|s| s.billing_interval == "year") > 0, "annual plans");
        assert!(count(&|s| s.status == "past_due") > 0, "past-due spells");
        assert!(count(&|s| s.status == "canceled") > 0, "cancellations");
        let currencies: std::collections::BTreeSet<&str> =
            parsed.iter().map(|s| s.currency.as_str()).collect();
        assert!(currencies.len() > 1, "{currencies:?}");
        // Upgrades or downgrades, and reactivations (a second subscription).
        let mut plans: HashMap<&str, std::collections::BTreeSet<&str>> = HashMap::new();
        let mut subs: HashMap<&str, std::collections::BTreeSet<&str>> = HashMap::new();
        for s in &parsed {
            plans
                .entry(&s.stripe_subscription_id)
                .or_default()
                .insert(&s.plan);
            subs.entry(&s.user_id)
                .or_default()
                .insert(&s.stripe_subscription_id);
        }
        assert!(plans.values().any(|p| p.len() > 1), "plan changes");
        let canceled = count(&|s| s.status == "canceled");
        assert!(
            subs.values().any(|s| s.len() > 1),
            "reactivations among {canceled} cancellations"
        );
        // Paying users' subscriptions agree with their plan.
        for u in &users {
            if let Some(last) = u.subscriptions.last()
                && last.status == pb::SubscriptionStatus::Active as i32
            {
                assert_eq!(u.user.plan, last.plan);
            }
        }
    }
}
