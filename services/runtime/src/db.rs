//! The database pool, migrations, and the one place where database errors are
//! classified for gRPC (unavailable, constraint violations, internal).

use std::time::Duration;

use growth_proto::backoff::Backoff;

use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, migrate::MigrateError};
use tonic::Code;

/// How long a request waits for a pooled connection before it is answered
/// `UNAVAILABLE`.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Pool options shared by the services: a bounded acquire timeout (a down
/// database turns into `UNAVAILABLE`, not a hang) and a liveness check on
/// checkout (so the pool recovers by itself after a database restart).
pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(true)
}

/// Parses the URL without ever echoing it (it may hold a password).
pub fn connect_options(url: &SecretString) -> anyhow::Result<PgConnectOptions> {
    url.expose_secret()
        .parse::<PgConnectOptions>()
        .map_err(|e| {
            anyhow::anyhow!(
                "DATABASE_URL is not a valid PostgreSQL URL: {}",
                kind_only(&e)
            )
        })
}

/// Connects, retrying for up to `wait` while the database is starting.
pub async fn connect(
    url: &SecretString,
    max_connections: u32,
    wait: Duration,
) -> anyhow::Result<PgPool> {
    let options = connect_options(url)?;
    let deadline = tokio::time::Instant::now() + wait;
    let backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    let mut attempt = 0;
    loop {
        let delay = backoff.delay(attempt, None);
        attempt += 1;
        match pool_options(max_connections)
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => return Ok(pool),
            Err(e) if tokio::time::Instant::now() + delay < deadline => {
                tracing::warn!(error = %kind_only(&e), retry_in_ms = delay.as_millis() as u64, "database not reachable yet");
                tokio::time::sleep(delay).await;
            }
            Err(e) => {
                anyhow::bail!(
                    "could not connect to PostgreSQL at {}:{}: {}",
                    options.get_host(),
                    options.get_port(),
                    kind_only(&e)
                )
            }
        }
    }
}

/// Applies a service's migrations, keeping the migration history in the
/// service's own schema so that neither service sees the other's. Runs on a
/// connection of its own that does not report PostgreSQL's NOTICEs (the
/// migrator's `CREATE SCHEMA IF NOT EXISTS` would log "already exists,
/// skipping" at every start).
pub async fn migrate(pool: &PgPool, migrator: &Migrator) -> Result<(), MigrateError> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SET client_min_messages TO warning")
        .execute(&mut *conn)
        .await?;
    let applied = migrator.run(&mut *conn).await;
    // Back to the server's default before the connection returns to the pool.
    sqlx::query("RESET client_min_messages")
        .execute(&mut *conn)
        .await?;
    applied
}

/// What a database error means for a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorClass {
    /// The database cannot be reached or is restarting: retry later.
    Unavailable,
    /// A unique constraint was violated.
    AlreadyExists,
    /// A foreign key points nowhere.
    NotFound,
    /// A serialization failure or deadlock: the transaction can be retried.
    Conflict,
    /// Anything else: a bug or an unexpected state.
    Internal,
}

impl DbErrorClass {
    /// The gRPC code for this class.
    pub fn code(self) -> Code {
        match self {
            DbErrorClass::Unavailable => Code::Unavailable,
            DbErrorClass::AlreadyExists => Code::AlreadyExists,
            DbErrorClass::NotFound => Code::NotFound,
            DbErrorClass::Conflict => Code::Aborted,
            DbErrorClass::Internal => Code::Internal,
        }
    }
}

/// Classifies a sqlx error (one function for every repository).
pub fn classify(error: &sqlx::Error) -> DbErrorClass {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => DbErrorClass::Unavailable,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("23505") => DbErrorClass::AlreadyExists,
            Some("23503") => DbErrorClass::NotFound,
            Some("40001") | Some("40P01") => DbErrorClass::Conflict,
            // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now,
            // 08xxx connection exceptions, 53300 too many connections.
            Some(code) if code.starts_with("08") || code.starts_with("57P") || code == "53300" => {
                DbErrorClass::Unavailable
            }
            _ => DbErrorClass::Internal,
        },
        _ => DbErrorClass::Internal,
    }
}

/// A description of an error that names its kind but never its text, for
/// errors that might embed a connection string.
fn kind_only(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Configuration(_) => "invalid configuration".into(),
        sqlx::Error::Database(db) => format!("database error {}", db.code().unwrap_or_default()),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_exhaustion_and_io_are_unavailable() {
        assert_eq!(
            classify(&sqlx::Error::PoolTimedOut),
            DbErrorClass::Unavailable
        );
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(classify(&sqlx::Error::Io(io)), DbErrorClass::Unavailable);
        assert_eq!(DbErrorClass::Unavailable.code(), Code::Unavailable);
    }

    #[test]
    fn a_bad_url_error_does_not_echo_the_url() {
        let url = SecretString::from("postgres://user:hunter2@host:notaport/db".to_owned());
        let err = connect_options(&url).expect_err("invalid port");
        assert!(!err.to_string().contains("hunter2"));
    }
}
