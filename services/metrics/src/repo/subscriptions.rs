//! `metrics.subscriptions` (latest state) and `metrics.subscription_states`
//! (history) writes. `ImportSubscriptions` and the Stripe webhook both go
//! through [`record`].

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row as _};

use super::locks;
use crate::domain::NewSubscription;
use crate::domain::history::{self, StateCounts};
use crate::domain::subscription;
use crate::error::MetricsError;

/// Records a validated `ImportSubscriptions` batch in one transaction;
/// unknown users are refused naming their rows, and nothing is written.
#[tracing::instrument(skip_all, fields(rows = states.len()))]
pub async fn import(
    pool: &PgPool,
    states: &[NewSubscription],
) -> Result<StateCounts, MetricsError> {
    let mut tx = pool.begin().await?;
    let mut users: Vec<String> = states.iter().map(|s| s.user_id.clone()).collect();
    users.sort_unstable();
    users.dedup();
    let unknown = super::unknown_users(&mut tx, users).await?;
    if !unknown.is_empty() {
        return Err(MetricsError::Invalid(
            subscription::unknown_user_violations(states, &unknown),
        ));
    }
    let counts = record(&mut tx, states).await?;
    tx.commit().await?;
    Ok(counts)
}

const COLUMNS: &str =
    "stripe_subscription_id, effective_at, plan, currency, amount_minor, quantity,
     billing_interval, interval_count, status, started_at, ended_at, mrr_minor";

/// Applies states (users known to exist) inside the caller's transaction:
/// appends new states to the history and moves each changed subscription's
/// latest state (see [`history::plan_writes`]).
pub async fn record(
    tx: &mut PgConnection,
    states: &[NewSubscription],
) -> Result<StateCounts, sqlx::Error> {
    locks::hold(tx, locks::SUBSCRIPTIONS_LOCK).await?;
    let ids: Vec<&str> = states
        .iter()
        .map(|s| s.stripe_subscription_id.as_str())
        .collect();
    let times: Vec<_> = states.iter().map(|s| s.effective_at).collect();
    let latest = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT user_id, stripe_customer, {COLUMNS} FROM metrics.subscriptions
         WHERE stripe_subscription_id = ANY($1)"
    )))
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(state)
    .collect::<Result<Vec<_>, _>>()?;
    let history = sqlx::query(
        "SELECT s.user_id, s.stripe_customer, h.stripe_subscription_id, h.effective_at, h.plan,
                h.currency, h.amount_minor, h.quantity, h.billing_interval, h.interval_count,
                h.status, h.started_at, h.ended_at, h.mrr_minor
         FROM unnest($1::text[], $2::timestamptz[]) AS k(id, at)
         JOIN metrics.subscription_states h
           ON h.stripe_subscription_id = k.id AND h.effective_at = k.at
         JOIN metrics.subscriptions s USING (stripe_subscription_id)",
    )
    .bind(&ids)
    .bind(&times)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(state)
    .collect::<Result<Vec<_>, _>>()?;
    let writes = history::plan_writes(states, &latest, &history);
    if !writes.latest.is_empty() {
        write_latest(tx, &writes.latest).await?;
        append(tx, &writes.recorded).await?;
    }
    Ok(writes.counts)
}

/// A stored state, read by column name.
fn state(row: &PgRow) -> Result<NewSubscription, sqlx::Error> {
    Ok(NewSubscription {
        stripe_subscription_id: row.try_get("stripe_subscription_id")?,
        user_id: row.try_get("user_id")?,
        stripe_customer: row.try_get("stripe_customer")?,
        plan: row.try_get("plan")?,
        currency: row.try_get("currency")?,
        amount_minor: row.try_get("amount_minor")?,
        quantity: row.try_get("quantity")?,
        billing_interval: row.try_get("billing_interval")?,
        interval_count: row.try_get("interval_count")?,
        status: row.try_get("status")?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        effective_at: row.try_get("effective_at")?,
        mrr_minor: row.try_get("mrr_minor")?,
    })
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds the column arrays of `rows` as `$1`..`$12`, in [`COLUMNS`] order.
fn bind_states<'q>(query: Query<'q>, rows: &'q [NewSubscription]) -> Query<'q> {
    query
        .bind(
            rows.iter()
                .map(|s| s.stripe_subscription_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|s| s.effective_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|s| s.plan.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|s| s.currency.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|s| s.amount_minor).collect::<Vec<_>>())
        .bind(rows.iter().map(|s| s.quantity).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|s| s.billing_interval.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|s| s.interval_count).collect::<Vec<_>>())
        .bind(rows.iter().map(|s| s.status.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|s| s.started_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|s| s.ended_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|s| s.mrr_minor).collect::<Vec<_>>())
}

const UNNEST: &str = "unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[],
            $6::bigint[], $7::text[], $8::integer[], $9::text[], $10::timestamptz[],
            $11::timestamptz[], $12::bigint[]";

/// The state columns of an upsert, taken from the incoming row.
const SET_STATE: &str = "plan = EXCLUDED.plan, currency = EXCLUDED.currency,
             amount_minor = EXCLUDED.amount_minor, quantity = EXCLUDED.quantity,
             billing_interval = EXCLUDED.billing_interval,
             interval_count = EXCLUDED.interval_count, status = EXCLUDED.status,
             started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at,
             mrr_minor = EXCLUDED.mrr_minor";

async fn write_latest(tx: &mut PgConnection, rows: &[NewSubscription]) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO metrics.subscriptions AS s (user_id, stripe_customer, {COLUMNS})
         SELECT user_id, stripe_customer, {COLUMNS}
         FROM {UNNEST}, $13::text[], $14::text[]) AS i({COLUMNS}, user_id, stripe_customer)
         ON CONFLICT (stripe_subscription_id) DO UPDATE SET
             user_id = EXCLUDED.user_id,
             stripe_customer = EXCLUDED.stripe_customer,
             effective_at = EXCLUDED.effective_at,
             {SET_STATE},
             updated_at = now()"
    );
    bind_states(sqlx::query(sqlx::AssertSqlSafe(sql)), rows)
        .bind(rows.iter().map(|s| s.user_id.as_str()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|s| s.stripe_customer.as_deref())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn append(tx: &mut PgConnection, rows: &[NewSubscription]) -> Result<(), sqlx::Error> {
    // A conflict is a different state at an instant already stored: the
    // newer word for that instant replaces it.
    let sql = format!(
        "INSERT INTO metrics.subscription_states AS h ({COLUMNS})
         SELECT * FROM {UNNEST})
         ON CONFLICT (stripe_subscription_id, effective_at) DO UPDATE SET
             {SET_STATE},
             recorded_at = now()"
    );
    bind_states(sqlx::query(sqlx::AssertSqlSafe(sql)), rows)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The user a Stripe subscription event belongs to: the subscription's own
/// user when it is already recorded, else the user of the newest payment of
/// `customer`, else the user whose `attributes.stripe_customer` is
/// `customer` (the first by id if several claim it).
pub async fn user_for_customer(
    tx: &mut PgConnection,
    subscription_id: &str,
    customer: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT user_id FROM (
             (SELECT user_id, 1 AS rank FROM metrics.subscriptions
              WHERE stripe_subscription_id = $1)
             UNION ALL
             (SELECT user_id, 2 FROM metrics.payments
              WHERE stripe_customer = $2 AND user_id IS NOT NULL
              ORDER BY created_at DESC LIMIT 1)
             UNION ALL
             (SELECT user_id, 3 FROM metrics.users
              WHERE attributes->>'stripe_customer' = $2
              ORDER BY user_id LIMIT 1)
         ) found ORDER BY rank LIMIT 1",
    )
    .bind(subscription_id)
    .bind(customer)
    .fetch_optional(&mut *tx)
    .await
}

/// What recording one Stripe subscription state did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Its customer maps to no user: nothing written.
    NoUser,
    /// Appended, for this user.
    Recorded(String),
    /// Equal to the latest state.
    Unchanged,
    /// Older than the latest state: ignored.
    Stale,
}

/// Records each state for the user its customer maps to
/// ([`user_for_customer`]) inside the caller's transaction: the webhook's
/// subscription events and the audit's drift repairs.
pub async fn record_each(
    tx: &mut PgConnection,
    states: &[NewSubscription],
) -> Result<Vec<Recorded>, sqlx::Error> {
    let mut out = Vec::with_capacity(states.len());
    for state in states {
        let user = user_for_customer(
            tx,
            &state.stripe_subscription_id,
            state.stripe_customer.as_deref(),
        )
        .await?;
        let Some(user_id) = user else {
            out.push(Recorded::NoUser);
            continue;
        };
        let state = NewSubscription {
            user_id: user_id.clone(),
            ..state.clone()
        };
        let counts = record(tx, std::slice::from_ref(&state)).await?;
        out.push(if counts.stale > 0 {
            Recorded::Stale
        } else if counts.recorded > 0 {
            Recorded::Recorded(user_id)
        } else {
            Recorded::Unchanged
        });
    }
    Ok(out)
}
