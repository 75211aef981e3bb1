//! The Stripe client of the revenue audit: list APIs for one UTC month,
//! paginated with `starting_after`, fetched concurrently (the five resource
//! types at once, each listing cut into time ranges while it runs, while the
//! rate limit has room: `fetch`), at a pace that adapts
//! to Stripe's 429s (`pace`), with retries that honour `Retry-After` and
//! `Stripe-Should-Retry`. The Events API (`events`) serves the audit's
//! check for webhook events that never arrived.

pub mod client;
pub mod config;
pub mod error;
pub mod events;
pub mod fetch;
pub mod normalize;
pub mod pace;
pub mod retry;
pub mod types;

pub use client::StripeClient;
pub use config::StripeConfig;
pub use error::StripeError;
