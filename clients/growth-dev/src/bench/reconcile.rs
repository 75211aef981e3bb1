//! `growth-dev bench reconcile`: the reconciliation engine on N Stripe
//! payments against N database rows (with a sprinkling of every kind of
//! discrepancy), timed as CPU time of the thread that runs it.

use std::process::ExitCode;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use clap::Args;
use metrics_svc::audit::model::{DbPayment, Status, StripePayment};
use metrics_svc::audit::reconcile::reconcile;

/// `bench reconcile` options.
#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// Stripe payments (and about as many database rows).
    #[arg(long, default_value_t = 1_000_000)]
    pub objects: usize,
}

/// CPU time this thread has used, from /proc (Linux); None elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}

fn data(n: usize) -> (Vec<StripePayment>, Vec<DbPayment>) {
    let start = Utc
        .with_ymd_and_hms(2025, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let currencies = ["usd", "eur", "gbp"];
    let stripe: Vec<StripePayment> = (0..n)
        .map(|i| StripePayment {
            stripe_id: format!("pi_{i:024x}"),
            charge_id: Some(format!("ch_{i:024x}")),
            object_type: "payment_intent",
            amount_minor: 1900 + (i % 7) as i64 * 1000,
            currency: currencies[i % 3].to_owned(),
            status: if i % 50 == 0 {
                Status::Failed
            } else {
                Status::Succeeded
            },
            refunded_minor: 0,
            created_at: start + Duration::seconds((i % 2_592_000) as i64),
            customer: Some(format!("cus_{:08}", i % 200_000)),
            invoice_id: None,
        })
        .collect();
    let mut db: Vec<DbPayment> = stripe
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 1000 != 1) // 0.1% missing
        .map(|(i, s)| DbPayment {
            payment_id: i as i64,
            stripe_id: s.stripe_id.clone(),
            charge_id: s.charge_id.clone(),
            amount_minor: if i % 1000 == 2 {
                s.amount_minor - 10
            } else {
                s.amount_minor
            },
            currency: s.currency.clone(),
            status: if i % 1000 == 3 {
                Status::Refunded
            } else {
                s.status
            },
            refunded_minor: 0,
            created_at: s.created_at,
        })
        .collect();
    // 0.1% orphans.
    for i in 0..n / 1000 {
        db.push(DbPayment {
            payment_id: (n + i) as i64,
            stripe_id: format!("pi_orphan_{i}"),
            charge_id: None,
            amount_minor: 4900,
            currency: "usd".into(),
            status: Status::Succeeded,
            refunded_minor: 0,
            created_at: start,
        });
    }
    (stripe, db)
}

/// Runs the benchmark.
pub fn run(args: &ReconcileArgs) -> anyhow::Result<ExitCode> {
    eprintln!(
        "bench: generating {} Stripe payments and their database rows ...",
        args.objects
    );
    let (stripe, db) = data(args.objects);
    let cpu_before = thread_cpu_seconds();
    let wall = Instant::now();
    let result = reconcile(&stripe, &db);
    let wall = wall.elapsed().as_secs_f64();
    let cpu = match (cpu_before, thread_cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => wall,
    };
    println!(
        "reconciled {} Stripe payments against {} rows: {} findings, {} matched",
        stripe.len(),
        db.len(),
        result.findings.len(),
        result.matched
    );
    println!(
        "CPU {cpu:.3} s, wall {wall:.3} s (target: under 2 s of CPU): {}",
        if cpu < 2.0 { "MET" } else { "MISSED" }
    );
    Ok(ExitCode::SUCCESS)
}
