//! Reading the rollup and writing `metrics.retention_rows`.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use futures::TryStreamExt;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};

use crate::cohorts::matrix::{BITMAP_BYTES, Builder, Matrices, UserActivity};
use crate::cohorts::measure::Mode;
use crate::cohorts::period::Period;

/// Users read in one statement (one snapshot) and counted as they arrive.
pub struct Loaded {
    /// The matrices of the users read.
    pub matrices: Matrices,
    /// Users read.
    pub users: usize,
}

/// Which users to read.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Cohort day in `from..=to` (either bound open).
    Range(Option<NaiveDate>, Option<NaiveDate>),
    /// Cohort day one of these.
    Days(&'a [NaiveDate]),
}

impl<'a> Scope<'a> {
    /// (from, to, days) as bound to `$date IS NULL OR …` filters.
    pub fn bounds(
        self,
    ) -> (
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<&'a [NaiveDate]>,
    ) {
        match self {
            Scope::Range(from, to) => (from, to, None),
            Scope::Days(days) => (None, None, Some(days)),
        }
    }
}

/// A user's rollup from a row whose first three columns are `cohort_day`,
/// `active_days` and `last_active_day`.
pub fn user_activity(row: &PgRow) -> Result<UserActivity, sqlx::Error> {
    let raw = row.try_get_raw(1)?;
    Ok(UserActivity {
        cohort_day: row.try_get(0)?,
        bits: bitmap(raw.as_bytes().map_err(sqlx::Error::Decode)?)?,
        last_active_day: row.try_get(2)?,
    })
}

/// A stored bitmap from its binary wire form (bit length, then the bytes).
pub fn bitmap(raw: &[u8]) -> Result<[u8; BITMAP_BYTES], sqlx::Error> {
    raw.get(4..4 + BITMAP_BYTES)
        .and_then(|b| <[u8; BITMAP_BYTES]>::try_from(b).ok())
        .ok_or_else(|| {
            sqlx::Error::Decode(
                format!("active_days: expected {BITMAP_BYTES} bytes of bits").into(),
            )
        })
}

/// Reads the users of `scope` and counts them into the three matrices as
/// they stream in.
pub async fn load(conn: &mut PgConnection, scope: Scope<'_>) -> Result<Loaded, sqlx::Error> {
    let (from, to, days) = scope.bounds();
    let query = sqlx::query(
        "SELECT cohort_day, active_days, last_active_day FROM metrics.user_cohorts
         WHERE ($1::date IS NULL OR cohort_day >= $1) AND ($2::date IS NULL OR cohort_day <= $2)
           AND ($3::date[] IS NULL OR cohort_day = ANY($3))",
    )
    .bind(from)
    .bind(to)
    .bind(days);
    let mut builder = Builder::default();
    let mut loaded = Loaded {
        matrices: Matrices::default(),
        users: 0,
    };
    let mut rows = query.fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let user = user_activity(&row)?;
        loaded.users += 1;
        builder.add(&user);
    }
    loaded.matrices = builder.finish();
    Ok(loaded)
}

/// Which cohorts of each granularity to write.
pub type Targets = Vec<(Period, BTreeSet<NaiveDate>)>;

/// The (granularity, cohort) pairs of `targets` as two columns to bind.
pub fn target_columns(targets: &Targets) -> (Vec<&'static str>, Vec<NaiveDate>) {
    targets
        .iter()
        .flat_map(|(period, cohorts)| cohorts.iter().map(|c| (period.name(), *c)))
        .unzip()
}

/// The body of a `bigint[]` literal ("1,2,3"): rows of arrays are bound as
/// text and cast, since a bound array of arrays must be rectangular.
pub fn array_text(values: &[i64]) -> String {
    values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Cells of `new` that differ from `old` (every cell when the lengths do).
pub fn changed_cells(old: &[i64], new: &[i64]) -> u64 {
    if old.len() == new.len() {
        old.iter().zip(new).filter(|(a, b)| a != b).count() as u64
    } else {
        new.len() as u64
    }
}

/// Writes the rows of the `targets` cohorts from `matrices` (both modes),
/// only those that changed, and deletes stored rows of target cohorts that
/// no longer have users. Returns (cells written or deleted, cells unchanged).
pub async fn write(
    tx: &mut PgConnection,
    matrices: &Matrices,
    targets: &Targets,
) -> Result<(u64, u64), sqlx::Error> {
    let (want_types, want_cohorts) = target_columns(targets);
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
                for mode in Mode::ALL {
                    let key = (period.name().to_owned(), *cohort, mode.name().to_owned());
                    written += stored.get(&key).map_or(0, |(_, cells)| cells.len() as u64);
                }
                gone_types.push(period.name());
                gone_cohorts.push(*cohort);
                continue;
            };
            for mode in Mode::ALL {
                let values = counts.retained(mode);
                let key = (period.name().to_owned(), *cohort, mode.name().to_owned());
                let changed = match stored.get(&key) {
                    Some((size, cells)) if *size == counts.size => changed_cells(cells, values),
                    _ => values.len() as u64,
                };
                unchanged += values.len() as u64 - changed;
                if changed == 0 {
                    continue;
                }
                written += changed;
                types.push(period.name());
                cohorts.push(*cohort);
                modes.push(mode.name());
                sizes.push(counts.size);
                rows.push(array_text(values));
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
