//! `users upsert`, `events track`, `payments import`, `subscriptions
//! import`: JSON lines to batched
//! ingest RPCs, one batch at a time, with progress on a terminal
//! ([`crate::progress`]). Each batch is atomic on the server. A batch whose
//! outcome is unknown (`UNAVAILABLE`, `DEADLINE_EXCEEDED`, a dropped
//! connection) is sent again within `--retry-for` ([`crate::resend`]); a
//! refused batch, or one still unknown at the end of that time, stops the run
//! and says which lines it held (earlier batches stay written, and re-running
//! the whole file is safe: ingest is idempotent by user id, event id and
//! `stripe_id`).

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use growth_proto::metrics::v1 as pb;
use growth_proto::status;
use serde::de::DeserializeOwned;

use crate::cli::{Format, InputArgs};
use crate::clients::{Metrics, Target};
use crate::jsonl::{self, EventLine, PaymentLine, SubscriptionLine, UserLine};
use crate::output;
use crate::progress::{self, Progress};
use crate::resend::{self, Failure, Retry};

/// Row counts added up over batches.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Rows read.
    pub rows: u64,
    /// New rows.
    pub inserted: u64,
    /// Changed rows.
    pub updated: u64,
    /// Rows sent again unchanged (or duplicate events).
    pub unchanged: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.rows += other.rows;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// What a command ingests: its name, the label of rows sent again
/// unchanged, and the key that makes a re-sent row harmless.
struct Kind {
    what: &'static str,
    unchanged_label: &'static str,
    key: &'static str,
}

const USERS: Kind = Kind {
    what: "users",
    unchanged_label: "unchanged",
    key: "user id",
};

const EVENTS: Kind = Kind {
    what: "events",
    unchanged_label: "duplicates",
    key: "event id",
};

const PAYMENTS: Kind = Kind {
    what: "payments",
    unchanged_label: "unchanged",
    key: "stripe_id",
};

const SUBSCRIPTIONS: Kind = Kind {
    what: "subscription states",
    unchanged_label: "unchanged or stale",
    key: "subscription and state",
};

/// Where a batch came from in the input.
#[derive(Debug, Clone, Copy)]
struct Lines {
    first: usize,
    last: usize,
}

/// Reads the input batch by batch and sends each with `send`, again while
/// its outcome is unknown; adds up the answers.
async fn run_file<L, T, F, Fut>(
    input: &InputArgs,
    kind: &Kind,
    progress: &mut Progress,
    convert: impl Fn(L) -> anyhow::Result<T>,
    mut send: F,
) -> anyhow::Result<Counts>
where
    L: DeserializeOwned,
    T: Clone,
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Counts, tonic::Status>>,
{
    let mut reader = progress.count(jsonl::open(input.file.as_deref())?);
    let budget = Duration::from_secs(input.retry_for);
    let mut line_no = 0;
    let mut total = Counts::default();
    loop {
        let first_line = line_no + 1;
        let batch = jsonl::read_batch(
            &mut reader,
            input.batch_size as usize,
            &mut line_no,
            &convert,
        )?;
        if batch.is_empty() {
            break;
        }
        let lines = Lines {
            first: first_line,
            last: line_no,
        };
        let counts = resend::send(
            budget,
            || send(batch.clone()),
            |retry| progress.notice(&retry_notice(lines, retry)),
        )
        .await
        .map_err(|failure| batch_error(failure, lines, kind, total.rows))?;
        total += counts;
        progress.sent(counts.rows);
    }
    Ok(total)
}

/// The line printed before a batch is sent again.
fn retry_notice(lines: Lines, retry: &Retry<'_>) -> String {
    format!(
        "the batch of lines {}-{} got no answer to rely on ({}); sending it again in {:.1} s (attempt {})",
        lines.first,
        lines.last,
        answer(retry.status),
        retry.delay.as_secs_f64(),
        retry.attempt,
    )
}

/// `UNAVAILABLE "the database is unavailable; retry later"`.
fn answer(status: &tonic::Status) -> String {
    format!(
        "{} {:?}",
        status::code_name(status.code()),
        status.message()
    )
}

/// The error a batch ends the run with; `stored` rows before it were stored.
fn batch_error(failure: Failure, lines: Lines, kind: &Kind, stored: u64) -> anyhow::Error {
    let Lines { first, last } = lines;
    match failure {
        Failure::Refused { status, attempts } => {
            let when = if attempts > 1 {
                format!(" when sent again (attempt {attempts})")
            } else {
                String::new()
            };
            anyhow::Error::new(status).context(format!(
                "the batch of lines {first}-{last} was refused{when} ({stored} rows before it were stored)"
            ))
        }
        Failure::Unknown {
            status,
            attempts,
            retried_for,
        } => anyhow::anyhow!(
            "the outcome of the batch of lines {first}-{last} is unknown: no answer to rely on in \
             {attempts} attempt{} over {:.1} s (the last: {}); it may or may not be stored \
             ({stored} rows before it were stored). Re-running the same command is safe: {} are \
             stored once per {} (--retry-for waits longer)",
            if attempts == 1 { "" } else { "s" },
            retried_for.as_secs_f64(),
            answer(&status),
            kind.what,
            kind.key,
        ),
    }
}

fn report(format: Format, kind: &Kind, counts: Counts) -> ExitCode {
    let Kind {
        what,
        unchanged_label,
        ..
    } = *kind;
    output::emit(
        format,
        serde_json::json!({
            "rows": counts.rows,
            "inserted": counts.inserted,
            "updated": counts.updated,
            unchanged_label: counts.unchanged,
        }),
        || {
            let mut table = output::table([what, "rows"]);
            table.add_row(vec!["read".to_owned(), counts.rows.to_string()]);
            table.add_row(vec!["inserted".to_owned(), counts.inserted.to_string()]);
            if what != "events" {
                table.add_row(vec!["updated".to_owned(), counts.updated.to_string()]);
            }
            table.add_row(vec![
                unchanged_label.to_owned(),
                counts.unchanged.to_string(),
            ]);
            table
        },
    );
    ExitCode::SUCCESS
}

/// Connects, sends the file batch by batch with `send` (showing progress on
/// a terminal), and reports.
async fn ingest<L, T, F, Fut>(
    target: &Target,
    input: &InputArgs,
    format: Format,
    kind: &Kind,
    convert: impl Fn(L) -> anyhow::Result<T>,
    send: F,
) -> anyhow::Result<ExitCode>
where
    L: DeserializeOwned,
    T: Clone,
    F: Fn(Metrics, Vec<T>) -> Fut,
    Fut: Future<Output = Result<Counts, tonic::Status>>,
{
    let client = target.metrics().await?;
    let mut progress = Progress::new(
        progress::shown(format),
        kind.what,
        progress::input_size(input.file.as_deref()),
    );
    let counts = run_file(input, kind, &mut progress, convert, |rows| {
        send(client.clone(), rows)
    })
    .await;
    drop(progress);
    Ok(report(format, kind, counts?))
}

/// `users upsert`.
pub async fn users(target: &Target, input: &InputArgs, format: Format) -> anyhow::Result<ExitCode> {
    let convert = |l: UserLine| Ok(pb::User::from(l));
    ingest(
        target,
        input,
        format,
        &USERS,
        convert,
        |mut client, users| async move {
            let rows = users.len() as u64;
            let r = client
                .upsert_users(pb::UpsertUsersRequest { users })
                .await?
                .into_inner();
            Ok(Counts {
                rows,
                inserted: r.inserted.into(),
                updated: r.updated.into(),
                unchanged: r.unchanged.into(),
            })
        },
    )
    .await
}

/// `events track`.
pub async fn events(
    target: &Target,
    input: &InputArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let convert = |l: EventLine| Ok(pb::Event::from(l));
    ingest(
        target,
        input,
        format,
        &EVENTS,
        convert,
        |mut client, events| async move {
            let rows = events.len() as u64;
            let r = client
                .track_events(pb::TrackEventsRequest { events })
                .await?
                .into_inner();
            Ok(Counts {
                rows,
                inserted: r.inserted.into(),
                updated: 0,
                unchanged: r.duplicates.into(),
            })
        },
    )
    .await
}

/// `payments import`.
pub async fn payments(
    target: &Target,
    input: &InputArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let convert = |l: PaymentLine| pb::Payment::try_from(l);
    ingest(
        target,
        input,
        format,
        &PAYMENTS,
        convert,
        |mut client, payments| async move {
            let rows = payments.len() as u64;
            let r = client
                .import_payments(pb::ImportPaymentsRequest { payments })
                .await?
                .into_inner();
            Ok(Counts {
                rows,
                inserted: r.inserted.into(),
                updated: r.updated.into(),
                unchanged: r.unchanged.into(),
            })
        },
    )
    .await
}

/// `subscriptions import`: states in file order, a batch at a time, so a
/// subscription's states arrive in the order written.
pub async fn subscriptions(
    target: &Target,
    input: &InputArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    ingest(
        target,
        input,
        format,
        &SUBSCRIPTIONS,
        |l: SubscriptionLine| pb::Subscription::try_from(l),
        |mut client, subscriptions: Vec<pb::Subscription>| async move {
            let rows = subscriptions.len() as u64;
            let r = client
                .import_subscriptions(pb::ImportSubscriptionsRequest { subscriptions })
                .await?
                .into_inner();
            Ok(Counts {
                rows,
                inserted: r.recorded.into(),
                updated: 0,
                unchanged: u64::from(r.unchanged) + u64::from(r.stale),
            })
        },
    )
    .await
}
