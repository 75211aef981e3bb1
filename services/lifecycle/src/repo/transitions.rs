//! `lifecycle.transitions`: every stage change, with its reason and score.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::domain::Stage;

/// A recorded transition.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TransitionRow {
    /// Id.
    pub transition_id: i64,
    /// The user.
    pub user_id: String,
    /// Stage left (proto number); `None` for the first stage.
    pub from_stage: Option<i16>,
    /// Stage entered.
    pub to_stage: i16,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Why.
    pub reason: String,
    /// Score at the time.
    pub score: i16,
}

/// A transition to record.
#[derive(Debug, Clone)]
pub struct NewTransition {
    /// The user.
    pub user_id: String,
    /// Stage left.
    pub from: Option<Stage>,
    /// Stage entered.
    pub to: Stage,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Why.
    pub reason: String,
    /// Score.
    pub score: u8,
}

const COLUMNS: &str = "transition_id, user_id, from_stage, to_stage, occurred_at, reason, score";

/// Records transitions; returns them with their ids, in input order.
pub async fn insert(
    tx: &mut PgConnection,
    new: &[NewTransition],
) -> Result<Vec<TransitionRow>, sqlx::Error> {
    if new.is_empty() {
        return Ok(vec![]);
    }
    let users: Vec<&str> = new.iter().map(|t| t.user_id.as_str()).collect();
    let from: Vec<Option<i16>> = new.iter().map(|t| t.from.map(Stage::code)).collect();
    let to: Vec<i16> = new.iter().map(|t| t.to.code()).collect();
    let at: Vec<DateTime<Utc>> = new.iter().map(|t| t.occurred_at).collect();
    let reasons: Vec<&str> = new.iter().map(|t| t.reason.as_str()).collect();
    let scores: Vec<i16> = new.iter().map(|t| i16::from(t.score)).collect();
    let sql = format!(
        "INSERT INTO lifecycle.transitions (user_id, from_stage, to_stage, occurred_at, reason, score)
         SELECT u, f, t, a, r, s FROM unnest($1::text[], $2::int2[], $3::int2[], $4::timestamptz[],
                                             $5::text[], $6::int2[]) WITH ORDINALITY AS x(u, f, t, a, r, s, n)
         ORDER BY n RETURNING {COLUMNS}"
    );
    let mut rows: Vec<TransitionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&users)
        .bind(&from)
        .bind(&to)
        .bind(&at)
        .bind(&reasons)
        .bind(&scores)
        .fetch_all(&mut *tx)
        .await?;
    // Identity values follow the ORDER BY; sort to be independent of the
    // order RETURNING happens to use.
    rows.sort_by_key(|r| r.transition_id);
    Ok(rows)
}

/// Filters of `list`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this user.
    pub user_id: Option<String>,
    /// Only out of this stage.
    pub from: Option<Stage>,
    /// Only into this stage.
    pub to: Option<Stage>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

/// Up to `limit` transitions matching `filter`, newest first, with ids below
/// `before` (keyset paging; `i64::MAX` for the first page).
pub async fn list(
    pool: &PgPool,
    filter: &Filter,
    before: i64,
    limit: i64,
) -> Result<Vec<TransitionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM lifecycle.transitions
         WHERE transition_id < $1
           AND ($2::text IS NULL OR user_id = $2)
           AND ($3::int2 IS NULL OR from_stage = $3)
           AND ($4::int2 IS NULL OR to_stage = $4)
           AND ($5::timestamptz IS NULL OR occurred_at >= $5)
           AND ($6::timestamptz IS NULL OR occurred_at < $6)
         ORDER BY transition_id DESC LIMIT $7"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(before)
        .bind(filter.user_id.as_deref())
        .bind(filter.from.map(Stage::code))
        .bind(filter.to.map(Stage::code))
        .bind(filter.since)
        .bind(filter.until)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// Users per stage at `as_of`: each user's latest transition at or before it.
pub async fn distribution_at(
    pool: &PgPool,
    as_of: DateTime<Utc>,
) -> Result<Vec<(i16, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT to_stage, count(*) FROM (
             SELECT DISTINCT ON (user_id) to_stage FROM lifecycle.transitions
             WHERE occurred_at <= $1 ORDER BY user_id, transition_id DESC
         ) latest GROUP BY to_stage",
    )
    .bind(as_of)
    .fetch_all(pool)
    .await
}
