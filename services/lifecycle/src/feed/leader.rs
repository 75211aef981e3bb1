//! Leadership of the feed: a session advisory lock held on a connection of
//! its own. If the replica dies, or its connection does, PostgreSQL releases
//! the lock and a standby takes it at its next try.

use sqlx::{Connection as _, PgConnection, PgPool};

use crate::repo::FEED_LOCK;

/// The held lock; dropping it closes the connection, which releases it.
pub struct Leadership {
    conn: PgConnection,
}

impl Leadership {
    /// Tries to become the leader: `Ok(None)` when another replica is.
    pub async fn try_acquire(pool: &PgPool) -> Result<Option<Self>, sqlx::Error> {
        let mut conn = pool.acquire().await?.detach();
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(FEED_LOCK)
            .fetch_one(&mut conn)
            .await?;
        if locked {
            Ok(Some(Self { conn }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Whether the lock's connection is still alive (so the lock still held).
    pub async fn still_held(&mut self) -> bool {
        self.conn.ping().await.is_ok()
    }

    /// Gives the lock up.
    pub async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(FEED_LOCK)
            .execute(&mut self.conn)
            .await;
        let _ = self.conn.close().await;
    }
}
