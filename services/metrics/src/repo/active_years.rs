//! `metrics.user_active_years`: each user's active days per calendar year
//! (`crate::active`). The fold sets bits (`cohorts::fold::YEARS`); here the
//! range reader, and the rebuild's read of what is stored and write of what
//! changed.

use chrono::{Datelike as _, NaiveDate};
use futures::TryStreamExt as _;
use sqlx::{PgConnection, Row as _};

use crate::active::series::UserDays;
use crate::active::year::{BYTES, YearDays};
use crate::repo::Pool;

/// A stored `bit(366)` from its binary wire form (bit length, then bytes).
fn year_days(raw: &[u8]) -> Result<YearDays, sqlx::Error> {
    raw.get(4..4 + BYTES)
        .map(YearDays::from_bytes)
        .ok_or_else(|| sqlx::Error::Decode(format!("days: expected {BYTES} bytes of bits").into()))
}

/// Streams every user active on or before `to`, with their active days in
/// `from..=to` and whether they were active before `from`, to `each`. One
/// statement (one snapshot), in user order.
pub async fn each_user(
    pool: &Pool,
    from: NaiveDate,
    to: NaiveDate,
    mut each: impl FnMut(UserDays),
) -> Result<(), sqlx::Error> {
    let mut rows = sqlx::query(
        "SELECT user_id, year, CASE WHEN year >= $1 THEN days END
         FROM metrics.user_active_years WHERE year <= $2
         ORDER BY user_id, year",
    )
    .bind(i16::try_from(from.year()).unwrap_or(i16::MIN))
    .bind(i16::try_from(to.year()).unwrap_or(i16::MAX))
    .fetch(pool);
    let mut current: Option<String> = None;
    let mut years: Vec<(i32, YearDays)> = Vec::new();
    let mut earlier = false;
    let mut flush = |years: &mut Vec<(i32, YearDays)>, earlier: &mut bool| {
        let mut user = UserDays::from_years(years, from, to);
        user.earlier |= *earlier;
        each(user);
        years.clear();
        *earlier = false;
    };
    while let Some(row) = rows.try_next().await? {
        let user: &str = row.try_get(0)?;
        if current.as_deref() != Some(user) {
            if current.is_some() {
                flush(&mut years, &mut earlier);
            }
            current = Some(user.to_owned());
        }
        let year: i16 = row.try_get(1)?;
        match row.try_get_raw(2)?.as_bytes() {
            Ok(raw) => years.push((i32::from(year), year_days(raw)?)),
            // A year before the range: the user was active then.
            Err(_) => earlier = true,
        }
    }
    if current.is_some() {
        flush(&mut years, &mut earlier);
    }
    Ok(())
}

/// Every stored row, to `each` (for the rebuild to compare with).
pub async fn each_stored(
    tx: &mut PgConnection,
    mut each: impl FnMut(&str, i16, YearDays),
) -> Result<(), sqlx::Error> {
    let mut rows =
        sqlx::query("SELECT user_id, year, days FROM metrics.user_active_years").fetch(&mut *tx);
    while let Some(row) = rows.try_next().await? {
        let raw = row
            .try_get_raw(2)?
            .as_bytes()
            .map_err(sqlx::Error::Decode)?;
        each(row.try_get(0)?, row.try_get(1)?, year_days(raw)?);
    }
    Ok(())
}

/// Writes `changed` rows (inserted or replaced) and deletes `gone` ones.
/// Returns the rows written and deleted.
pub async fn write(
    tx: &mut PgConnection,
    changed: &[((String, i16), YearDays)],
    gone: &[(String, i16)],
) -> Result<u64, sqlx::Error> {
    let mut written = 0;
    if !changed.is_empty() {
        let users: Vec<&str> = changed.iter().map(|((u, _), _)| u.as_str()).collect();
        let years: Vec<i16> = changed.iter().map(|((_, y), _)| *y).collect();
        let words: Vec<Vec<i64>> = (0..6)
            .map(|w| changed.iter().map(|(_, d)| d.signed_words()[w]).collect())
            .collect();
        written += sqlx::query(
            "INSERT INTO metrics.user_active_years AS y (user_id, year, days)
             SELECT user_id, year,
                    (w0::bit(64) || w1::bit(64) || w2::bit(64) || w3::bit(64)
                     || w4::bit(64) || w5::bit(64))::bit(366)
             FROM unnest($1::text[], $2::int2[], $3::int8[], $4::int8[], $5::int8[],
                         $6::int8[], $7::int8[], $8::int8[])
                  AS t(user_id, year, w0, w1, w2, w3, w4, w5)
             ON CONFLICT (user_id, year) DO UPDATE SET days = excluded.days",
        )
        .bind(&users)
        .bind(&years)
        .bind(&words[0])
        .bind(&words[1])
        .bind(&words[2])
        .bind(&words[3])
        .bind(&words[4])
        .bind(&words[5])
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    if !gone.is_empty() {
        let users: Vec<&str> = gone.iter().map(|(u, _)| u.as_str()).collect();
        let years: Vec<i16> = gone.iter().map(|(_, y)| *y).collect();
        written += sqlx::query(
            "DELETE FROM metrics.user_active_years y
             USING unnest($1::text[], $2::int2[]) AS t(user_id, year)
             WHERE y.user_id = t.user_id AND y.year = t.year",
        )
        .bind(&users)
        .bind(&years)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    Ok(written)
}
