//! Reading the rollup and writing `metrics.retention_rows`.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use futures::TryStreamExt;
use sqlx::PgConnection;
use sqlx::types::BitVec;

use super::matrix::{Matrices, UserActivity};
use super::period::Period;

/// Users read in one statement (one snapshot), with the latest change
/// position per cohort day and overall.
pub struct Loaded {
    /// The users' rollup rows.
    pub users: Vec<UserActivity>,
    /// Highest `changed_seq` per cohort day.
    pub changed: HashMap<NaiveDate, i64>,
    /// Highest `changed_seq` of all.
    pub high: i64,
}

/// The users with a cohort day in `from..=to` (either bound open).
pub async fn load(
    tx: &mut PgConnection,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Loaded, sqlx::Error> {
    let query = sqlx::query_as::<_, (NaiveDate, BitVec, Option<NaiveDate>, i64)>(
        "SELECT cohort_day, active_days, last_active_day, changed_seq FROM metrics.user_cohorts
         WHERE ($1::date IS NULL OR cohort_day >= $1) AND ($2::date IS NULL OR cohort_day <= $2)",
    )
    .bind(from)
    .bind(to);
    let mut loaded = Loaded {
        users: Vec::new(),
        changed: HashMap::new(),
        high: 0,
    };
    let mut rows = query.fetch(&mut *tx);
    while let Some((cohort_day, bits, last_active_day, seq)) = rows.try_next().await? {
        let day = loaded.changed.entry(cohort_day).or_insert(seq);
        *day = (*day).max(seq);
        loaded.high = loaded.high.max(seq);
        loaded.users.push(UserActivity {
            cohort_day,
            bits: bits.to_bytes(),
            last_active_day,
        });
    }
    Ok(loaded)
}

/// Which cohorts of each granularity to write.
pub type Targets = Vec<(Period, BTreeSet<NaiveDate>)>;

/// Writes the rows of the `targets` cohorts from `matrices` (both modes),
/// only those that changed, and deletes stored rows of target cohorts that
/// no longer have users. Returns (cells written or deleted, cells unchanged).
pub async fn write(
    tx: &mut PgConnection,
    matrices: &Matrices,
    targets: &Targets,
) -> Result<(u64, u64), sqlx::Error> {
    let (mut want_types, mut want_cohorts) = (Vec::new(), Vec::new());
    for (period, cohorts) in targets {
        for c in cohorts {
            want_types.push(period.name());
            want_cohorts.push(*c);
        }
    }
    let stored: Vec<(String, NaiveDate, String, i64, Vec<i64>)> = sqlx::query_as(
        "SELECT r.period_type, r.cohort_date, r.mode, r.cohort_size, r.retained
         FROM metrics.retention_rows r JOIN unnest($1::text[], $2::date[]) AS t(p, c)
           ON r.period_type = t.p AND r.cohort_date = t.c",
    )
    .bind(&want_types)
    .bind(&want_cohorts)
    .fetch_all(&mut *tx)
    .await?;
    let stored: HashMap<(String, NaiveDate, String), (i64, Vec<i64>)> = stored
        .into_iter()
        .map(|(p, c, m, size, cells)| ((p, c, m), (size, cells)))
        .collect();

    let (mut types, mut cohorts, mut modes, mut sizes, mut rows) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut written, mut unchanged) = (0u64, 0u64);
    let (mut gone_types, mut gone_cohorts) = (Vec::new(), Vec::new());
    for (period, wanted) in targets {
        let computed = matrices.by_period.get(period);
        for cohort in wanted {
            let Some(counts) = computed.and_then(|m| m.get(cohort)) else {
                for mode in ["on", "on_or_after"] {
                    let key = (period.name().to_owned(), *cohort, mode.to_owned());
                    written += stored.get(&key).map_or(0, |(_, cells)| cells.len() as u64);
                }
                gone_types.push(period.name());
                gone_cohorts.push(*cohort);
                continue;
            };
            for (mode, values) in [("on", &counts.on), ("on_or_after", &counts.on_or_after)] {
                let key = (period.name().to_owned(), *cohort, mode.to_owned());
                let changed = match stored.get(&key) {
                    Some((size, cells)) if *size == counts.size && cells.len() == values.len() => {
                        cells.iter().zip(values).filter(|(a, b)| a != b).count() as u64
                    }
                    _ => values.len() as u64,
                };
                unchanged += values.len() as u64 - changed;
                if changed == 0 {
                    continue;
                }
                written += changed;
                types.push(period.name());
                cohorts.push(*cohort);
                modes.push(mode);
                sizes.push(counts.size);
                rows.push(
                    values
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                );
            }
        }
    }
    sqlx::query(
        "INSERT INTO metrics.retention_rows AS r (period_type, cohort_date, mode, cohort_size, retained)
         SELECT p, c, m, s, ('{' || v || '}')::bigint[]
         FROM unnest($1::text[], $2::date[], $3::text[], $4::int8[], $5::text[]) AS t(p, c, m, s, v)
         ON CONFLICT (period_type, cohort_date, mode) DO UPDATE SET
             cohort_size = excluded.cohort_size, retained = excluded.retained, refreshed_at = now()",
    )
    .bind(&types)
    .bind(&cohorts)
    .bind(&modes)
    .bind(&sizes)
    .bind(&rows)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM metrics.retention_rows r USING unnest($1::text[], $2::date[]) AS g(t, c)
         WHERE r.period_type = g.t AND r.cohort_date = g.c",
    )
    .bind(&gone_types)
    .bind(&gone_cohorts)
    .execute(&mut *tx)
    .await?;
    Ok((written, unchanged))
}
