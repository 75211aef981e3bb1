//! The table side of an outbox: claim one due row, record what became of it.
//!
//! [`OutboxTable`] is what the worker needs from a table; [`SqlTable`] is the
//! one implementation, written once for every outbox whose table has the
//! kit's columns (`status`, `attempts`, `last_error`, `next_attempt_at`,
//! `delivered_at`, `outcome_unknown`, `lease_until`, `lease_holder`). A
//! service describes its table with a [`TableSpec`] in its repository module.

use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use sqlx::postgres::PgRow;
use sqlx::{FromRow, Row as _};

use super::holder::{Holder, holder_gone};

/// Where an outbox's rows live and how one is read.
#[derive(Clone, Copy, Debug)]
pub struct TableSpec {
    /// Schema-qualified table, e.g. `lifecycle.deliveries`.
    pub table: &'static str,
    /// Primary key column.
    pub id: &'static str,
    /// Its SQL type (`uuid`, `int8`): ids travel as text and are cast.
    pub id_type: &'static str,
    /// The status of a claimed row (`sending`, or `pending` for a table that
    /// does not show claims in its status).
    pub claimed_status: &'static str,
    /// Claim order among due rows, e.g. `next_attempt_at, created_at`.
    pub order: &'static str,
    /// The columns the service's row type reads.
    pub columns: &'static str,
    /// A column for what the peer made of a delivered row (an issue number).
    pub reference: Option<&'static str>,
}

/// A claimed row, with the kit's view of it.
#[derive(Debug)]
pub struct Claimed<R> {
    /// The service's row (as claimed: a takeover's counts included).
    pub row: R,
    /// Its id, as text.
    pub id: String,
    /// Attempts made before this one (an attempt interrupted by a dead
    /// holder counts: it may have been sent).
    pub attempts: i32,
    /// An earlier attempt may have reached the peer without an answer.
    pub outcome_unknown: bool,
}

/// What to write after an attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// Accepted; `reference` is what the peer made of it.
    Delivered {
        /// E.g. `#12`.
        reference: Option<String>,
    },
    /// Not accepted: due again after `retry_in`, or dead when `None`.
    Failed {
        /// For people (never a credential).
        error: String,
        /// The wait before the next attempt.
        retry_in: Option<Duration>,
        /// The attempt may have reached the peer.
        unknown: bool,
    },
}

/// What the worker needs from an outbox table.
pub trait OutboxTable: Send + Sync {
    /// The service's row.
    type Row: Send + Sync;

    /// Claims the first due row (or one whose holder is gone) whose id is
    /// not in `skip`, for `holder`, leased for `lease`; committed at once.
    fn claim(
        &self,
        holder: &mut Holder,
        lease: Duration,
        skip: &[String],
    ) -> impl Future<Output = Result<Option<Claimed<Self::Row>>, sqlx::Error>> + Send;

    /// Records the attempt on row `id`, if `holder` still holds it; false
    /// when it does not (another worker took it over).
    fn record(
        &self,
        holder: &mut Holder,
        id: &str,
        record: &Record,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
}

/// The kit's SQL over a table described by a [`TableSpec`].
pub struct SqlTable<R> {
    spec: TableSpec,
    claim_sql: String,
    delivered_sql: String,
    failed_sql: String,
    row: PhantomData<fn() -> R>,
}

impl<R> SqlTable<R> {
    /// The table `spec` describes.
    pub fn new(spec: TableSpec) -> Self {
        let TableSpec {
            table,
            id,
            id_type,
            claimed_status,
            order,
            columns,
            reference,
        } = spec;
        // Two index probes, each stopping at its first row: a row whose
        // holder is gone (few: only claimed rows), else the first due row in
        // `order` (the due index), so a backlog costs no sort per claim.
        let claimed = "t.lease_until IS NOT NULL";
        let holder_gone = holder_gone("c.lease_holder");
        let claim_sql = format!(
            "WITH orphaned AS (
                 SELECT c.{id} FROM {table} c
                 WHERE c.lease_until IS NOT NULL AND c.{id} <> ALL($3::{id_type}[])
                   AND (c.lease_until < now() OR (c.lease_holder IS NOT NULL AND {holder_gone}))
                 LIMIT 1 FOR UPDATE SKIP LOCKED),
             due AS (
                 SELECT c.{id} FROM {table} c
                 WHERE c.lease_until IS NULL AND c.status = 'pending' AND c.next_attempt_at <= now()
                   AND c.{id} <> ALL($3::{id_type}[])
                 ORDER BY {order} LIMIT 1 FOR UPDATE SKIP LOCKED)
             UPDATE {table} t SET status = '{claimed_status}', lease_holder = $1,
                 lease_until = now() + make_interval(secs => $2),
                 attempts = t.attempts + CASE WHEN {claimed} THEN 1 ELSE 0 END,
                 outcome_unknown = t.outcome_unknown OR {claimed}
             WHERE t.{id} = (SELECT {id} FROM orphaned UNION ALL SELECT {id} FROM due LIMIT 1)
             RETURNING {columns}, t.{id}::text AS outbox_id, t.attempts AS outbox_attempts,
                 t.outcome_unknown AS outbox_unknown"
        );
        let mine =
            format!("{id} = $1::{id_type} AND lease_holder = $2 AND lease_until IS NOT NULL");
        let reference = reference.map_or(String::new(), |column| format!(", {column} = $3"));
        let delivered_sql = format!(
            "UPDATE {table} SET status = 'delivered', delivered_at = now(), attempts = attempts + 1,
                 last_error = NULL, outcome_unknown = false, lease_until = NULL, lease_holder = NULL
                 {reference}
             WHERE {mine}"
        );
        let failed_sql = format!(
            "UPDATE {table} SET attempts = attempts + 1, last_error = $3, outcome_unknown = $5,
                 status = CASE WHEN $4::float8 IS NULL THEN 'dead' ELSE 'pending' END,
                 next_attempt_at = COALESCE(now() + make_interval(secs => $4), next_attempt_at),
                 lease_until = NULL, lease_holder = NULL
             WHERE {mine}"
        );
        Self {
            spec,
            claim_sql,
            delivered_sql,
            failed_sql,
            row: PhantomData,
        }
    }

    /// The table's description.
    pub fn spec(&self) -> &TableSpec {
        &self.spec
    }
}

impl<R> OutboxTable for SqlTable<R>
where
    R: for<'r> FromRow<'r, PgRow> + Send + Sync + Unpin,
{
    type Row = R;

    async fn claim(
        &self,
        holder: &mut Holder,
        lease: Duration,
        skip: &[String],
    ) -> Result<Option<Claimed<R>>, sqlx::Error> {
        let id = holder.id();
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(self.claim_sql.as_str()))
            .bind(id)
            .bind(lease.as_secs_f64())
            .bind(skip)
            .fetch_optional(holder.connection())
            .await?
        else {
            return Ok(None);
        };
        let attempts: i32 = row.try_get("outbox_attempts")?;
        Ok(Some(Claimed {
            id: row.try_get("outbox_id")?,
            attempts,
            outcome_unknown: row.try_get("outbox_unknown")?,
            row: R::from_row(&row)?,
        }))
    }

    async fn record(
        &self,
        holder: &mut Holder,
        id: &str,
        record: &Record,
    ) -> Result<bool, sqlx::Error> {
        let me = holder.id();
        let done = match record {
            Record::Delivered { reference } => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(self.delivered_sql.as_str()))
                    .bind(id)
                    .bind(me);
                if self.spec.reference.is_some() {
                    query = query.bind(reference.as_deref());
                }
                query.execute(holder.connection()).await?
            }
            Record::Failed {
                error,
                retry_in,
                unknown,
            } => {
                sqlx::query(sqlx::AssertSqlSafe(self.failed_sql.as_str()))
                    .bind(id)
                    .bind(me)
                    .bind(error)
                    .bind(retry_in.map(|d| d.as_secs_f64()))
                    .bind(unknown)
                    .execute(holder.connection())
                    .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }
}
