//! `users upsert`, `events track`, `payments import`: JSON lines to batched
//! ingest RPCs. Each batch is atomic on the server; a refused batch stops the
//! run and says which lines it held (earlier batches stay written, and
//! re-running the whole file is safe: ingest is idempotent).

use std::future::Future;
use std::process::ExitCode;

use anyhow::Context as _;
use growth_proto::metrics::v1 as pb;
use serde::de::DeserializeOwned;

use crate::cli::{Format, InputArgs};
use crate::clients::{Metrics, Target};
use crate::jsonl::{self, EventLine, PaymentLine, UserLine};
use crate::output;

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

async fn run_file<L, T, F, Fut>(
    input: &InputArgs,
    convert: impl Fn(L) -> anyhow::Result<T>,
    mut send: F,
) -> anyhow::Result<Counts>
where
    L: DeserializeOwned,
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Counts, tonic::Status>>,
{
    let mut reader = jsonl::open(input.file.as_deref())?;
    let mut line_no = 0;
    let mut total = Counts::default();
    loop {
        let first_line = line_no + 1;
        let batch = jsonl::read_batch(
            &mut *reader,
            input.batch_size as usize,
            &mut line_no,
            &convert,
        )?;
        if batch.is_empty() {
            break;
        }
        let counts = send(batch).await.map_err(anyhow::Error::new).with_context(|| {
            format!(
                "the batch of lines {first_line}-{line_no} was refused ({} rows before it were stored)",
                total.rows
            )
        })?;
        total += counts;
    }
    Ok(total)
}

fn report(format: Format, what: &str, counts: Counts, unchanged_label: &str) -> ExitCode {
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

/// Connects, sends the file batch by batch with `send`, and reports.
async fn ingest<L, T, F, Fut>(
    target: &Target,
    input: &InputArgs,
    format: Format,
    (what, unchanged_label): (&str, &str),
    convert: impl Fn(L) -> anyhow::Result<T>,
    send: F,
) -> anyhow::Result<ExitCode>
where
    L: DeserializeOwned,
    F: Fn(Metrics, Vec<T>) -> Fut,
    Fut: Future<Output = Result<Counts, tonic::Status>>,
{
    let client = target.metrics().await?;
    let counts = run_file(input, convert, |rows| send(client.clone(), rows)).await?;
    Ok(report(format, what, counts, unchanged_label))
}

/// `users upsert`.
pub async fn users(target: &Target, input: &InputArgs, format: Format) -> anyhow::Result<ExitCode> {
    let convert = |l: UserLine| Ok(pb::User::from(l));
    ingest(
        target,
        input,
        format,
        ("users", "unchanged"),
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
        ("events", "duplicates"),
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
        ("payments", "unchanged"),
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
