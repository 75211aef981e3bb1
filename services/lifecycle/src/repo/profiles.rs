//! `lifecycle.profiles`: each user's current stage and latest score.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use crate::domain::{Component, Current, Stage};

/// A stored profile.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    /// The user.
    pub user_id: String,
    /// E-mail at the last evaluation.
    pub email: String,
    /// Stage (proto number).
    pub stage: i16,
    /// In the stage since.
    pub stage_since: DateTime<Utc>,
    /// Latest score.
    pub score: i16,
    /// Its components.
    pub components: Json<Vec<Component>>,
    /// Paying at the last evaluation.
    pub paying: bool,
    /// Last evaluation.
    pub evaluated_at: DateTime<Utc>,
}

/// The current state of those of `user_ids` that have a profile.
pub async fn current(
    tx: &mut PgConnection,
    user_ids: &[String],
) -> Result<HashMap<String, Current>, sqlx::Error> {
    let rows: Vec<(String, i16, DateTime<Utc>, bool)> = sqlx::query_as(
        "SELECT user_id, stage, stage_since, paying FROM lifecycle.profiles WHERE user_id = ANY($1)",
    )
    .bind(user_ids)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(user_id, stage, since, paying)| {
            let stage = Stage::from_code(stage)?;
            Some((
                user_id,
                Current {
                    stage,
                    since,
                    paying,
                },
            ))
        })
        .collect())
}

/// Inserts or replaces profiles, set-based.
pub async fn upsert(tx: &mut PgConnection, rows: &[ProfileRow]) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(rows.len());
    let mut emails = Vec::with_capacity(rows.len());
    let mut stages = Vec::with_capacity(rows.len());
    let mut since = Vec::with_capacity(rows.len());
    let mut scores = Vec::with_capacity(rows.len());
    let mut components = Vec::with_capacity(rows.len());
    let mut paying = Vec::with_capacity(rows.len());
    let mut evaluated = Vec::with_capacity(rows.len());
    for r in rows {
        ids.push(r.user_id.as_str());
        emails.push(r.email.as_str());
        stages.push(r.stage);
        since.push(r.stage_since);
        scores.push(r.score);
        components.push(serde_json::to_value(&r.components.0).unwrap_or_default());
        paying.push(r.paying);
        evaluated.push(r.evaluated_at);
    }
    sqlx::query(
        "INSERT INTO lifecycle.profiles AS p
             (user_id, email, stage, stage_since, score, components, paying, evaluated_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int2[], $4::timestamptz[], $5::int2[],
                              $6::jsonb[], $7::bool[], $8::timestamptz[])
         ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, stage = excluded.stage,
             stage_since = excluded.stage_since, score = excluded.score,
             components = excluded.components, paying = excluded.paying,
             evaluated_at = excluded.evaluated_at",
    )
    .bind(&ids)
    .bind(&emails)
    .bind(&stages)
    .bind(&since)
    .bind(&scores)
    .bind(&components)
    .bind(&paying)
    .bind(&evaluated)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One user's profile.
pub async fn get(pool: &PgPool, user_id: &str) -> Result<Option<ProfileRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT user_id, email, stage, stage_since, score, components, paying, evaluated_at
         FROM lifecycle.profiles WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await
}

/// Up to `limit` users in `stage` after `after` in id order.
pub async fn ids_in_stage(
    pool: &PgPool,
    stage: Stage,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT user_id FROM lifecycle.profiles WHERE stage = $1 AND user_id > $2
         ORDER BY user_id LIMIT $3",
    )
    .bind(stage.code())
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Users per stage now.
pub async fn distribution(pool: &PgPool) -> Result<Vec<(i16, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT stage, count(*) FROM lifecycle.profiles GROUP BY stage")
        .fetch_all(pool)
        .await
}

/// Users with a profile.
pub async fn count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM lifecycle.profiles")
        .fetch_one(pool)
        .await
}
