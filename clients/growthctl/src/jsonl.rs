//! JSON-lines input for the ingest commands: one object per line, times in
//! RFC 3339, money in minor units. Errors name the line.

use std::io::BufRead;
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use growth_proto::common::v1::Money;
use growth_proto::metrics::v1 as pb;
use growth_proto::timestamp::from_utc;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A user line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserLine {
    user_id: String,
    email: String,
    signup_at: DateTime<Utc>,
    plan: String,
    #[serde(default)]
    trial_ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An event line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventLine {
    event_id: String,
    user_id: String,
    name: String,
    occurred_at: DateTime<Utc>,
    #[serde(default)]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A payment line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentLine {
    stripe_id: String,
    #[serde(default)]
    stripe_charge_id: String,
    #[serde(default)]
    stripe_invoice_id: String,
    #[serde(default)]
    stripe_customer: String,
    #[serde(default)]
    user_id: String,
    amount_minor: i64,
    currency: String,
    status: String,
    #[serde(default)]
    refunded_minor: i64,
    created_at: DateTime<Utc>,
    #[serde(default)]
    refunded_at: Option<DateTime<Utc>>,
    #[serde(default)]
    raw: Option<serde_json::Map<String, serde_json::Value>>,
}

fn json_text(map: Option<serde_json::Map<String, serde_json::Value>>) -> String {
    map.map(|m| serde_json::Value::Object(m).to_string())
        .unwrap_or_default()
}

/// One subscription state of a JSON-lines file (`subscriptions import`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionLine {
    stripe_subscription_id: String,
    #[serde(default)]
    stripe_customer: String,
    user_id: String,
    plan: String,
    amount_minor: i64,
    currency: String,
    #[serde(default)]
    quantity: i64,
    interval: String,
    #[serde(default)]
    interval_count: i32,
    status: String,
    started_at: DateTime<Utc>,
    #[serde(default)]
    ended_at: Option<DateTime<Utc>>,
    effective_at: DateTime<Utc>,
}

/// A wire enum value from its lower-case name (`past_due` for
/// `SUBSCRIPTION_STATUS_PAST_DUE`), or an error listing `names`.
fn named<T: PartialEq + Default>(
    field: &str,
    text: &str,
    from: impl Fn(&str) -> Option<T>,
    prefix: &str,
    names: &str,
) -> anyhow::Result<T> {
    from(&format!("{prefix}{}", text.to_ascii_uppercase()))
        .filter(|v| *v != T::default())
        .with_context(|| format!("{field} {text:?} is not one of {names}"))
}

impl TryFrom<SubscriptionLine> for pb::Subscription {
    type Error = anyhow::Error;

    fn try_from(line: SubscriptionLine) -> anyhow::Result<Self> {
        let status = named(
            "status",
            &line.status,
            pb::SubscriptionStatus::from_str_name,
            "SUBSCRIPTION_STATUS_",
            "trialing, active, past_due, canceled, unpaid, incomplete, incomplete_expired, paused",
        )?;
        let interval = named(
            "interval",
            &line.interval,
            pb::BillingInterval::from_str_name,
            "BILLING_INTERVAL_",
            "day, week, month, year",
        )?;
        Ok(pb::Subscription {
            stripe_subscription_id: line.stripe_subscription_id,
            stripe_customer: line.stripe_customer,
            user_id: line.user_id,
            plan: line.plan,
            amount: Some(Money {
                amount_minor: line.amount_minor,
                currency: line.currency,
            }),
            quantity: line.quantity,
            interval: interval as i32,
            interval_count: line.interval_count,
            status: status as i32,
            started_at: Some(from_utc(line.started_at)),
            ended_at: line.ended_at.map(from_utc),
            effective_at: Some(from_utc(line.effective_at)),
        })
    }
}

impl From<UserLine> for pb::User {
    fn from(line: UserLine) -> Self {
        pb::User {
            user_id: line.user_id,
            email: line.email,
            signup_at: Some(from_utc(line.signup_at)),
            plan: line.plan,
            trial_ends_at: line.trial_ends_at.map(from_utc),
            attributes_json: json_text(line.attributes),
        }
    }
}

impl From<EventLine> for pb::Event {
    fn from(line: EventLine) -> Self {
        pb::Event {
            event_id: line.event_id,
            user_id: line.user_id,
            name: line.name,
            occurred_at: Some(from_utc(line.occurred_at)),
            properties_json: json_text(line.properties),
        }
    }
}

impl TryFrom<PaymentLine> for pb::Payment {
    type Error = anyhow::Error;

    fn try_from(line: PaymentLine) -> anyhow::Result<Self> {
        let status = named(
            "status",
            &line.status,
            pb::PaymentStatus::from_str_name,
            "PAYMENT_STATUS_",
            "succeeded, pending, failed, canceled, refunded, partially_refunded, authorized",
        )?;
        Ok(pb::Payment {
            stripe_id: line.stripe_id,
            stripe_charge_id: line.stripe_charge_id,
            stripe_invoice_id: line.stripe_invoice_id,
            stripe_customer: line.stripe_customer,
            user_id: line.user_id,
            amount: Some(Money {
                amount_minor: line.amount_minor,
                currency: line.currency,
            }),
            status: status as i32,
            refunded_minor: line.refunded_minor,
            created_at: Some(from_utc(line.created_at)),
            raw_json: json_text(line.raw),
            refunded_at: line.refunded_at.map(from_utc),
        })
    }
}

/// Opens `path`, or stdin for `None` / `-`.
pub fn open(path: Option<&Path>) -> anyhow::Result<Box<dyn BufRead>> {
    match path {
        None => Ok(Box::new(std::io::stdin().lock())),
        Some(p) if p == Path::new("-") => Ok(Box::new(std::io::stdin().lock())),
        Some(p) => {
            let file =
                std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            Ok(Box::new(std::io::BufReader::new(file)))
        }
    }
}

/// Reads up to `max` rows of type `L` converted to `T`, skipping blank
/// lines; `line_no` counts lines read so far. An empty result means the end.
pub fn read_batch<L, T>(
    reader: &mut dyn BufRead,
    max: usize,
    line_no: &mut usize,
    convert: impl Fn(L) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<T>>
where
    L: DeserializeOwned,
{
    let mut rows = Vec::with_capacity(max);
    let mut line = String::new();
    while rows.len() < max {
        line.clear();
        if reader.read_line(&mut line).context("reading input")? == 0 {
            break;
        }
        *line_no += 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: L = serde_json::from_str(&line)
            .with_context(|| format!("line {line_no}: not a valid row"))?;
        rows.push(convert(parsed).with_context(|| format!("line {line_no}"))?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_rows_and_errors_name_the_line() {
        let input = "{\"event_id\":\"e1\",\"user_id\":\"u1\",\"name\":\"login\",\"occurred_at\":\"2025-01-02T03:04:05Z\",\"properties\":{\"a\":1}}\n\n{\"event_id\":\"e2\"}\n";
        let mut reader = std::io::Cursor::new(input);
        let mut line = 0;
        let err = read_batch::<EventLine, pb::Event>(&mut reader, 10, &mut line, |l| Ok(l.into()))
            .expect_err("second row is incomplete");
        assert!(
            format!("{err:#}").starts_with("line 3: not a valid row: missing field `user_id`"),
            "{err:#}"
        );

        let mut reader = std::io::Cursor::new(input.lines().next().unwrap_or_default().to_owned());
        let mut line = 0;
        let rows = read_batch::<EventLine, pb::Event>(&mut reader, 10, &mut line, |l| Ok(l.into()))
            .expect("valid");
        assert_eq!(rows[0].properties_json, r#"{"a":1}"#);
        assert_eq!(
            rows[0].occurred_at.as_ref().map(|t| t.seconds),
            Some(1_735_787_045)
        );
    }

    #[test]
    fn payment_statuses_are_named_like_stripe_names_them() {
        let line: PaymentLine = serde_json::from_str(
            r#"{"stripe_id":"pi_1","amount_minor":100,"currency":"usd","status":"partially_refunded","refunded_minor":50,"created_at":"2025-01-01T00:00:00Z"}"#,
        )
        .expect("parses");
        let payment = pb::Payment::try_from(line).expect("converts");
        assert_eq!(payment.status, pb::PaymentStatus::PartiallyRefunded as i32);
        let bad: PaymentLine = serde_json::from_str(
            r#"{"stripe_id":"pi_1","amount_minor":100,"currency":"usd","status":"paid","created_at":"2025-01-01T00:00:00Z"}"#,
        )
        .expect("parses");
        assert!(
            pb::Payment::try_from(bad)
                .unwrap_err()
                .to_string()
                .contains("\"paid\"")
        );
    }
}
