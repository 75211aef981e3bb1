//! Integration tests of the metrics service: the real server on
//! 127.0.0.1:0 against a fresh PostgreSQL database per test, called through
//! the generated client.

mod active_users;
mod activity;
mod ai_summary;
mod alerts;
mod audit;
mod audit_drift;
mod audit_missed_events;
mod audit_money;
mod auth;
mod cohort_breakdown;
mod cohort_fixtures;
mod cohort_pending;
mod cohort_revenue;
mod cohort_rollup;
mod cohort_value;
mod cohorts;
mod dashboard;
mod dashboard_gzip;
mod dashboard_overview;
mod fake_anthropic;
mod fake_lifecycle;
mod fake_stripe;
mod feed;
mod helpers;
mod ingest;
mod insights;
mod lifecycle_of_the_server;
mod revenue;
mod revenue_fixtures;
mod secrets;
mod stripe_client;
mod stripe_objects;
mod subscription_import;
mod sweep;
mod user_ids;
mod validation;
mod webhook;
mod webhook_order;
mod webhook_payments;
