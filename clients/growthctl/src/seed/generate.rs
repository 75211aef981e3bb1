//! The synthetic SaaS: a pure, deterministic generator. The same seed and end
//! date always give the same users, events and payments (ids included), so
//! seeding twice inserts nothing twice.
//!
//! The model: signups grow over the period; every user starts a 14-day trial;
//! a share converts to a paid plan (monthly Stripe-shaped payments in the
//! user's currency, some failed or refunded) and paying users churn with a
//! monthly probability. Activity decays from signup, more slowly for paying
//! users, and stops some days after churn, which gives realistic retention
//! curves. Converted users also get a subscription history that agrees with
//! their payments (`super::subscriptions`).

use chrono::{DateTime, Duration, Months, Utc};
use growth_proto::common::v1::Money;
use growth_proto::metrics::v1 as pb;
use growth_proto::timestamp::from_utc;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::subscriptions;

/// Knobs of the model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of users.
    pub users: u64,
    /// Signups spread over this many months before `until`.
    pub months: u32,
    /// Mean number of events per user over the whole period.
    pub events_per_user: f64,
    /// Share of trials that convert to a paid plan (0..1).
    pub conversion: f64,
    /// Monthly probability that a paying customer cancels (0..1).
    pub churn: f64,
    /// End of the generated history (exclusive).
    pub until: DateTime<Utc>,
}

/// One generated user with everything that belongs to them.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// The user.
    pub user: pb::User,
    /// Their activity, in time order.
    pub events: Vec<pb::Event>,
    /// Their payments, in time order.
    pub payments: Vec<pb::Payment>,
    /// Their subscription states, in time order per subscription (empty
    /// for users who never convert).
    pub subscriptions: Vec<pb::Subscription>,
}

const TRIAL_DAYS: i64 = 14;
/// Mixed into the seed for the subscription histories' random stream.
const SUBSCRIPTION_STREAM: u64 = 0x5355_4253_4352_4950;
const PLANS: &[(&str, i64, f64)] = &[
    ("starter", 1900, 0.5),
    ("pro", 4900, 0.35),
    ("business", 19900, 0.15),
];
const CURRENCIES: &[(&str, f64)] = &[("usd", 0.75), ("eur", 0.15), ("gbp", 0.10)];
const COUNTRIES: &[(&str, f64)] = &[
    ("US", 0.4),
    ("DE", 0.15),
    ("GB", 0.12),
    ("FR", 0.1),
    ("IN", 0.13),
    ("BR", 0.1),
];
const CHANNELS: &[(&str, f64)] = &[
    ("organic", 0.45),
    ("ads", 0.25),
    ("referral", 0.2),
    ("partner", 0.1),
];
const EVENTS: &[(&str, f64)] = &[
    ("login", 0.35),
    ("dashboard_viewed", 0.25),
    ("report_created", 0.15),
    ("export_downloaded", 0.08),
    ("settings_updated", 0.07),
    ("invite_sent", 0.05),
    ("integration_connected", 0.05),
];
const SOURCES: &[(&str, f64)] = &[("web", 0.7), ("mobile", 0.2), ("api", 0.1)];

fn pick<'a, T>(rng: &mut ChaCha8Rng, choices: &'a [(T, f64)]) -> &'a T {
    let mut x: f64 = rng.random();
    for (choice, weight) in choices {
        if x < *weight {
            return choice;
        }
        x -= weight;
    }
    &choices[choices.len() - 1].0
}

fn pick3<'a>(rng: &mut ChaCha8Rng, choices: &'a [(&'a str, i64, f64)]) -> (&'a str, i64) {
    let mut x: f64 = rng.random();
    for (name, price, weight) in choices {
        if x < *weight {
            return (name, *price);
        }
        x -= weight;
    }
    let (name, price, _) = choices[choices.len() - 1];
    (name, price)
}

/// An exponential variate with the given mean.
fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    -mean * (1.0 - rng.random::<f64>()).ln()
}

/// A lognormal variate with mean 1.
fn lognormal_mean_one(rng: &mut ChaCha8Rng, sigma: f64) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
    let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (sigma * normal - sigma * sigma / 2.0).exp()
}

fn hex_id(rng: &mut ChaCha8Rng, prefix: &str) -> String {
    format!(
        "{prefix}{:016x}{:08x}",
        rng.random::<u64>(),
        rng.random::<u32>()
    )
}

impl Model {
    /// The id of user `index`.
    pub fn user_id(&self, index: u64) -> String {
        format!("u{}_{index:07}", self.seed)
    }

    /// Generates user `index` (0-based) with their events and payments.
    pub fn user(&self, index: u64) -> Synthetic {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index);
        let start = self
            .until
            .checked_sub_months(Months::new(self.months))
            .unwrap_or(self.until);
        let span = (self.until - start).num_seconds().max(1) as f64;
        // Signups grow linearly over the period: more recent, more signups.
        let signup_at = start + Duration::seconds((rng.random::<f64>().sqrt() * span) as i64);
        let trial_ends_at = signup_at + Duration::days(TRIAL_DAYS);
        let user_id = self.user_id(index);
        let customer = hex_id(&mut rng, "cus_");
        let currency = *pick(&mut rng, CURRENCIES);
        let country = *pick(&mut rng, COUNTRIES);
        let channel = *pick(&mut rng, CHANNELS);

        let converts = rng.random_bool(self.conversion.clamp(0.0, 1.0));
        let (plan_name, price) = pick3(&mut rng, PLANS);
        let mut payments = Vec::new();
        let mut churned_at = None;
        if converts {
            let mut month = 0u32;
            while let Some(due) = trial_ends_at
                .checked_add_months(Months::new(month))
                .filter(|due| *due < self.until)
            {
                if month > 0 && rng.random_bool(self.churn.clamp(0.0, 1.0)) {
                    churned_at = Some(due);
                    break;
                }
                payments.push(self.payment(&mut rng, &user_id, &customer, currency, price, due));
                month += 1;
            }
        }
        let mut subscriptions = Vec::new();
        let mut plan_at_end = None;
        if converts {
            // Its own stream: the draws above and below stay as they were.
            let mut history_rng = ChaCha8Rng::seed_from_u64(self.seed ^ SUBSCRIPTION_STREAM);
            history_rng.set_stream(index);
            let plans: Vec<(&str, i64)> = PLANS.iter().map(|(n, p, _)| (*n, *p)).collect();
            let customer_of = subscriptions::Customer {
                user_id: &user_id,
                customer: &customer,
                currency,
                plan: plans.iter().position(|(n, _)| *n == plan_name).unwrap_or(0),
                plans: &plans,
                signup_at,
                trial_ends_at,
                churned_at,
                until: self.until,
            };
            let history = subscriptions::history(&mut history_rng, &customer_of, &mut payments);
            for (at, amount) in history.reactivation_payments {
                let payment =
                    self.payment(&mut history_rng, &user_id, &customer, currency, amount, at);
                payments.push(payment);
            }
            subscriptions = history.states;
            plan_at_end = history.plan_at_end;
        }
        let plan = match (converts, churned_at) {
            (true, _) if plan_at_end.is_some() => plan_at_end.as_deref().unwrap_or(plan_name),
            (true, None) => plan_name,
            (true, Some(_)) => "free",
            (false, _) if trial_ends_at > self.until => "trial",
            (false, _) => "free",
        };
        let user = pb::User {
            user_id: user_id.clone(),
            email: format!("{user_id}@example.com"),
            signup_at: Some(from_utc(signup_at)),
            plan: plan.to_owned(),
            trial_ends_at: Some(from_utc(trial_ends_at)),
            attributes_json: serde_json::json!({
                "country": country,
                "channel": channel,
                "seed_plan": plan_name,
            })
            .to_string(),
        };

        // Activity: a burst at signup, then decaying interest; paying users
        // keep a slower decay until they churn.
        let active_until = match (converts, churned_at) {
            (true, Some(at)) => at + Duration::days(rng.random_range(0..10)),
            (true, None) => self.until,
            (false, _) => trial_ends_at + Duration::days(rng.random_range(0..21)),
        }
        .min(self.until);
        let decay_days = if converts { 90.0 } else { 6.0 };
        let engagement = lognormal_mean_one(&mut rng, 0.8);
        let count = (self.events_per_user * engagement).round().max(1.0) as u64;
        let window = (active_until - signup_at).num_seconds().max(60) as f64;
        let mut times: Vec<DateTime<Utc>> = (0..count)
            .map(|k| {
                if k == 0 {
                    return signup_at;
                }
                let mut offset = exponential(&mut rng, decay_days * 86_400.0);
                if offset >= window {
                    offset = rng.random::<f64>() * window;
                }
                signup_at + Duration::seconds(offset as i64)
            })
            .collect();
        times.sort_unstable();
        let events = times
            .into_iter()
            .enumerate()
            .map(|(k, at)| pb::Event {
                event_id: format!("{user_id}_e{k}"),
                user_id: user_id.clone(),
                name: if k == 0 {
                    "signed_up".to_owned()
                } else {
                    (*pick(&mut rng, EVENTS)).to_owned()
                },
                occurred_at: Some(from_utc(at)),
                properties_json: serde_json::json!({ "source": *pick(&mut rng, SOURCES) })
                    .to_string(),
            })
            .collect();
        Synthetic {
            user,
            events,
            payments,
            subscriptions,
        }
    }

    fn payment(
        &self,
        rng: &mut ChaCha8Rng,
        user_id: &str,
        customer: &str,
        currency: &str,
        price: i64,
        at: DateTime<Utc>,
    ) -> pb::Payment {
        let roll: f64 = rng.random();
        let (status, refunded) = if roll < 0.02 {
            (pb::PaymentStatus::Failed, 0)
        } else if roll < 0.035 {
            (pb::PaymentStatus::Refunded, price)
        } else if roll < 0.04 {
            (pb::PaymentStatus::PartiallyRefunded, price / 2)
        } else {
            (pb::PaymentStatus::Succeeded, 0)
        };
        let stripe_id = hex_id(rng, "pi_");
        let charge = hex_id(rng, "ch_");
        let invoice = hex_id(rng, "in_");
        pb::Payment {
            raw_json: serde_json::json!({
                "id": stripe_id, "object": "payment_intent", "amount": price,
                "currency": currency, "customer": customer, "latest_charge": charge,
                "invoice": invoice, "created": at.timestamp(),
            })
            .to_string(),
            stripe_id,
            stripe_charge_id: charge,
            stripe_invoice_id: invoice,
            stripe_customer: customer.to_owned(),
            user_id: user_id.to_owned(),
            amount: Some(Money {
                amount_minor: price,
                currency: currency.to_owned(),
            }),
            status: status as i32,
            refunded_minor: refunded,
            created_at: Some(from_utc(at)),
            refunded_at: None,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A small model the seed's unit tests start from.
    pub(in crate::seed) fn model() -> Model {
        Model {
            seed: 7,
            users: 500,
            months: 6,
            events_per_user: 40.0,
            conversion: 0.3,
            churn: 0.05,
            until: Utc
                .with_ymd_and_hms(2025, 12, 1, 0, 0, 0)
                .single()
                .expect("valid"),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let m = model();
        let a = m.user(17);
        let b = m.user(17);
        assert_eq!(a.user, b.user);
        assert_eq!(a.events, b.events);
        assert_eq!(a.payments, b.payments);
        assert_eq!(a.subscriptions, b.subscriptions);
        assert_ne!(m.user(18).user.user_id, a.user.user_id);
    }

    #[test]
    fn the_population_looks_like_the_parameters() {
        let m = model();
        let users: Vec<Synthetic> = (0..m.users).map(|i| m.user(i)).collect();
        let events: usize = users.iter().map(|u| u.events.len()).sum();
        let mean = events as f64 / users.len() as f64;
        assert!((30.0..50.0).contains(&mean), "mean events per user {mean}");
        let paying =
            users.iter().filter(|u| !u.payments.is_empty()).count() as f64 / users.len() as f64;
        assert!((0.2..0.4).contains(&paying), "paying share {paying}");
        let until = m.until.timestamp();
        for u in &users {
            assert!(
                u.events
                    .iter()
                    .all(|e| e.occurred_at.as_ref().is_some_and(|t| t.seconds < until))
            );
            assert!(
                u.events
                    .windows(2)
                    .all(|w| w[0].occurred_at.as_ref().map(|t| t.seconds)
                        <= w[1].occurred_at.as_ref().map(|t| t.seconds))
            );
            assert_eq!(u.events[0].name, "signed_up");
        }
    }
}
