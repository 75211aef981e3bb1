//! Reading the rollup and writing `metrics.retention_metrics`.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use futures::TryStreamExt;
use sqlx::PgConnection;
use sqlx::types::BitVec;

use super::matrix::{Matrices, UserActivity};
use super::period::Period;

/// Which users a computation reads.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every user with a cohort day in this inclusive range (any bound open).
    Range(Option<NaiveDate>, Option<NaiveDate>),
    /// Users in these week or month cohorts.
    Cohorts {
        /// Week cohorts (Mondays).
        weeks: Vec<NaiveDate>,
        /// Month cohorts (firsts).
        months: Vec<NaiveDate>,
    },
}

/// Streams the users of `scope` into the three matrices.
pub async fn compute(tx: &mut PgConnection, scope: &Scope) -> Result<Matrices, sqlx::Error> {
    let base = "SELECT cohort_day, active_days, last_active_day FROM metrics.user_cohorts";
    let query = match scope {
        Scope::Range(from, to) => sqlx::query_as::<_, (NaiveDate, BitVec, Option<NaiveDate>)>(
            sqlx::AssertSqlSafe(format!(
                "{base} WHERE ($1::date IS NULL OR cohort_day >= $1) AND ($2::date IS NULL OR cohort_day <= $2)"
            )),
        )
        .bind(*from)
        .bind(*to),
        Scope::Cohorts { weeks, months } => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{base} WHERE cohort_week = ANY($1) OR cohort_month = ANY($2)"
        )))
        .bind(weeks.clone())
        .bind(months.clone()),
    };
    let mut users = Vec::new();
    let mut rows = query.fetch(&mut *tx);
    while let Some((cohort_day, bits, last_active_day)) = rows.try_next().await? {
        users.push(UserActivity {
            cohort_day,
            bits: bits.to_bytes(),
            last_active_day,
        });
    }
    Ok(Matrices::compute(&users))
}

/// Which cohorts of each granularity to write.
pub type Targets = Vec<(Period, BTreeSet<NaiveDate>)>;

/// Upserts the cells of the `targets` cohorts from `matrices` (every offset,
/// both modes) and deletes stored cells of target cohorts that no longer have
/// users. Returns (cells written or deleted, cells unchanged).
pub async fn write(
    tx: &mut PgConnection,
    matrices: &Matrices,
    targets: &Targets,
) -> Result<(u64, u64), sqlx::Error> {
    let (mut types, mut cohorts, mut modes, mut offsets, mut sizes, mut retained) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let mut emptied: Vec<(&str, NaiveDate)> = Vec::new();
    for (period, wanted) in targets {
        let computed = matrices.by_period.get(period);
        for cohort in wanted {
            let Some(counts) = computed.and_then(|m| m.get(cohort)) else {
                emptied.push((period.name(), *cohort));
                continue;
            };
            for (mode, values) in [("on", &counts.on), ("on_or_after", &counts.on_or_after)] {
                for (k, v) in values.iter().enumerate() {
                    types.push(period.name());
                    cohorts.push(*cohort);
                    modes.push(mode);
                    offsets.push(k as i16);
                    sizes.push(counts.size);
                    retained.push(*v);
                }
            }
        }
    }
    let total = types.len() as u64;
    let written = sqlx::query(
        "INSERT INTO metrics.retention_metrics AS r
             (period_type, cohort_date, mode, period_offset, cohort_size, retained_users)
         SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::int2[], $5::int8[], $6::int8[])
         ON CONFLICT (period_type, cohort_date, mode, period_offset) DO UPDATE SET
             cohort_size = excluded.cohort_size, retained_users = excluded.retained_users,
             refreshed_at = now()
         WHERE (r.cohort_size, r.retained_users) IS DISTINCT FROM (excluded.cohort_size, excluded.retained_users)",
    )
    .bind(&types)
    .bind(&cohorts)
    .bind(&modes)
    .bind(&offsets)
    .bind(&sizes)
    .bind(&retained)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let (gone_types, gone_cohorts): (Vec<&str>, Vec<NaiveDate>) = emptied.into_iter().unzip();
    let deleted = sqlx::query(
        "DELETE FROM metrics.retention_metrics r USING unnest($1::text[], $2::date[]) AS g(t, c)
         WHERE r.period_type = g.t AND r.cohort_date = g.c",
    )
    .bind(&gone_types)
    .bind(&gone_cohorts)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok((written + deleted, total - written))
}
