//! Cohort results onto the wire.

use std::collections::BTreeMap;

use growth_proto::common::v1::Money;
use growth_proto::metrics::v1 as pb;

use crate::cohorts::measure::Mode;
use crate::cohorts::overview::OverviewRow;
use crate::cohorts::read::{Cell, Row};
use crate::cohorts::revenue::CohortRevenue;

fn rate(retained: i64, size: i64) -> f64 {
    if size > 0 {
        retained as f64 / size as f64
    } else {
        0.0
    }
}

fn cell(c: &Cell, size: i64, revenue: Vec<Money>) -> pb::RetentionCell {
    pb::RetentionCell {
        offset: c.offset,
        retained_users: c.retained,
        retention_rate: rate(c.retained, size),
        incomplete: c.incomplete,
        revenue,
    }
}

/// A matrix row; with `revenue`, every cell carries the revenue of `mode`
/// per currency of the cohort (currencies in order).
pub fn row(
    row: Row,
    segment: &str,
    revenue: Option<&BTreeMap<String, CohortRevenue>>,
    mode: Mode,
) -> pb::CohortRow {
    let per_currency: Vec<(&String, Vec<i64>)> = revenue
        .into_iter()
        .flatten()
        .map(|(currency, r)| (currency, r.cells(mode)))
        .collect();
    pb::CohortRow {
        cohort: row.cohort.to_string(),
        segment: segment.to_owned(),
        cohort_size: row.size,
        cells: row
            .cells
            .iter()
            .map(|c| {
                let money = per_currency
                    .iter()
                    .map(|(currency, values)| Money {
                        amount_minor: values.get(c.offset as usize).copied().unwrap_or(0),
                        currency: (*currency).clone(),
                    })
                    .collect();
                cell(c, row.size, money)
            })
            .collect(),
    }
}

/// An overview row with the stored cells at `checkpoints` (those begun).
pub fn overview_row(o: OverviewRow, checkpoints: &[i32]) -> pb::CohortOverviewRow {
    let checkpoints = o
        .stored
        .iter()
        .flat_map(|stored| {
            stored
                .cells
                .iter()
                .filter(|c| checkpoints.contains(&c.offset))
                .map(|c| cell(c, stored.size, vec![]))
        })
        .collect();
    pb::CohortOverviewRow {
        cohort: o.cohort.to_string(),
        users: o.users,
        paying_users: o.paying,
        conversion_rate: rate(o.paying, o.users),
        revenue: o
            .revenue
            .into_iter()
            .map(|(currency, amount_minor)| Money {
                amount_minor,
                currency,
            })
            .collect(),
        checkpoints,
    }
}
