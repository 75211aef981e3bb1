//! What `bench retention` hands to `bench/retention/run.sh` and measures
//! beside it: our stored matrices as JSON, the users and events as CSV, and
//! the `COPY` rate that `TrackEvents` is compared with; and the run of the
//! script's two parts on them.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
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

/// Runs `script` (`bench/retention/run.sh`) on `dir`: the engines' retention
/// matrices, then (`active`) DuckDB's daily active users and the weekly
/// report's targets. The exit code is 1 when either found a difference,
/// else the worse of the two (2: bad input or an engine that could not run).
pub async fn reference(script: &str, dir: &Path, url: &str, runs: u32) -> anyhow::Result<ExitCode> {
    let (dir, url, runs) = (dir.as_os_str(), OsStr::new(url), runs.to_string());
    let runs = OsStr::new(&runs);
    let engines = [OsStr::new("--dir"), dir, OsStr::new("--database-url"), url];
    let active = [OsStr::new("active"), OsStr::new("--dir"), dir];
    let mut codes = Vec::new();
    // (The URL is not printed: it may hold a password.)
    for (name, part) in [("engines", &engines[..]), ("active", &active[..])] {
        eprintln!(
            "bench: running {script} ({name}) on {}",
            Path::new(dir).display()
        );
        let status = tokio::process::Command::new("bash")
            .arg(script)
            .args(part)
            .args([OsStr::new("--runs"), runs])
            .status()
            .await
            .with_context(|| format!("running {script}"))?;
        codes.push(status.code().unwrap_or(2));
    }
    let code = if codes.contains(&1) {
        1
    } else {
        codes.into_iter().max().unwrap_or(0)
    };
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(2)))
}
