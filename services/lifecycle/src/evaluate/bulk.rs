//! `EvaluateUsers`: pages through users (all of them, given ids, or those in
//! a stage), fetching the next page from metrics while the current one is
//! written, one transaction per page, and reports progress after each.
//!
//! A real run holds the evaluation advisory lock on a connection of its own
//! (closed, not pooled, at the end: a cancelled stream cannot leak the
//! lock), so a second run is refused with ABORTED. A dry run takes no lock
//! and writes nothing. Pages already written stay written if a run fails
//! half-way; running again finishes the job and changes nothing twice.

use std::pin::Pin;
use std::time::Instant;

use chrono::Utc;
use futures::Stream;
use growth_proto::lifecycle::v1 as pb;
use growth_runtime::SessionLock;
use tokio::sync::mpsc;
use tonic::Status;

use super::apply::{Mode, apply};
use crate::convert;
use crate::domain::{Signals, Stage};
use crate::error::LifecycleError;
use crate::repo::{self, locks::EVALUATION_LOCK};
use crate::state::Lifecycle;
use crate::upstream::{self, MAX_USERS_PER_CALL};

/// Which users to evaluate.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Everyone metrics knows.
    All,
    /// These ids.
    Ids(Vec<String>),
    /// Users currently in this stage.
    InStage(Stage),
}

/// A progress stream.
pub type Progress = Pin<Box<dyn Stream<Item = Result<pb::EvaluateUsersResponse, Status>> + Send>>;

const PAGE: usize = MAX_USERS_PER_CALL;
const SAMPLE: usize = 100;

struct Batch {
    users: Vec<Signals>,
    total: i64,
}

/// A metrics failure as this service reports it (see
/// [`LifecycleError::Upstream`]).
fn upstream_failed(status: Status) -> Status {
    LifecycleError::Upstream(status).into()
}

/// Fetches batches into `out` until done, the receiver is gone, or metrics
/// fails (the error is sent).
async fn fetch(state: Lifecycle, selection: Selection, out: mpsc::Sender<Result<Batch, Status>>) {
    let mut client = state.metrics.clone();
    let send = |b: Result<Batch, Status>| {
        let out = out.clone();
        async move { out.send(b).await.is_ok() }
    };
    match selection {
        Selection::All => {
            let mut token = String::new();
            loop {
                let page = match upstream::signals_page(&mut client, &token, PAGE as i32).await {
                    Ok(p) => p,
                    Err(e) => {
                        send(Err(upstream_failed(e))).await;
                        return;
                    }
                };
                let last = page.next_page_token.is_empty();
                token = page.next_page_token;
                if !send(Ok(Batch {
                    users: page.users,
                    total: page.total_users,
                }))
                .await
                    || last
                {
                    return;
                }
            }
        }
        Selection::Ids(ids) => {
            let total = ids.len() as i64;
            for (n, chunk) in ids.chunks(PAGE).enumerate() {
                let users = upstream::signals_of(&mut client, chunk, n * PAGE)
                    .await
                    .map_err(upstream_failed);
                if !send(users.map(|users| Batch { users, total })).await {
                    return;
                }
            }
        }
        Selection::InStage(stage) => {
            let mut after = String::new();
            loop {
                let ids =
                    match repo::profiles::ids_in_stage(&state.pool, stage, &after, PAGE as i64)
                        .await
                    {
                        Ok(ids) => ids,
                        Err(e) => {
                            send(Err(LifecycleError::from(e).into())).await;
                            return;
                        }
                    };
                let Some(last) = ids.last().cloned() else {
                    return;
                };
                let users = upstream::signals_of(&mut client, &ids, 0)
                    .await
                    .map_err(upstream_failed);
                if !send(users.map(|users| Batch { users, total: 0 })).await || ids.len() < PAGE {
                    return;
                }
                after = last;
            }
        }
    }
}

/// Takes the evaluation lock on a connection of its own.
async fn lock(state: &Lifecycle) -> Result<SessionLock, LifecycleError> {
    SessionLock::try_acquire(&state.pool, EVALUATION_LOCK)
        .await?
        .ok_or_else(|| {
            LifecycleError::Aborted(
                "another evaluation is running; try again when it has finished".into(),
            )
        })
}

/// Runs an evaluation as a progress stream.
pub async fn evaluate(
    state: Lifecycle,
    selection: Selection,
    dry_run: bool,
) -> Result<Progress, LifecycleError> {
    let lock = if dry_run {
        None
    } else {
        Some(lock(&state).await?)
    };
    let started = Instant::now();
    let (tx, mut rx) = mpsc::channel(2);
    tokio::spawn(fetch(state.clone(), selection, tx));
    let stream = async_stream::try_stream! {
        let _lock = lock;
        let mut progress = pb::EvaluateUsersResponse::default();
        while let Some(batch) = rx.recv().await {
            let batch = batch?;
            progress.total = progress.total.max(batch.total);
            let mode = if dry_run { Mode::DryRun } else { Mode::Write(None) };
            let applied = apply(&state.pool, &batch.users, Utc::now(), &state.tuning, mode)
                .await
                .map_err(LifecycleError::from)?;
            state.queued(applied.deliveries_queued);
            progress.evaluated += applied.evaluated as i64;
            progress.transitions += applied.transitions.len() as i64;
            progress.deliveries_queued += applied.deliveries_queued as i64;
            progress.elapsed_ms = started.elapsed().as_millis() as i64;
            progress.sample = applied.transitions.into_iter().take(SAMPLE).map(convert::transition).collect();
            yield progress.clone();
        }
        progress.total = progress.total.max(progress.evaluated);
        progress.done = true;
        progress.sample.clear();
        progress.elapsed_ms = started.elapsed().as_millis() as i64;
        tracing::info!(evaluated = progress.evaluated, transitions = progress.transitions, deliveries = progress.deliveries_queued, dry_run, elapsed_ms = progress.elapsed_ms, "evaluation finished");
        yield progress;
    };
    Ok(Box::pin(stream))
}
