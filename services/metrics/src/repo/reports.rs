//! `metrics.growth_reports`: the weekly reports, one row per revision (the
//! report as protobuf bytes, its markdown, and what lists need), and their
//! Slack posts queued in the alert outbox in the same transaction.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::locks::{self, REPORTS_LOCK};

/// The identity a new revision gets before it is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The report's id.
    pub report_id: Uuid,
    /// 1 for a week's first report, then one more each time.
    pub revision: i32,
    /// When it was generated.
    pub generated_at: DateTime<Utc>,
}

/// What is stored of a revision besides its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns<'a> {
    /// ISO week, "YYYY-Www".
    pub week: &'a str,
    /// `rules` or `llm`.
    pub summary_source: &'a str,
    /// `used`, `skipped` or `failed`.
    pub ai_status: &'a str,
}

/// A Slack post of a report (through the alert outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// Headline.
    pub title: String,
    /// Markdown body.
    pub body: String,
}

/// Stores the week's next revision: `encode` makes the report's bytes and
/// markdown once its identity is known; `post`, when given, is queued for
/// Slack in the same transaction (so it is sent once, after the commit).
pub async fn store(
    pool: &PgPool,
    columns: Columns<'_>,
    encode: impl FnOnce(&Revision) -> (Vec<u8>, String),
    post: Option<Post>,
) -> Result<Revision, sqlx::Error> {
    let mut tx = pool.begin().await?;
    locks::hold(&mut tx, REPORTS_LOCK).await?;
    let (revision, generated_at): (i32, DateTime<Utc>) = sqlx::query_as(
        "SELECT coalesce(max(revision), 0) + 1, now() FROM metrics.growth_reports WHERE week = $1",
    )
    .bind(columns.week)
    .fetch_one(&mut *tx)
    .await?;
    let identity = Revision {
        report_id: Uuid::new_v4(),
        revision,
        generated_at,
    };
    let (report, markdown) = encode(&identity);
    sqlx::query(
        "INSERT INTO metrics.growth_reports
             (report_id, week, revision, generated_at, summary_source, ai_status, report, markdown)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(identity.report_id)
    .bind(columns.week)
    .bind(revision)
    .bind(generated_at)
    .bind(columns.summary_source)
    .bind(columns.ai_status)
    .bind(&report)
    .bind(&markdown)
    .execute(&mut *tx)
    .await?;
    if let Some(post) = post {
        sqlx::query(
            "INSERT INTO metrics.alert_outbox (report_id, channel, month, verdict, title, body)
             VALUES ($1, 'slack', $2, '', $3, $4)",
        )
        .bind(identity.report_id)
        .bind(columns.week)
        .bind(&post.title)
        .bind(&post.body)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(identity)
}

/// A stored revision: the report's bytes and its markdown.
pub type Stored = (Vec<u8>, String);

/// The revision `revision` (latest when `None`) of `week` (the latest week
/// with a report when `None`).
pub async fn get(
    pool: &PgPool,
    week: Option<&str>,
    revision: Option<i32>,
) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query_as(
        "SELECT report, markdown FROM metrics.growth_reports
         WHERE ($1::text IS NULL OR week = $1) AND ($2::integer IS NULL OR revision = $2)
         ORDER BY week DESC, revision DESC LIMIT 1",
    )
    .bind(week)
    .bind(revision)
    .fetch_optional(pool)
    .await
}

/// A page of revisions (newest week first, then newest revision), of
/// `week` only when given: their bytes.
pub async fn list(
    pool: &PgPool,
    week: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT report FROM metrics.growth_reports
         WHERE ($1::text IS NULL OR week = $1)
         ORDER BY week DESC, revision DESC LIMIT $2 OFFSET $3",
    )
    .bind(week)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}
