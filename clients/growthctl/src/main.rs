//! `growthctl`: the command-line client of the growth services.

use std::process::ExitCode;

use clap::Parser;

use growthctl::cli::{
    Cli, Command, EventsCommand, PaymentsCommand, SubscriptionsCommand, UsersCommand,
};
use growthctl::{
    audit, clients, cohorts, health, ingest, insights, lifecycle, output, revenue, seed, stripe,
    watch,
};

/// `growthctl … | head` closes our stdout early; `println!` then panics with
/// a broken pipe. Exit quietly with the shell's SIGPIPE status instead, as
/// other command-line tools do (the standard library ignores SIGPIPE, and
/// restoring it would need unsafe code, which the workspace forbids).
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

#[tokio::main]
async fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", output::describe(&error));
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let target = clients::Target::from_cli(&cli)?;
    match cli.command {
        Command::Health(args) => health::run(&target, &args, cli.format).await,
        Command::Users(UsersCommand::Upsert(input)) => {
            ingest::users(&target, &input, cli.format).await
        }
        Command::Events(EventsCommand::Track(input)) => {
            ingest::events(&target, &input, cli.format).await
        }
        Command::Events(EventsCommand::Watch(args)) => watch::run(&target, &args, cli.format).await,
        Command::Payments(PaymentsCommand::Import(input)) => {
            ingest::payments(&target, &input, cli.format).await
        }
        Command::Subscriptions(SubscriptionsCommand::Import(input)) => {
            ingest::subscriptions(&target, &input, cli.format).await
        }
        Command::Audit(command) => audit::run(&target, &command, cli.format).await,
        Command::Lifecycle(command) => lifecycle::run(&target, &command, cli.format).await,
        Command::Cohorts(command) => cohorts::run(&target, &command, cli.format).await,
        Command::Revenue(command) => revenue::run(&target, &command, cli.format).await,
        Command::Stripe(command) => stripe::run(&target, &command, cli.format).await,
        Command::Insights(command) => insights::run(&target, &command, cli.format).await,
        Command::Seed(params) => seed::run(&target, &params, cli.format).await,
    }
}
