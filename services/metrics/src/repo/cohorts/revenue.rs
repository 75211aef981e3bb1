//! Revenue cells in PostgreSQL: the money flows of a cohort's users read
//! (grouped by cohort day, currency and day), and `metrics.retention_revenue`
//! rewritten where it changed.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::store::{self, Scope, Targets};
use crate::cohorts::revenue::{CohortRevenue, Flow, RevenueCells};

/// Captured payments of linked users, by creation time.
const CAPTURED: &str =
    "p.user_id IS NOT NULL AND p.status IN ('succeeded', 'partially_refunded', 'refunded')";

/// The flows of the users of `scope`, days cut in `time_zone`; with
/// `segment`, split by the users' breakdown value (`Some(key)`:
/// `attributes.<key>`, `Some(None)`: plan).
pub async fn load(
    tx: &mut PgConnection,
    time_zone: &str,
    scope: Scope<'_>,
    segment: Option<Option<&str>>,
) -> Result<Vec<Flow>, sqlx::Error> {
    let (from, to, days) = scope.bounds();
    let (value, join) = match segment {
        None => ("$3::text", ""),
        Some(_) => (
            "CASE WHEN $3::text IS NULL THEN u.plan ELSE u.attributes->>$3::text END",
            "JOIN metrics.users u USING (user_id)",
        ),
    };
    let sql = format!(
        "WITH flows AS (
             SELECT p.user_id, p.currency, p.created_at AS at, p.amount_minor AS amount
             FROM metrics.payments p WHERE {CAPTURED}
             UNION ALL
             SELECT p.user_id, p.currency, r.refunded_at, -r.amount_minor
             FROM metrics.payment_refunds r
             JOIN LATERAL (
                 SELECT p.user_id, p.currency FROM metrics.payments p
                 WHERE p.payment_id = r.payment_id AND {CAPTURED} LIMIT 1
             ) p ON true
         )
         SELECT c.cohort_day, f.currency, (f.at AT TIME ZONE $1)::date AS day,
                sum(f.amount)::bigint, {value}
         FROM flows f JOIN metrics.user_cohorts c USING (user_id) {join}
         WHERE ($2::date[] IS NULL OR c.cohort_day = ANY($2))
           AND ($4::date IS NULL OR c.cohort_day >= $4) AND ($5::date IS NULL OR c.cohort_day <= $5)
         GROUP BY 1, 2, 3, 5"
    );
    let query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(time_zone)
        .bind(days)
        .bind(segment.flatten())
        .bind(from)
        .bind(to);
    let rows: Vec<(NaiveDate, String, NaiveDate, i64, Option<String>)> =
        query.fetch_all(&mut *tx).await?;
    Ok(rows
        .into_iter()
        .map(|(cohort_day, currency, day, amount_minor, segment)| Flow {
            cohort_day,
            currency,
            day,
            amount_minor,
            segment,
        })
        .collect())
}

/// Writes the revenue rows of the `targets` cohorts, only those that
/// changed, and deletes stored rows (currencies, cohorts) no longer
/// computed. Returns (cells written or deleted, cells unchanged).
pub async fn write(
    tx: &mut PgConnection,
    cells: &RevenueCells,
    targets: &Targets,
) -> Result<(u64, u64), sqlx::Error> {
    let (want_types, want_cohorts) = store::target_columns(targets);
    let stored: Vec<(String, NaiveDate, String, Vec<i64>, i64)> = sqlx::query_as(
        "SELECT r.period_type, r.cohort_date, r.currency, r.revenue, r.later_minor
         FROM metrics.retention_revenue r JOIN unnest($1::text[], $2::date[]) AS t(p, c)
           ON r.period_type = t.p AND r.cohort_date = t.c",
    )
    .bind(&want_types)
    .bind(&want_cohorts)
    .fetch_all(&mut *tx)
    .await?;
    let mut stored: BTreeMap<(String, NaiveDate, String), CohortRevenue> = stored
        .into_iter()
        .map(|(p, c, cur, by_offset, later)| ((p, c, cur), CohortRevenue { by_offset, later }))
        .collect();

    let (mut written, mut unchanged) = (0u64, 0u64);
    let (mut types, mut cohorts, mut currencies, mut rows, mut laters) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (period, wanted) in targets {
        let computed = cells.get(period);
        for cohort in wanted {
            for (currency, revenue) in computed.and_then(|m| m.get(cohort)).into_iter().flatten() {
                let key = (period.name().to_owned(), *cohort, currency.clone());
                let len = revenue.by_offset.len() as u64;
                // `later` is not a cell of the matrix; a change of it alone
                // rewrites the row without counting a cell.
                let (changed, later_changed) = match stored.remove(&key) {
                    Some(old) => (
                        store::changed_cells(&old.by_offset, &revenue.by_offset),
                        old.later != revenue.later,
                    ),
                    None => (len, true),
                };
                unchanged += len - changed;
                written += changed;
                if changed == 0 && !later_changed {
                    continue;
                }
                types.push(period.name());
                cohorts.push(*cohort);
                currencies.push(currency.as_str());
                rows.push(store::array_text(&revenue.by_offset));
                laters.push(revenue.later);
            }
        }
    }
    sqlx::query(
        "INSERT INTO metrics.retention_revenue AS r (period_type, cohort_date, currency, revenue, later_minor)
         SELECT p, c, cur, ('{' || v || '}')::bigint[], l
         FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::int8[]) AS t(p, c, cur, v, l)
         ON CONFLICT (period_type, cohort_date, currency) DO UPDATE SET
             revenue = excluded.revenue, later_minor = excluded.later_minor, refreshed_at = now()",
    )
    .bind(&types)
    .bind(&cohorts)
    .bind(&currencies)
    .bind(&rows)
    .bind(&laters)
    .execute(&mut *tx)
    .await?;

    // What is left of the stored rows of the targets was not computed again.
    let (mut gone_types, mut gone_cohorts, mut gone_currencies) =
        (Vec::new(), Vec::new(), Vec::new());
    for ((p, c, cur), old) in &stored {
        written += old.by_offset.len() as u64;
        gone_types.push(p.as_str());
        gone_cohorts.push(*c);
        gone_currencies.push(cur.as_str());
    }
    sqlx::query(
        "DELETE FROM metrics.retention_revenue r
         USING unnest($1::text[], $2::date[], $3::text[]) AS g(t, c, cur)
         WHERE r.period_type = g.t AND r.cohort_date = g.c AND r.currency = g.cur",
    )
    .bind(&gone_types)
    .bind(&gone_cohorts)
    .bind(&gone_currencies)
    .execute(&mut *tx)
    .await?;
    Ok((written, unchanged))
}
