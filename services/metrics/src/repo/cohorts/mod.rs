//! The cohorts' SQL: the rollup's writes at ingest (`rollup`), the fold of
//! pending activity (`fold`), the rebuild from the raw events (`rebuild`),
//! reading users into matrices and writing user cells (`store`), revenue
//! flows and cells (`revenue`), the refresh's bookkeeping (`refreshes`),
//! reading the stored cells back (`read`) and a breakdown's snapshot
//! (`breakdown`).

pub mod breakdown;
pub mod fold;
pub mod read;
pub mod rebuild;
pub mod refreshes;
pub mod revenue;
pub mod rollup;
pub mod store;
