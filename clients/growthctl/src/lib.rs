//! `growthctl`, the command-line client of the growth services, as a
//! library: the commands, the clients and the output formats, so that the
//! developer tool (`growth-dev`: demo, benchmarks) drives the services the
//! way a user does. It talks to the services only over gRPC.

pub mod audit;
pub mod cli;
pub mod clients;
pub mod cohorts;
pub mod health;
pub mod ingest;
pub mod insights;
pub mod jsonl;
pub mod lifecycle;
pub mod output;
pub mod progress;
pub mod resend;
pub mod revenue;
pub mod seed;
pub mod stripe;
pub mod watch;
