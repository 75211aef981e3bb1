//! The reconciliation engine: pure, no I/O. Matches Stripe payments to
//! database rows by Stripe id (or charge id), classifies every discrepancy,
//! and totals both sides per currency (two currencies are never added).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::findings::{Amount, Finding, Kind, Severity};
use super::model::{DbPayment, Status, StripePayment};

/// Gross, refunds and counts of one currency on both sides, in two readings:
/// the month's money as finance reads it (captured in the month minus the
/// refunds made in it: [`CurrencyTotals::stripe_month_net`]) and the month's
/// charges net of what was refunded on them to date
/// ([`CurrencyTotals::stripe_net`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CurrencyTotals {
    /// Lower-case ISO currency.
    pub currency: String,
    /// Stripe payments created in the month, any status.
    pub stripe_count: i64,
    /// Captured by Stripe on the month's payments, minor units.
    pub stripe_gross: i64,
    /// Refunded to date on the month's captured Stripe payments, minor units.
    pub stripe_refunds: i64,
    /// Database rows created in the month, any status.
    pub db_count: i64,
    /// Captured per the database on the month's payments, minor units.
    pub db_gross: i64,
    /// Refunded to date on the month's captured database payments, minor units.
    pub db_refunds: i64,
    /// Stripe refunds made in the month, whatever charge they refund, minor
    /// units. Runs stored before this was counted read 0.
    #[serde(default)]
    pub stripe_refunds_in_month: i64,
    /// Refunds made in the month per `metrics.payment_refunds`, whatever
    /// payment they belong to, minor units.
    #[serde(default)]
    pub db_refunds_in_month: i64,
}

impl CurrencyTotals {
    /// Stripe gross minus what was refunded on those payments to date.
    pub fn stripe_net(&self) -> i64 {
        self.stripe_gross - self.stripe_refunds
    }

    /// Database gross minus what was refunded on those payments to date.
    pub fn db_net(&self) -> i64 {
        self.db_gross - self.db_refunds
    }

    /// Net revenue of the month per Stripe: captured in it minus the refunds
    /// made in it.
    pub fn stripe_month_net(&self) -> i64 {
        self.stripe_gross - self.stripe_refunds_in_month
    }

    /// Net revenue of the month per the database, computed as Stripe's.
    pub fn db_month_net(&self) -> i64 {
        self.db_gross - self.db_refunds_in_month
    }
}

/// The outcome of one reconciliation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reconciliation {
    /// Discrepancies, most severe first.
    pub findings: Vec<Finding>,
    /// Totals per currency, by currency code.
    pub totals: Vec<CurrencyTotals>,
    /// Stripe payments matched to exactly one row.
    pub matched: usize,
}

fn amount(minor: i64, currency: &str) -> Option<Amount> {
    Some(Amount {
        minor,
        currency: currency.to_owned(),
    })
}

fn describe(p: &StripePayment) -> String {
    format!(
        "{} payment of {} {} created {}",
        p.status.as_str(),
        p.amount_minor,
        p.currency,
        p.created_at.format("%Y-%m-%d %H:%M UTC")
    )
}

/// Database rows by every Stripe id they carry (their own id and their
/// charge id), without an allocation per row: the map holds the first entry
/// of a chain, `entries` the rest.
struct RowIndex<'a> {
    heads: FxHashMap<&'a str, u32>,
    /// (row, next entry or `u32::MAX`).
    entries: Vec<(u32, u32)>,
}

impl<'a> RowIndex<'a> {
    fn new(db: &'a [DbPayment]) -> Self {
        let mut index = Self {
            heads: FxHashMap::with_capacity_and_hasher(db.len() * 2, Default::default()),
            entries: Vec::with_capacity(db.len() * 2),
        };
        for (row, payment) in db.iter().enumerate() {
            index.insert(&payment.stripe_id, row);
            if let Some(charge) = payment
                .charge_id
                .as_deref()
                .filter(|c| *c != payment.stripe_id)
            {
                index.insert(charge, row);
            }
        }
        index
    }

    fn insert(&mut self, key: &'a str, row: usize) {
        let entry = self.entries.len() as u32;
        let next = self.heads.insert(key, entry).unwrap_or(u32::MAX);
        self.entries.push((row as u32, next));
    }

    /// Appends the rows carrying `key` to `out`.
    fn rows_for(&self, key: &str, out: &mut Vec<usize>) {
        let mut at = self.heads.get(key).copied().unwrap_or(u32::MAX);
        while at != u32::MAX {
            let (row, next) = self.entries[at as usize];
            out.push(row as usize);
            at = next;
        }
    }
}

/// Reconciles one period's Stripe payments with the database rows of the
/// same period.
pub fn reconcile(stripe: &[StripePayment], db: &[DbPayment]) -> Reconciliation {
    let index = RowIndex::new(db);
    let mut matched_rows = vec![false; db.len()];
    let mut findings = Vec::new();
    let mut matched = 0;
    let mut rows: Vec<usize> = Vec::with_capacity(4);
    for s in stripe {
        rows.clear();
        index.rows_for(&s.stripe_id, &mut rows);
        if let Some(charge) = &s.charge_id {
            index.rows_for(charge, &mut rows);
        }
        rows.sort_unstable();
        rows.dedup();
        for &r in &rows {
            matched_rows[r] = true;
        }
        match rows.as_slice() {
            [] => findings.push(Finding {
                kind: Kind::MissingInDb,
                severity: if s.status.captured() {
                    Severity::Critical
                } else {
                    Severity::Info
                },
                object_type: s.object_type,
                stripe_id: s.stripe_id.clone(),
                db_payment_ids: vec![],
                reason: format!("{} is not in the database", describe(s)),
                stripe_amount: amount(s.amount_minor, &s.currency),
                db_amount: None,
                stripe_status: Some(s.status),
                db_status: None,
            }),
            [one] => {
                matched += 1;
                compare(s, &db[*one], &mut findings);
            }
            many => findings.push(Finding {
                kind: Kind::DuplicateRows,
                severity: Severity::Critical,
                object_type: s.object_type,
                stripe_id: s.stripe_id.clone(),
                db_payment_ids: many.iter().map(|&r| db[r].payment_id).collect(),
                reason: format!(
                    "{} database rows (ids {}) for one Stripe payment",
                    many.len(),
                    many.iter()
                        .map(|&r| db[r].payment_id.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                stripe_amount: amount(s.amount_minor, &s.currency),
                db_amount: None,
                stripe_status: Some(s.status),
                db_status: None,
            }),
        }
    }

    for (row, _) in db.iter().zip(&matched_rows).filter(|(_, m)| !**m) {
        findings.push(Finding {
            kind: Kind::OrphanedInDb,
            severity: if row.status.captured() {
                Severity::Critical
            } else {
                Severity::Warning
            },
            object_type: "",
            stripe_id: row.stripe_id.clone(),
            db_payment_ids: vec![row.payment_id],
            reason: format!(
                "database row {} ({} {} {}) has no Stripe payment in this period",
                row.payment_id,
                row.status.as_str(),
                row.amount_minor,
                row.currency
            ),
            stripe_amount: None,
            db_amount: amount(row.amount_minor, &row.currency),
            stripe_status: None,
            db_status: Some(row.status),
        });
    }

    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.stripe_id.cmp(&b.stripe_id))
    });
    Reconciliation {
        findings,
        totals: totals(stripe, db),
        matched,
    }
}

/// Field-by-field comparison of a Stripe payment and its one row.
fn compare(s: &StripePayment, d: &DbPayment, findings: &mut Vec<Finding>) {
    let finding = |kind, severity, reason: String| Finding {
        kind,
        severity,
        object_type: s.object_type,
        stripe_id: s.stripe_id.clone(),
        db_payment_ids: vec![d.payment_id],
        reason,
        stripe_amount: amount(s.amount_minor, &s.currency),
        db_amount: amount(d.amount_minor, &d.currency),
        stripe_status: Some(s.status),
        db_status: Some(d.status),
    };
    if s.currency != d.currency {
        findings.push(finding(
            Kind::CurrencyMismatch,
            Severity::Critical,
            format!("currency {} in Stripe vs {} in DB", s.currency, d.currency),
        ));
    }
    if s.amount_minor != d.amount_minor {
        findings.push(finding(
            Kind::AmountMismatch,
            Severity::Critical,
            format!(
                "amount {} in Stripe vs {} in DB",
                s.amount_minor, d.amount_minor
            ),
        ));
    }
    let refund_missing = s.refunded_minor > d.refunded_minor;
    if refund_missing {
        findings.push(finding(
            Kind::RefundNotRecorded,
            Severity::Warning,
            format!(
                "refunded {} in Stripe vs {} in DB",
                s.refunded_minor, d.refunded_minor
            ),
        ));
    } else if s.refunded_minor < d.refunded_minor {
        findings.push(finding(
            Kind::StatusDrift,
            Severity::Critical,
            format!(
                "refunded {} in Stripe vs {} in DB: the database records refunds Stripe does not have",
                s.refunded_minor, d.refunded_minor
            ),
        ));
    }
    // A status that differs only because the refund is missing is already
    // reported as the refund.
    let explained_by_refund = refund_missing
        && d.status == Status::Succeeded
        && matches!(s.status, Status::Refunded | Status::PartiallyRefunded);
    if s.status != d.status && !explained_by_refund {
        let money_at_stake = s.status.captured() != d.status.captured();
        findings.push(finding(
            Kind::StatusDrift,
            if money_at_stake {
                Severity::Critical
            } else {
                Severity::Warning
            },
            format!(
                "status {} in Stripe vs {} in DB",
                s.status.as_str(),
                d.status.as_str()
            ),
        ));
    }
}

fn totals(stripe: &[StripePayment], db: &[DbPayment]) -> Vec<CurrencyTotals> {
    let mut by_currency: BTreeMap<&str, CurrencyTotals> = BTreeMap::new();
    for s in stripe {
        let t = by_currency
            .entry(s.currency.as_str())
            .or_insert_with(|| CurrencyTotals {
                currency: s.currency.clone(),
                ..Default::default()
            });
        t.stripe_count += 1;
        if s.status.captured() {
            t.stripe_gross += s.amount_minor;
            t.stripe_refunds += s.refunded_minor;
        }
    }
    for d in db {
        let t = by_currency
            .entry(d.currency.as_str())
            .or_insert_with(|| CurrencyTotals {
                currency: d.currency.clone(),
                ..Default::default()
            });
        t.db_count += 1;
        if d.status.captured() {
            t.db_gross += d.amount_minor;
            t.db_refunds += d.refunded_minor;
        }
    }
    by_currency.into_values().collect()
}
