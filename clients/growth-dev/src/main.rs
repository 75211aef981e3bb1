//! `growth-dev`: the developer tool of the growth services. It runs the demo
//! (both services on a local database with demo data) and the benchmarks,
//! which start the real services in-process and may use anything: the
//! servers' crates, sqlx, a fake Stripe. Users and CronJobs use `growthctl`,
//! which is only a client.

use std::process::ExitCode;

use clap::Parser;

use growth_dev::cli::{BenchCommand, Cli, Command};
use growth_dev::{bench, demo};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", growthctl::output::describe(&error));
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(&args).await,
        Command::Bench(BenchCommand::Ingest(args)) => bench::ingest(&args).await,
        Command::Bench(BenchCommand::Reconcile(args)) => bench::reconcile::run(&args),
        Command::Bench(BenchCommand::StripeFetch(args)) => bench::stripe::run(&args).await,
        Command::Bench(BenchCommand::Audit(args)) => bench::audit::run(&args).await,
        Command::Bench(BenchCommand::Lifecycle(args)) => bench::lifecycle::run(&args).await,
        Command::Bench(BenchCommand::Retention(args)) => bench::retention::run(&args).await,
        Command::Bench(BenchCommand::Webhook(args)) => bench::webhook::run(&args).await,
        Command::Bench(BenchCommand::Dashboard(args)) => bench::dashboard::run(&args).await,
    }
}
