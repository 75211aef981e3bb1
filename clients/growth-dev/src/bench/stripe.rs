//! `growth-dev bench stripe-fetch`: fetching a month from a fake Stripe with a
//! fixed latency per page, next to the bound the rate limit sets
//! (pages ÷ rate) and next to a strictly sequential paginator (one request
//! at a time, resource types one after another), in one run.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use metrics_svc::stripe::types::{Charge, Invoice, PaymentIntent, Refund, Subscription};
use metrics_svc::stripe::{StripeClient, StripeConfig};
use secrecy::SecretString;

use super::fake_stripe::{FakeStripeArgs, MONTH};
use growthctl::output;

/// `bench stripe-fetch` options.
#[derive(Debug, Clone, Args)]
pub struct StripeFetchArgs {
    /// The fake Stripe and the client's limits.
    #[command(flatten)]
    pub fake: FakeStripeArgs,
    /// Skip the (slow) sequential reference.
    #[arg(long)]
    pub skip_sequential: bool,
}

fn config(url: &str, rate: u32, slices: u32) -> StripeConfig {
    StripeConfig {
        rate_per_second: Some(rate),
        slices,
        ..StripeConfig::new(SecretString::from("sk_live_bench".to_owned()), url)
    }
}

async fn sequential(client: &StripeClient) -> anyhow::Result<usize> {
    let (from, to) = MONTH;
    Ok(client.list_all::<PaymentIntent>(from, to).await?.len()
        + client.list_all::<Charge>(from, to).await?.len()
        + client.list_all::<Invoice>(from, to).await?.len()
        + client.list_all::<Subscription>(from, to).await?.len()
        + client.list_all::<Refund>(from, to).await?.len())
}

/// Runs the benchmark.
pub async fn run(args: &StripeFetchArgs) -> anyhow::Result<ExitCode> {
    let fake = args.fake.start().await?;
    eprintln!(
        "bench: {} objects x 5 types, {} ms per page, rate limit {}/s, {} slices",
        args.fake.objects, args.fake.latency_ms, args.fake.rate, args.fake.slices
    );

    let client = StripeClient::new(&config(&fake.url, args.fake.rate, args.fake.slices))?;
    let started = Instant::now();
    let period = client.fetch_period(MONTH.0, MONTH.1).await?;
    let concurrent = started.elapsed();
    let pages = client.requests_sent();
    let fetched = period.payment_intents.len()
        + period.charges.len()
        + period.invoices.len()
        + period.subscriptions.len()
        + period.refunds.len();
    anyhow::ensure!(
        fetched == 5 * args.fake.objects,
        "fetched {fetched} objects, expected {}",
        5 * args.fake.objects
    );
    let bound = Duration::from_secs_f64(pages as f64 / f64::from(args.fake.rate));

    let sequential_time = if args.skip_sequential {
        None
    } else {
        // One slice, no concurrency: every page waits for the one before.
        let client = StripeClient::new(&config(&fake.url, args.fake.rate, 1))?;
        let started = Instant::now();
        let n = sequential(&client).await?;
        anyhow::ensure!(n == 5 * args.fake.objects, "sequential fetched {n} objects");
        Some((started.elapsed(), client.requests_sent()))
    };

    let mut table = output::table(["method", "pages", "seconds"]);
    table.add_row(vec![
        "bound: pages / rate".to_owned(),
        pages.to_string(),
        format!("{:.2}", bound.as_secs_f64()),
    ]);
    table.add_row(vec![
        format!("concurrent ({} types x {} slices)", 5, args.fake.slices),
        pages.to_string(),
        format!("{:.2}", concurrent.as_secs_f64()),
    ]);
    if let Some((t, p)) = sequential_time {
        table.add_row(vec![
            "strictly sequential".to_owned(),
            p.to_string(),
            format!("{:.2}", t.as_secs_f64()),
        ]);
    }
    println!("{table}");
    let of_bound = concurrent.as_secs_f64() / bound.as_secs_f64();
    println!(
        "concurrent / bound = {of_bound:.2}x (target <= 1.3x): {}",
        if of_bound <= 1.3 { "MET" } else { "MISSED" }
    );
    if let Some((t, _)) = sequential_time {
        let speedup = t.as_secs_f64() / concurrent.as_secs_f64();
        println!(
            "sequential / concurrent = {speedup:.2}x (target >= 4x): {}",
            if speedup >= 4.0 { "MET" } else { "MISSED" }
        );
    }
    eprintln!("bench: the fake served {} pages in all", fake.pages());
    Ok(ExitCode::SUCCESS)
}
