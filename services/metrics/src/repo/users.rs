//! `metrics.users` writes.

use sqlx::PgPool;

use super::UpsertCounts;
use super::cohorts::rollup;
use crate::domain::NewUser;
use crate::reporting::Settings;

/// Inserts new users and updates changed ones in one statement; users sent
/// again unchanged are not touched (no dead tuples, `updated_at` kept).
/// New users are assigned to their cohort in the same transaction.
#[tracing::instrument(skip_all, fields(rows = users.len()))]
pub async fn upsert(
    pool: &PgPool,
    rollup: &Settings,
    users: &[NewUser],
) -> Result<UpsertCounts, sqlx::Error> {
    let mut ids = Vec::with_capacity(users.len());
    let mut emails = Vec::with_capacity(users.len());
    let mut signups = Vec::with_capacity(users.len());
    let mut plans = Vec::with_capacity(users.len());
    let mut trials = Vec::with_capacity(users.len());
    let mut attributes = Vec::with_capacity(users.len());
    for u in users {
        ids.push(u.user_id.as_str());
        emails.push(u.email.as_str());
        signups.push(u.signup_at);
        plans.push(u.plan.as_str());
        trials.push(u.trial_ends_at);
        attributes.push(u.attributes.as_str());
    }
    let mut tx = pool.begin().await?;
    let (inserted, updated): (i64, i64) = sqlx::query_as(
        "WITH input AS (
             SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[],
                                  $5::timestamptz[], $6::text[])
                 AS t(user_id, email, signup_at, plan, trial_ends_at, attributes)
         ), written AS (
             INSERT INTO metrics.users AS u
                 (user_id, email, signup_at, plan, trial_ends_at, attributes)
             SELECT user_id, email, signup_at, plan, trial_ends_at, attributes::jsonb FROM input
             ON CONFLICT (user_id) DO UPDATE SET
                 email = EXCLUDED.email,
                 signup_at = EXCLUDED.signup_at,
                 plan = EXCLUDED.plan,
                 trial_ends_at = EXCLUDED.trial_ends_at,
                 attributes = EXCLUDED.attributes,
                 updated_at = now()
             WHERE (u.email, u.signup_at, u.plan, u.trial_ends_at, u.attributes)
                   IS DISTINCT FROM
                   (EXCLUDED.email, EXCLUDED.signup_at, EXCLUDED.plan,
                    EXCLUDED.trial_ends_at, EXCLUDED.attributes)
             RETURNING (xmax = 0) AS inserted
         )
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
         FROM written",
    )
    .bind(&ids)
    .bind(emails)
    .bind(signups)
    .bind(plans)
    .bind(trials)
    .bind(attributes)
    .fetch_one(&mut *tx)
    .await?;
    if inserted + updated > 0 {
        rollup::assign(&mut tx, rollup, &ids).await?;
    }
    tx.commit().await?;
    Ok(UpsertCounts::from_totals(users.len(), inserted, updated))
}

/// How many users are stored.
pub async fn count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM metrics.users")
        .fetch_one(pool)
        .await
}
