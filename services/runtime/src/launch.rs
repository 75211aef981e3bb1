//! The `main` of every service, written once: parse flags and environment,
//! set up logging, connect to PostgreSQL, apply (or only apply) migrations,
//! start the service, and wait for SIGTERM/Ctrl-C.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::config::{AuthPolicy, RuntimeArgs};
use crate::{RunningServer, Shutdown, db, telemetry};

/// How long start-up waits for the database to accept connections.
const DATABASE_WAIT: Duration = Duration::from_secs(60);

/// What distinguishes one service's `main` from another's.
pub struct ServiceSpec {
    /// Binary name, e.g. `metrics-svc`.
    pub name: &'static str,
    /// One-line description for `--help`.
    pub about: &'static str,
    /// Default gRPC port.
    pub grpc_port: u16,
    /// Default HTTP port.
    pub http_port: u16,
    /// The service's schema migrations.
    pub migrator: Migrator,
}

/// Everything a service needs to start serving.
pub struct Serve {
    /// gRPC listen address (port 0 picks a free port).
    pub grpc_addr: SocketAddr,
    /// HTTP listen address (port 0 picks a free port).
    pub http_addr: SocketAddr,
    /// Who may call.
    pub auth: AuthPolicy,
    /// Grace period for in-flight calls at shutdown.
    pub grace: Duration,
    /// Stops the service when fired.
    pub shutdown: Shutdown,
}

impl Serve {
    /// Loopback on free ports, with auth as given: for tests and the demo.
    pub fn loopback(auth: AuthPolicy, shutdown: Shutdown) -> Self {
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        Self {
            grpc_addr: any,
            http_addr: any,
            auth,
            grace: Duration::from_secs(5),
            shutdown,
        }
    }
}

/// Command line of a service: the shared settings plus the service's own `A`.
#[derive(Debug, Parser)]
pub struct ServiceCli<A: Args> {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<ServiceCommand>,
    /// Settings shared by the growth services.
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// Settings of this service only.
    #[command(flatten)]
    pub service: A,
}

/// For services without settings of their own.
#[derive(Debug, Clone, Default, Args)]
pub struct NoArgs {}

/// Subcommands of a service.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum ServiceCommand {
    /// Serve gRPC and HTTP (the default).
    Serve,
    /// Apply the service schema's migrations and exit.
    Migrate,
}

impl<A: Args> ServiceCli<A> {
    /// Parses the process arguments for the service `spec` describes.
    pub fn parse_for(spec: &ServiceSpec) -> Self {
        let matches = Self::command()
            .name(spec.name)
            .bin_name(spec.name)
            .about(spec.about)
            .version(env!("CARGO_PKG_VERSION"))
            .get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// A service's whole `main`: [`run`], with a failure printed as one readable
/// line (causes included) and exit code 1.
pub async fn main<A, F, Fut>(spec: ServiceSpec, start: F) -> ExitCode
where
    A: Args,
    F: FnOnce(PgPool, Serve, A) -> Fut,
    Fut: Future<Output = anyhow::Result<RunningServer>>,
{
    let name = spec.name;
    match run(spec, start).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(service = name, error.cause_chain = %format!("{error:#}"), "service failed");
            eprintln!("{name}: error: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Runs a service to completion: `start` is called with a migrated pool.
pub async fn run<A, F, Fut>(spec: ServiceSpec, start: F) -> anyhow::Result<()>
where
    A: Args,
    F: FnOnce(PgPool, Serve, A) -> Fut,
    Fut: Future<Output = anyhow::Result<RunningServer>>,
{
    let cli = ServiceCli::<A>::parse_for(&spec);
    let args = &cli.runtime;
    telemetry::init(args.log_format);
    let command = cli.command.unwrap_or(ServiceCommand::Serve);
    // Refuse a misconfiguration before waiting for the database.
    let auth = match command {
        ServiceCommand::Serve => Some(args.auth_policy()?),
        ServiceCommand::Migrate => None,
    };
    let pool = db::connect(
        &args.database_url,
        args.database_max_connections,
        DATABASE_WAIT,
    )
    .await?;
    if matches!(command, ServiceCommand::Migrate) || !args.skip_migrations {
        db::migrate(&pool, &spec.migrator).await?;
        tracing::info!(service = spec.name, "schema is up to date");
    }
    let Some(auth) = auth else {
        return Ok(());
    };
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals();
    let serve = Serve {
        grpc_addr: args
            .grpc_listen_addr
            .unwrap_or((Ipv4Addr::UNSPECIFIED, spec.grpc_port).into()),
        http_addr: args
            .http_listen_addr
            .unwrap_or((Ipv4Addr::UNSPECIFIED, spec.http_port).into()),
        auth,
        grace: args.shutdown_grace(),
        shutdown,
    };
    start(pool, serve, cli.service).await?.wait().await?;
    tracing::info!(service = spec.name, "stopped");
    Ok(())
}
