//! What `bench retention` hands to `bench/retention/run.sh` and measures
//! beside it: our stored matrices as JSON, the users and events as CSV, and
//! the `COPY` rate that `TrackEvents` is compared with.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Value, json};
use sqlx::PgPool;

/// Our matrices as the reference script reads them.
pub async fn ours(pool: &PgPool) -> anyhow::Result<Value> {
    let cells: Vec<(String, chrono::NaiveDate, String, i16, i64, i64)> = sqlx::query_as(
        "SELECT upper(period_type), cohort_date, mode, period_offset, cohort_size, retained_users
         FROM metrics.retention_metrics WHERE cohort_size > 0
         ORDER BY 1, 3, 2, 4",
    )
    .fetch_all(pool)
    .await?;
    // granularity → mode → cohort → (size, cells by offset)
    type Cohorts = BTreeMap<String, (i64, Vec<i64>)>;
    let mut out: BTreeMap<String, BTreeMap<String, Cohorts>> = BTreeMap::new();
    for (period, cohort, mode, _, size, retained) in cells {
        let entry = out
            .entry(period)
            .or_default()
            .entry(mode)
            .or_default()
            .entry(cohort.to_string())
            .or_insert((size, Vec::new()));
        entry.1.push(retained);
    }
    Ok(serde_json::to_value(
        out.into_iter()
            .map(|(p, modes)| {
                let modes: BTreeMap<String, Value> = modes
                    .into_iter()
                    .map(|(m, cohorts)| {
                        let cohorts: BTreeMap<String, Value> = cohorts
                            .into_iter()
                            .map(|(c, (size, cells))| (c, json!({"size": size, "cells": cells})))
                            .collect();
                        (m, json!(cohorts))
                    })
                    .collect();
                (p, json!(modes))
            })
            .collect::<BTreeMap<String, Value>>(),
    )?)
}

/// Copies `query`'s rows as CSV with a header into `path`.
pub async fn export(pool: &PgPool, query: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let mut stream = conn
        .copy_out_raw(&format!(
            "COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)"
        ))
        .await?;
    let mut file = tokio::io::BufWriter::new(tokio::fs::File::create(path).await?);
    use futures::TryStreamExt as _;
    use tokio::io::AsyncWriteExt as _;
    while let Some(chunk) = stream.try_next().await? {
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok(())
}

/// COPY of `rows` stored events into a copy of `metrics.events` with the
/// same indexes and foreign key: the ingest reference, in rows per second.
pub async fn copy_rate(pool: &PgPool, rows: i64) -> anyhow::Result<f64> {
    sqlx::query("CREATE SCHEMA bench_copy")
        .execute(pool)
        .await?;
    sqlx::query("CREATE TABLE bench_copy.events (LIKE metrics.events INCLUDING ALL)")
        .execute(pool)
        .await?;
    sqlx::query("ALTER TABLE bench_copy.events ADD FOREIGN KEY (user_id) REFERENCES metrics.users (user_id)")
        .execute(pool)
        .await?;
    let mut conn = pool.acquire().await?;
    let mut data = Vec::new();
    {
        use futures::TryStreamExt as _;
        let mut out = conn
            .copy_out_raw(&format!(
                "COPY (SELECT event_id, user_id, name, occurred_at, properties FROM metrics.events LIMIT {rows}) TO STDOUT"
            ))
            .await?;
        while let Some(chunk) = out.try_next().await? {
            data.extend_from_slice(&chunk);
        }
    }
    let started = Instant::now();
    super::copy_in(
        &mut conn,
        "COPY bench_copy.events (event_id, user_id, name, occurred_at, properties) FROM STDIN",
        &data,
    )
    .await?;
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    sqlx::query("DROP SCHEMA bench_copy CASCADE")
        .execute(pool)
        .await?;
    Ok(rate)
}
