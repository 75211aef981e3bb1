//! `growthctl seed`: generate the synthetic SaaS and send it through the
//! ingest RPCs (users first, then events, payments and subscription states),
//! a few batches in flight at a time, with a progress bar.

pub mod generate;
pub mod subscriptions;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use clap::Args;
use growth_proto::metrics::v1 as pb;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinSet;

use crate::cli::Format;
use crate::clients::{Metrics, Target};
use crate::output;
use generate::Model;

/// Parameters of the synthetic SaaS.
#[derive(Debug, Clone, Args)]
pub struct SeedParams {
    /// Number of users.
    #[arg(long, default_value_t = 1000)]
    pub users: u64,
    /// Months of history (signups spread over them).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub months: u32,
    /// Mean number of events per user over the whole history.
    #[arg(long, default_value_t = 40.0)]
    pub events_per_user: f64,
    /// Share of trials converting to a paid plan, 0 to 1.
    #[arg(long, default_value_t = 0.3, value_parser = share)]
    pub conversion: f64,
    /// Monthly probability that a paying customer churns, 0 to 1.
    #[arg(long, default_value_t = 0.05, value_parser = share)]
    pub churn: f64,
    /// Random seed: the same seed and end date give the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// End of the history, YYYY-MM-DD (exclusive; default: today, UTC).
    #[arg(long)]
    pub until: Option<NaiveDate>,
    /// Rows per ingest RPC.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// Ingest RPCs in flight at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
}

impl Default for SeedParams {
    /// The command-line defaults.
    fn default() -> Self {
        Self {
            users: 1000,
            months: 6,
            events_per_user: 40.0,
            conversion: 0.3,
            churn: 0.05,
            seed: 42,
            until: None,
            batch_size: 1000,
            concurrency: 2,
        }
    }
}

fn share(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not between 0 and 1"))
    }
}

impl SeedParams {
    /// The generator for these parameters.
    pub fn model(&self) -> anyhow::Result<Model> {
        let until = match self.until {
            Some(day) => day,
            None => Utc::now().date_naive(),
        };
        if until > Utc::now().date_naive() {
            anyhow::bail!("--until {until} is in the future: events cannot be");
        }
        if !(self.events_per_user.is_finite() && self.events_per_user >= 1.0) {
            anyhow::bail!(
                "--events-per-user must be at least 1, got {}",
                self.events_per_user
            );
        }
        Ok(Model {
            seed: self.seed,
            users: self.users,
            months: self.months,
            events_per_user: self.events_per_user,
            conversion: self.conversion,
            churn: self.churn,
            until: until
                .and_hms_opt(0, 0, 0)
                .context("midnight exists")?
                .and_utc(),
        })
    }
}

/// What a seed run sent.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedReport {
    /// Users sent / newly inserted.
    pub users: (u64, u64),
    /// Events sent / newly inserted.
    pub events: (u64, u64),
    /// Payments sent / newly inserted.
    pub payments: (u64, u64),
    /// Subscription states sent / newly recorded.
    pub subscriptions: (u64, u64),
    /// Wall time.
    pub elapsed: Duration,
}

enum Batch {
    Users(Vec<pb::User>),
    Events(Vec<pb::Event>),
    Payments(Vec<pb::Payment>),
    Subscriptions(Vec<pb::Subscription>),
}

/// (kind, sent, inserted)
type Sent = (u8, u64, u64);

async fn send(mut client: Metrics, batch: Batch) -> anyhow::Result<Sent> {
    Ok(match batch {
        Batch::Users(users) => {
            let n = users.len() as u64;
            let r = client
                .upsert_users(pb::UpsertUsersRequest { users })
                .await
                .context("UpsertUsers")?;
            (0, n, r.into_inner().inserted.into())
        }
        Batch::Events(events) => {
            let n = events.len() as u64;
            let r = client
                .track_events(pb::TrackEventsRequest { events })
                .await
                .context("TrackEvents")?;
            (1, n, r.into_inner().inserted.into())
        }
        Batch::Payments(payments) => {
            let n = payments.len() as u64;
            let r = client
                .import_payments(pb::ImportPaymentsRequest { payments })
                .await
                .context("ImportPayments")?;
            (2, n, r.into_inner().inserted.into())
        }
        Batch::Subscriptions(subscriptions) => {
            let n = subscriptions.len() as u64;
            let r = client
                .import_subscriptions(pb::ImportSubscriptionsRequest { subscriptions })
                .await
                .context("ImportSubscriptions")?;
            (3, n, r.into_inner().recorded.into())
        }
    })
}

/// Keeps up to `limit` batches in flight and adds up what they sent.
struct Pipeline {
    client: Metrics,
    tasks: JoinSet<anyhow::Result<Sent>>,
    limit: usize,
    totals: [(u64, u64); 4],
}

impl Pipeline {
    async fn push(&mut self, batch: Batch) -> anyhow::Result<()> {
        while self.tasks.len() >= self.limit {
            self.join_one().await?;
        }
        self.tasks.spawn(send(self.client.clone(), batch));
        Ok(())
    }

    async fn join_one(&mut self) -> anyhow::Result<()> {
        if let Some(done) = self.tasks.join_next().await {
            let (kind, sent, inserted) = done.context("ingest task panicked")??;
            let slot = &mut self.totals[usize::from(kind)];
            slot.0 += sent;
            slot.1 += inserted;
        }
        Ok(())
    }

    async fn drain(&mut self) -> anyhow::Result<()> {
        while !self.tasks.is_empty() {
            self.join_one().await?;
        }
        Ok(())
    }
}

fn bar(len: u64, show: bool, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos}/{len} users {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_owned());
    bar
}

/// Generates the data and sends it. `progress` shows bars on stderr.
pub async fn seed(
    client: Metrics,
    params: &SeedParams,
    progress: bool,
) -> anyhow::Result<SeedReport> {
    let model = params.model()?;
    let started = Instant::now();
    let size = params.batch_size as usize;
    let mut pipeline = Pipeline {
        client,
        tasks: JoinSet::new(),
        limit: params.concurrency as usize,
        totals: [(0, 0); 4],
    };

    // Users first: every event and payment refers to one.
    let users_bar = bar(model.users, progress, "users");
    let mut users = Vec::with_capacity(size);
    for index in 0..model.users {
        users.push(model.user(index).user);
        if users.len() == size {
            pipeline
                .push(Batch::Users(std::mem::take(&mut users)))
                .await?;
        }
        users_bar.inc(1);
    }
    if !users.is_empty() {
        pipeline.push(Batch::Users(users)).await?;
    }
    pipeline.drain().await?;
    users_bar.finish();

    let activity_bar = bar(model.users, progress, "activity");
    let mut events = Vec::with_capacity(size);
    let mut payments = Vec::with_capacity(size);
    let mut subscriptions = Vec::with_capacity(size);
    for index in 0..model.users {
        let generated = model.user(index);
        for event in generated.events {
            events.push(event);
            if events.len() == size {
                pipeline
                    .push(Batch::Events(std::mem::take(&mut events)))
                    .await?;
                activity_bar.set_message(format!("{} events sent", pipeline.totals[1].0));
            }
        }
        for payment in generated.payments {
            payments.push(payment);
            if payments.len() == size {
                pipeline
                    .push(Batch::Payments(std::mem::take(&mut payments)))
                    .await?;
            }
        }
        // A user's states travel in one batch: batches run concurrently,
        // and a later state applied first would make the earlier one stale.
        if !subscriptions.is_empty() && subscriptions.len() + generated.subscriptions.len() > size {
            pipeline
                .push(Batch::Subscriptions(std::mem::take(&mut subscriptions)))
                .await?;
        }
        subscriptions.extend(generated.subscriptions);
        activity_bar.inc(1);
    }
    if !events.is_empty() {
        pipeline.push(Batch::Events(events)).await?;
    }
    if !payments.is_empty() {
        pipeline.push(Batch::Payments(payments)).await?;
    }
    if !subscriptions.is_empty() {
        pipeline.push(Batch::Subscriptions(subscriptions)).await?;
    }
    pipeline.drain().await?;
    activity_bar.finish_with_message(format!("{} events sent", pipeline.totals[1].0));

    Ok(SeedReport {
        users: pipeline.totals[0],
        events: pipeline.totals[1],
        payments: pipeline.totals[2],
        subscriptions: pipeline.totals[3],
        elapsed: started.elapsed(),
    })
}

/// Prints a seed report.
pub fn print_report(format: Format, report: &SeedReport) {
    output::emit(
        format,
        serde_json::json!({
            "users": { "sent": report.users.0, "inserted": report.users.1 },
            "events": { "sent": report.events.0, "inserted": report.events.1 },
            "payments": { "sent": report.payments.0, "inserted": report.payments.1 },
            "subscription_states": { "sent": report.subscriptions.0, "inserted": report.subscriptions.1 },
            "elapsed_seconds": report.elapsed.as_secs_f64(),
        }),
        || {
            let mut table = output::table(["seeded", "sent", "new"]);
            for (name, (sent, new)) in [
                ("users", report.users),
                ("events", report.events),
                ("payments", report.payments),
                ("subscription states", report.subscriptions),
            ] {
                table.add_row(vec![name.to_owned(), sent.to_string(), new.to_string()]);
            }
            table
        },
    );
}

/// `growthctl seed`.
pub async fn run(target: &Target, params: &SeedParams, format: Format) -> anyhow::Result<ExitCode> {
    let client = target.metrics().await?;
    let report = seed(client, params, format != Format::Json).await?;
    print_report(format, &report);
    Ok(ExitCode::SUCCESS)
}
