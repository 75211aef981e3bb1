//! The `lifecycle` schema's queries, one module per table. Functions take a
//! pool or a connection inside a transaction the caller commits.

pub mod cursor;
pub mod deliveries;
pub mod locks;
pub mod profiles;
pub mod rules;
pub mod transitions;

/// The connection pool the repository functions run on.
pub type Pool = sqlx::PgPool;
/// What a repository function fails with.
pub type DbError = sqlx::Error;
/// A JSON column of a row.
pub use sqlx::types::Json;
