//! `stripe events`: the Stripe webhook events the metrics service recorded,
//! with what became of each (`ListStripeEvents`).

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use growth_proto::common::v1::PageRequest;
use growth_proto::metrics::v1::{self as pb, StripeEventOutcome};
use growth_proto::timestamp::from_utc;
use serde_json::{Value, json};

use crate::cli::Format;
use crate::clients::Target;
use crate::lifecycle::names::{instant, time};
use crate::output;

/// `stripe` subcommands.
#[derive(Debug, Subcommand)]
pub enum StripeCommand {
    /// Recorded webhook events, newest first: type, outcome, API version,
    /// the payment they are about.
    Events {
        /// Only events Stripe created at or after this (RFC 3339 or YYYY-MM-DD).
        #[arg(long, value_parser = instant)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Only this type (charge.refunded) or a prefix ending in '.' (charge.).
        #[arg(long = "type")]
        kind: Option<String>,
        /// Only this outcome.
        #[arg(long, value_enum)]
        outcome: Option<OutcomeArg>,
        /// How many.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i32).range(1..=1000))]
        limit: i32,
    },
}

/// What became of an event, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutcomeArg {
    /// It changed a payment or subscription.
    Applied,
    /// It told nothing new.
    Unchanged,
    /// An older subscription state than the one recorded.
    Stale,
    /// About a payment whose PaymentIntent or Charge has not arrived yet;
    /// applied when it does.
    Waiting,
    /// A type the service does not handle.
    NotHandled,
    /// A subscription of a customer who maps to no user.
    UnknownCustomer,
}

impl OutcomeArg {
    fn proto(self) -> StripeEventOutcome {
        match self {
            Self::Applied => StripeEventOutcome::Applied,
            Self::Unchanged => StripeEventOutcome::Unchanged,
            Self::Stale => StripeEventOutcome::Stale,
            Self::Waiting => StripeEventOutcome::WaitingForPayment,
            Self::NotHandled => StripeEventOutcome::TypeNotHandled,
            Self::UnknownCustomer => StripeEventOutcome::UnknownCustomer,
        }
    }
}

/// `waiting`, `not_handled`, … as the command line names them.
fn outcome_name(v: i32) -> String {
    OutcomeArg::value_variants()
        .iter()
        .find(|o| o.proto() as i32 == v)
        .and_then(|o| o.to_possible_value())
        .map_or_else(|| "unknown".to_owned(), |p| p.get_name().to_owned())
}

fn event_json(e: &pb::StripeEvent) -> Value {
    json!({
        "event_id": e.event_id,
        "type": e.r#type,
        "created_at": output::time_json(e.created_at.as_ref()),
        "received_at": output::time_json(e.received_at.as_ref()),
        "outcome": outcome_name(e.outcome),
        "api_version": e.api_version,
        "payment": e.payment,
    })
}

/// Runs a `stripe` subcommand.
pub async fn run(
    target: &Target,
    command: &StripeCommand,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let mut client = target.metrics().await?;
    match command {
        StripeCommand::Events {
            since,
            kind,
            outcome,
            limit,
        } => {
            let events = client
                .list_stripe_events(pb::ListStripeEventsRequest {
                    since: since.map(from_utc),
                    r#type: kind.clone().unwrap_or_default(),
                    outcome: outcome.map_or(0, |o| o.proto() as i32),
                    page: Some(PageRequest {
                        page_size: *limit,
                        page_token: String::new(),
                    }),
                })
                .await?
                .into_inner()
                .events;
            let json = Value::Array(events.iter().map(event_json).collect());
            output::emit(format, json, || {
                let mut table = output::table([
                    "created",
                    "type",
                    "outcome",
                    "api version",
                    "payment",
                    "event",
                ]);
                for e in &events {
                    table.add_row(vec![
                        time(e.created_at.as_ref()),
                        e.r#type.clone(),
                        outcome_name(e.outcome),
                        e.api_version.clone(),
                        e.payment.clone(),
                        e.event_id.clone(),
                    ]);
                }
                table
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
