//! A PostgreSQL session advisory lock held on a connection of its own,
//! detached from the pool: dropping it closes the connection, so the lock can
//! never outlive its holder on a pooled connection, and if the holder dies
//! (or its connection does) PostgreSQL releases the lock by itself.

use sqlx::{Connection as _, PgConnection, PgPool};

/// A held session advisory lock.
pub struct SessionLock {
    conn: PgConnection,
    key: i64,
}

impl SessionLock {
    /// Takes lock `key` if nobody holds it: `Ok(None)` when someone does.
    pub async fn try_acquire(pool: &PgPool, key: i64) -> Result<Option<Self>, sqlx::Error> {
        let mut conn = pool.acquire().await?.detach();
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await?;
        if locked {
            Ok(Some(Self { conn, key }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// The lock's key.
    pub fn key(&self) -> i64 {
        self.key
    }

    /// The connection that holds the lock, for statements that should fail
    /// when the lock is lost (the outbox claims and records on it).
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    /// Whether the lock's connection is still alive (so the lock still held).
    pub async fn still_held(&mut self) -> bool {
        self.conn.ping().await.is_ok()
    }

    /// Gives the lock up and closes its connection.
    pub async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .execute(&mut self.conn)
            .await;
        let _ = self.conn.close().await;
    }
}
