//! `GetChurnReport`: who paid at the start of a month and pays nothing at its
//! end, from one query (`crate::repo::revenue`); the reply is put together by
//! `crate::api::revenue::wire`.

use chrono::{DateTime, Utc};

/// A row of the report query: the headline (`total`), one per currency
/// (`currency`) or one per churned customer and currency (`customer`).
#[derive(Debug, Clone)]
pub struct ReportRow {
    /// `total`, `currency` or `customer`.
    pub kind: String,
    /// The currency (`currency`, `customer`).
    pub currency: Option<String>,
    /// The churned user (`customer`).
    pub user_id: Option<String>,
    /// Their e-mail (`customer`).
    pub email: Option<String>,
    /// The plan they churned from (`customer`).
    pub plan: Option<String>,
    /// Customers at start (`total`), MRR at start (`currency`), MRR lost
    /// (`customer`).
    pub first: Option<i64>,
    /// Customers churned (`total`), MRR churned (`currency`).
    pub second: Option<i64>,
    /// When the customer's MRR reached zero (`customer`).
    pub churned_at: Option<DateTime<Utc>>,
}
