//! What a breakdown reads, in one read-only snapshot: the users of the
//! cohorts in range with their breakdown value, and the money flows of their
//! cohort days by that value; and whether an attribute exists at all.

use chrono::NaiveDate;
use futures::TryStreamExt;
use sqlx::Row as _;

use super::store::{self, Scope};
use crate::cohorts::matrix::UserActivity;
use crate::cohorts::revenue::Flow;
use crate::repo::Pool;

/// Whether any user has the attribute `key`.
pub async fn attribute_exists(pool: &Pool, key: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM metrics.users WHERE attributes ? $1)")
        .bind(key)
        .fetch_one(pool)
        .await
}

/// The users with a cohort day in `from..=to` (either bound open) that
/// `keep` accepts, each with its plan (`key` `None`) or attribute `key`, and
/// the flows of their cohort days by the same value, days cut in
/// `time_zone`; one snapshot.
pub async fn snapshot(
    pool: &Pool,
    time_zone: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    key: Option<&str>,
    keep: impl Fn(&UserActivity) -> bool,
) -> Result<(Vec<(UserActivity, Option<String>)>, Vec<Flow>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let mut users: Vec<(UserActivity, Option<String>)> = Vec::new();
    {
        let mut rows = sqlx::query(
            "SELECT c.cohort_day, c.active_days, c.last_active_day,
                    CASE WHEN $3::text IS NULL THEN u.plan ELSE u.attributes->>$3::text END
             FROM metrics.user_cohorts c JOIN metrics.users u USING (user_id)
             WHERE ($1::date IS NULL OR c.cohort_day >= $1) AND ($2::date IS NULL OR c.cohort_day <= $2)",
        )
        .bind(from)
        .bind(to)
        .bind(key)
        .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            let user = store::user_activity(&row)?;
            if keep(&user) {
                users.push((user, row.try_get(3)?));
            }
        }
    }
    let mut days: Vec<NaiveDate> = users.iter().map(|(u, _)| u.cohort_day).collect();
    days.sort_unstable();
    days.dedup();
    let flows = super::revenue::load(&mut tx, time_zone, Scope::Days(&days), Some(key)).await?;
    tx.commit().await?;
    Ok((users, flows))
}
