//! The `lifecycle` schema's queries, one module per table. Functions take a
//! pool or a connection inside a transaction the caller commits.

pub mod cursor;
pub mod deliveries;
pub mod profiles;
pub mod rules;
pub mod transitions;

/// Every batch that writes stages takes this transaction-level advisory lock
/// first, so the feed consumer and a bulk evaluation never both decide a
/// user's next stage from the same old one.
pub const WRITE_LOCK: i64 = 0x6c69_6665_7772_6974; // "lifewrit"

/// Held (session level) by the bulk evaluation that is running.
pub const EVALUATION_LOCK: i64 = 0x6c69_6665_6576_616c; // "lifeeval"

/// Held (session level) by the replica that follows the metrics feed.
pub const FEED_LOCK: i64 = 0x6c69_6665_6665_6564; // "lifefeed"
