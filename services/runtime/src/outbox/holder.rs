//! Who holds a claimed row: a worker's session advisory lock.
//!
//! Each worker takes a session advisory lock under a random key on a
//! connection of its own ([`SessionLock`]) and writes that key into every row
//! it claims (`lease_holder`). The lock lives exactly as long as the worker's
//! session: a killed process, an aborted task or a lost connection releases
//! it, and `pg_locks` then shows the claim as orphaned, so another worker
//! takes the row over at once instead of waiting for the lease to run out.

use sqlx::{PgConnection, PgPool};

use crate::SessionLock;

/// A worker's identity while it delivers, alive as long as its session.
pub struct Holder {
    lock: SessionLock,
}

impl Holder {
    /// Opens a session and takes a fresh holder key in it.
    pub async fn acquire(pool: &PgPool) -> Result<Self, sqlx::Error> {
        loop {
            // Non-negative, so `pg_locks`' (classid, objid) halves rebuild it
            // without overflow.
            let key = rand::random::<i64>() & i64::MAX;
            if let Some(lock) = SessionLock::try_acquire(pool, key).await? {
                return Ok(Self { lock });
            }
        }
    }

    /// The key written into `lease_holder`.
    pub fn id(&self) -> i64 {
        self.lock.key()
    }

    /// The session's connection: claims and records run on it, so they fail
    /// (rather than act for a dead holder) when the session is gone.
    pub fn connection(&mut self) -> &mut PgConnection {
        self.lock.connection()
    }

    /// Ends the session; the rows it still holds become orphaned.
    pub async fn release(self) {
        self.lock.release().await;
    }
}

/// SQL: true when the session holding key `{holder}` is gone. A bigint
/// advisory key shows in `pg_locks` as `classid` (high half) and `objid`
/// (low half) with `objsubid = 1`.
pub(super) fn holder_gone(holder: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_locks l
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND ((l.classid::int8 << 32) | l.objid::int8) = {holder})"
    )
}
