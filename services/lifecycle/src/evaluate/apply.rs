//! Applying an evaluation batch: one transaction that reads the users'
//! current stages, writes their profiles and transitions, queues the Kit
//! deliveries the transitions trigger, and (for the feed) moves the cursor,
//! so a crash leaves either all of it or none.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::plan::{deliveries, plan};
use crate::domain::{Signals, Tuning};
use crate::repo;
use crate::repo::transitions::TransitionRow;

/// A feed cursor move to commit with the batch.
#[derive(Debug, Clone, Copy)]
pub struct CursorMove<'a> {
    /// The consumer's name.
    pub consumer: &'a str,
    /// The stored cursor this batch started from.
    pub from: i64,
    /// The cursor after this batch.
    pub to: i64,
}

/// Write, or only report.
#[derive(Debug, Clone, Copy)]
pub enum Mode<'a> {
    /// Write everything, and move the cursor if given.
    Write(Option<CursorMove<'a>>),
    /// Write nothing; report what would change.
    DryRun,
}

/// What a batch did (or, dry, would do).
#[derive(Debug, Default)]
pub struct Applied {
    /// Users evaluated.
    pub evaluated: usize,
    /// Transitions recorded (dry run: with id 0).
    pub transitions: Vec<TransitionRow>,
    /// Kit deliveries queued (dry run: that would be).
    pub deliveries_queued: u64,
}

/// Why a batch was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The database failed; nothing was written.
    #[error("database error: {0}")]
    Database(#[from] repo::DbError),
    /// Another consumer moved the cursor: this one is no longer the leader;
    /// nothing was written.
    #[error("the feed cursor moved under this consumer; another replica is leading")]
    LostLeadership,
}

/// Evaluates `users` at `now` and applies the result as `mode` says.
pub async fn apply(
    pool: &repo::Pool,
    users: &[Signals],
    now: DateTime<Utc>,
    tuning: &Tuning,
    mode: Mode<'_>,
) -> Result<Applied, ApplyError> {
    let mut tx = pool.begin().await?;
    if matches!(mode, Mode::Write(_)) {
        repo::locks::hold_writes(&mut tx).await?;
    }
    let ids: Vec<String> = users.iter().map(|u| u.user_id.clone()).collect();
    let current = repo::profiles::current(&mut tx, &ids).await?;
    let planned = plan(&current, users, now, tuning);
    let rules = repo::rules::enabled(&mut tx).await?;
    let emails: HashMap<&str, &str> = users
        .iter()
        .map(|u| (u.user_id.as_str(), u.email.as_str()))
        .collect();

    let Mode::Write(cursor) = mode else {
        // Stand-in ids, distinct per transition, for the delivery keys.
        let mut transitions: Vec<TransitionRow> = planned
            .transitions
            .into_iter()
            .zip(1i64..)
            .map(|(t, n)| TransitionRow {
                transition_id: -n,
                user_id: t.user_id,
                from_stage: t.from.map(|s| s.code()),
                to_stage: t.to.code(),
                occurred_at: t.occurred_at,
                reason: t.reason,
                score: i16::from(t.score),
            })
            .collect();
        let queued = deliveries(&transitions, &emails, &rules).len() as u64;
        for t in &mut transitions {
            t.transition_id = 0;
        }
        tx.rollback().await?;
        return Ok(Applied {
            evaluated: users.len(),
            transitions,
            deliveries_queued: queued,
        });
    };

    repo::profiles::upsert(&mut tx, &planned.profiles).await?;
    let transitions = repo::transitions::insert(&mut tx, &planned.transitions).await?;
    let queued =
        repo::deliveries::enqueue(&mut tx, &deliveries(&transitions, &emails, &rules)).await?;
    if let Some(c) = cursor
        && !repo::cursor::advance(&mut tx, c.consumer, c.from, c.to).await?
    {
        tx.rollback().await?;
        return Err(ApplyError::LostLeadership);
    }
    tx.commit().await?;
    Ok(Applied {
        evaluated: users.len(),
        transitions,
        deliveries_queued: queued,
    })
}
