//! Revenue cells: per cohort, currency and period offset, the payments
//! captured in the period minus the refunds made in it (minor units). They
//! are computed from `metrics.payments` and `metrics.payment_refunds` for the
//! cohorts a refresh recomputes, grouped by (cohort day, currency, day) in
//! PostgreSQL and spread over the three granularities here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::measure::Mode;
use super::period::Period;
use super::store::{self, Scope};

/// Money moving on one day for the users of one cohort day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// The users' cohort day.
    pub cohort_day: NaiveDate,
    /// Lower-case ISO currency.
    pub currency: String,
    /// The day (reporting time zone) the money moved.
    pub day: NaiveDate,
    /// Captured minus refunded, minor units.
    pub amount_minor: i64,
    /// The users' breakdown value, when loaded by segment.
    pub segment: Option<String>,
}

/// One cohort's revenue in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CohortRevenue {
    /// Net revenue of offsets 0..=max. Money moved before the cohort's first
    /// period (a payment recorded before the signup) counts in offset 0.
    pub by_offset: Vec<i64>,
    /// Net revenue of every period after the last offset.
    pub later: i64,
}

impl CohortRevenue {
    /// The cells of `mode`: [`Mode::On`] is period N alone,
    /// [`Mode::OnOrAfter`] period N and every later one to date.
    pub fn cells(&self, mode: Mode) -> Vec<i64> {
        if mode == Mode::On {
            return self.by_offset.clone();
        }
        let mut out = self.by_offset.clone();
        let mut tail = self.later;
        for v in out.iter_mut().rev() {
            tail += *v;
            *v = tail;
        }
        out
    }

    /// Net revenue to date.
    pub fn total(&self) -> i64 {
        self.by_offset.iter().sum::<i64>() + self.later
    }
}

/// Granularity → cohort start → currency → revenue.
pub type RevenueCells = BTreeMap<Period, BTreeMap<NaiveDate, BTreeMap<String, CohortRevenue>>>;

/// Spreads `flows` over the cohorts of every granularity in `periods`.
pub fn compute(flows: &[Flow], periods: &[Period]) -> RevenueCells {
    let mut out = RevenueCells::new();
    for period in periods {
        let cohorts = out.entry(*period).or_default();
        for f in flows {
            let start = period.start_of(f.cohort_day);
            let cell = cohorts
                .entry(start)
                .or_default()
                .entry(f.currency.clone())
                .or_insert_with(|| CohortRevenue {
                    by_offset: vec![0; period.max_offset() as usize + 1],
                    later: 0,
                });
            let k = period.offset(start, f.day).max(0);
            match cell.by_offset.get_mut(k as usize) {
                Some(v) => *v += f.amount_minor,
                None => cell.later += f.amount_minor,
            }
        }
    }
    out
}

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
    targets: &super::store::Targets,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn flow(cohort_day: NaiveDate, currency: &str, day: NaiveDate, amount_minor: i64) -> Flow {
        Flow {
            cohort_day,
            currency: currency.into(),
            day,
            amount_minor,
            segment: None,
        }
    }

    #[test]
    fn payments_and_refunds_land_in_their_own_periods_per_currency() {
        // Cohort day Wednesday 2025-01-15: week cohort 2025-01-13, month
        // cohort 2025-01-01.
        let c = d(2025, 1, 15);
        let flows = [
            flow(c, "usd", d(2025, 1, 15), 4900),
            flow(c, "usd", d(2025, 2, 3), 4900),
            // A refund made in March of the February payment.
            flow(c, "usd", d(2025, 3, 1), -4900),
            flow(c, "eur", d(2025, 1, 20), 1000),
            // Recorded the day before the signup: period 0.
            flow(c, "eur", d(2025, 1, 14), 500),
            // Past the month matrix (offset 14).
            flow(c, "usd", d(2026, 3, 2), 100),
        ];
        let cells = compute(&flows, &Period::ALL);
        let month = &cells[&Period::Month][&d(2025, 1, 1)];
        assert_eq!(month["usd"].by_offset[..3], [4900, 4900, -4900]);
        assert_eq!(month["usd"].later, 100);
        assert_eq!(month["usd"].total(), 5000);
        assert_eq!(month["eur"].by_offset[0], 1500);
        let week = &cells[&Period::Week][&d(2025, 1, 13)];
        assert_eq!(week["eur"].by_offset[..2], [500, 1000]);
        assert_eq!(week["usd"].by_offset[3], 4900); // 2025-02-03 is week 3
        let day = &cells[&Period::Day][&c];
        assert_eq!(day["usd"].by_offset[0], 4900);
        assert_eq!(day["usd"].by_offset[19], 4900); // 2025-02-03
        assert_eq!(day["usd"].later, -4900 + 100); // the refund and 2026
    }

    #[test]
    fn on_or_after_sums_the_period_and_every_later_one() {
        let r = CohortRevenue {
            by_offset: vec![10, 0, 5, -3],
            later: 2,
        };
        assert_eq!(r.cells(Mode::On), [10, 0, 5, -3]);
        assert_eq!(r.cells(Mode::OnOrAfter), [14, 4, 4, -1]);
    }
}
