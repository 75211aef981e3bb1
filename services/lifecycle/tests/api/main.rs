//! The lifecycle service's integration tests: the real lifecycle and metrics
//! services on one fresh PostgreSQL database per test, Kit as a local fake.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

mod fake_kit;
mod feed;
mod helpers;
mod kit_client;
mod kit_failures;
mod outbox;
mod outbox_takeover;
mod stages;
mod sweep;
mod trigger_rules;
mod user_ids;
