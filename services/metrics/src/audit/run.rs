//! Running an audit: one month at a time (an advisory lock refuses a second
//! audit of the same month), Stripe fetched, reconciled against the month's
//! rows, repaired if asked, and stored with its findings in one transaction.
//! Missed webhook events are found meanwhile, and a repair replays them
//! before the month's rows are read (`missed`). A dry run writes nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use growth_runtime::SessionLock;
use uuid::Uuid;

use super::drift::{self, Drift};
use super::entitlements;
use super::findings::Kind;
use super::missed::{self, Missed};
use super::model::StripePayment;
use super::month::Month;
use super::phases::{Phases, timed};
use super::reconcile::{Reconciliation, reconcile};
use super::record::AuditRecord;
use super::refunds::{RefundMade, add_refunds_made};
use super::repair;
use super::report::Header;
use super::stale;
use super::verdict::{Verdict, recommendations, refund_recommendations, verdict};
use crate::error::MetricsError;
use crate::repo::audit::{self as repo, Completed};
use crate::repo::locks;
use crate::state::Metrics;
use crate::stripe::fetch::StripePeriod;
use crate::stripe::{StripeClient, normalize};

/// What one reconciliation concluded.
pub struct AuditOutcome {
    /// Findings and totals.
    pub reconciliation: Reconciliation,
    /// PASS / WARNING / FAIL.
    pub verdict: Verdict,
    /// What to do.
    pub recommendations: Vec<String>,
    /// Objects fetched per Stripe resource type.
    pub stripe_counts: Vec<(&'static str, usize)>,
    /// Captured payments missing from the database: what a repair inserts.
    pub to_backfill: usize,
    /// Missing payments that took no money (failed, canceled, uncaptured,
    /// pending): findings, never backfilled.
    pub not_backfilled: usize,
    /// Stripe ids backfilled (or, in a dry run, that would be).
    pub repaired: Option<Vec<String>>,
    /// What a repair did about entitlement drift, a line per subscription
    /// (or, in a dry run, would do).
    pub drift_repairs: Vec<String>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Missed webhook events, and their replays.
    pub missed: Missed,
}

/// What the run fetched besides the month, and what it concluded from it.
struct Beside {
    /// The entitlement drift.
    drift: Drift,
    /// Live subscriptions listed.
    live: usize,
    /// Stripe's objects of the subscriptions a repair records.
    to_record: Vec<serde_json::Value>,
    /// When Stripe was read.
    now: DateTime<Utc>,
    /// Missed webhook events, and their replays.
    missed: Missed,
    /// How long each phase so far took.
    phases: Phases,
}

/// Audits `month`. The work runs in its own task, so a caller that goes
/// away does not leave a run half-done.
pub async fn run(
    state: &Metrics,
    month: Month,
    repair: bool,
    dry_run: bool,
) -> Result<AuditRecord, MetricsError> {
    let Some(stripe) = state.stripe.clone() else {
        return Err(MetricsError::Precondition(
            "the revenue audit needs a Stripe key: set STRIPE_SECRET_KEY on the metrics service"
                .into(),
        ));
    };
    let state = state.clone();
    tokio::spawn(async move { run_locked(&state, &stripe, month, repair, dry_run).await })
        .await
        .map_err(|e| MetricsError::Internal(format!("audit task failed: {e}")))?
}

async fn run_locked(
    state: &Metrics,
    stripe: &StripeClient,
    month: Month,
    repair: bool,
    dry_run: bool,
) -> Result<AuditRecord, MetricsError> {
    let Some(lock) =
        SessionLock::try_acquire(&state.pool, locks::audit_month(month.year, month.month)).await?
    else {
        return Err(MetricsError::Aborted(format!(
            "an audit of {month} is already running; run it again when that one has finished"
        )));
    };
    let result = audit(state, stripe, month, repair, dry_run).await;
    lock.release().await;
    result
}

async fn audit(
    state: &Metrics,
    stripe: &StripeClient,
    month: Month,
    repair: bool,
    dry_run: bool,
) -> Result<AuditRecord, MetricsError> {
    let run_id = Uuid::new_v4();
    let started_at = Utc::now();
    let mut record = AuditRecord::started(run_id, month.to_string(), repair, dry_run, started_at);
    if !dry_run {
        repo::insert_started(&state.pool, run_id, &record.month, repair, started_at).await?;
    }
    let (from, to) = (month.start(), month.end());
    let now = Utc::now();
    // Missed events are replayed before the month's rows and the granted
    // subscriptions are read.
    let mut phases = Phases::default();
    let (fetched, (missed, missed_took)) = tokio::join!(
        async {
            tokio::try_join!(
                async {
                    let (period, took) =
                        timed(stripe.fetch_period(from.timestamp(), to.timestamp())).await;
                    period.map(|p| (p, took))
                },
                async {
                    let (live, took) = timed(entitlements::list_live(stripe, now)).await;
                    live.map(|l| (l, took))
                },
            )
        },
        timed(missed::recover(
            &state.pool,
            stripe,
            (from, to),
            now,
            repair,
            dry_run
        ))
    );
    let ((period, period_took), (live, live_took)) = match fetched {
        Ok(fetched) => fetched,
        Err(error) => {
            tracing::warn!(%month, error = %error, "revenue audit could not fetch from Stripe");
            return failed(state, record, error.to_string()).await;
        }
    };
    let missed = match missed {
        Ok(missed) => missed,
        Err(error) => return failed(state, record, error.to_string()).await,
    };
    phases.add("the month's objects listed", period_took);
    phases.add("live subscriptions listed", live_took);
    phases.add("missed events listed, looked up and replayed", missed_took);
    let granted = phases
        .time("granted subscriptions read", repo::granted(&state.pool))
        .await?;
    let drift = drift::drift(&live, &granted, &state.drift, now);
    let to_record = if repair && !dry_run {
        match entitlements::objects_to_record(stripe, &live, &drift.to_record).await {
            Ok(objects) => objects,
            Err(error) => return failed(state, record, error.to_string()).await,
        }
    } else {
        Vec::new()
    };
    let beside = Beside {
        drift,
        live: live.len(),
        to_record,
        now,
        missed,
        phases,
    };
    match reconcile_and_store(state, &mut record, month, &period, repair, beside).await {
        Ok(()) => Ok(record),
        Err(error) => {
            if !dry_run {
                let _ = repo::mark_failed(
                    &state.pool,
                    run_id,
                    "internal error; see the metrics service log",
                )
                .await;
            }
            Err(error)
        }
    }
}

async fn failed(
    state: &Metrics,
    mut record: AuditRecord,
    error: String,
) -> Result<AuditRecord, MetricsError> {
    if !record.dry_run {
        repo::mark_failed(&state.pool, record.run_id, &error).await?;
    }
    record.status = "failed".into();
    record.finished_at = Some(Utc::now());
    record.error = Some(error);
    Ok(record)
}

async fn reconcile_and_store(
    state: &Metrics,
    record: &mut AuditRecord,
    month: Month,
    period: &StripePeriod,
    repair: bool,
    beside: Beside,
) -> Result<(), MetricsError> {
    let dry_run = record.dry_run;
    let mut phases = beside.phases;
    let (from, to) = (month.start(), month.end());
    let (db, db_refunds) = phases
        .time("the month's rows read", async {
            tokio::try_join!(
                repo::month_payments(&state.pool, from, to),
                repo::month_refunds(&state.pool, from, to),
            )
        })
        .await?;
    let reconciling = tokio::time::Instant::now();
    let stripe_payments = normalize::payments(period);
    let stripe_refunds: Vec<RefundMade> = period
        .refunds
        .iter()
        .map(|r| RefundMade {
            currency: r.currency.to_ascii_lowercase(),
            amount_minor: r.amount,
            status: r.status.clone(),
            charge: r.charge.clone(),
            payment_intent: r.payment_intent.clone(),
            created_at: DateTime::from_timestamp(r.created, 0).unwrap_or(from),
        })
        .collect();
    // CPU-bound (0.45 s for a million payments): off the async workers.
    let (mut reconciliation, stripe_payments, stripe_refunds) =
        tokio::task::spawn_blocking(move || {
            let mut reconciliation = reconcile(&stripe_payments, &db);
            add_refunds_made(&mut reconciliation.totals, &stripe_refunds, &db_refunds);
            (reconciliation, stripe_payments, stripe_refunds)
        })
        .await
        .map_err(|e| MetricsError::Internal(format!("reconciliation failed: {e}")))?;
    let drift_ids = beside.drift.to_record.clone();
    reconciliation.findings.extend(beside.drift.findings);
    reconciliation
        .findings
        .extend(stale::stale(period, state.drift.stale_after, beside.now));
    reconciliation.findings.extend(beside.missed.findings());
    let verdict = verdict(&reconciliation, &state.thresholds);
    let mut recommendations = recommendations(&reconciliation.findings);
    recommendations.extend(refund_recommendations(&reconciliation.totals));
    let by_id: HashMap<&str, &StripePayment> = stripe_payments
        .iter()
        .map(|p| (p.stripe_id.as_str(), p))
        .collect();
    // Only payments that took money are backfilled: the repair restores
    // revenue, and a failed, canceled or uncaptured payment has none (the
    // webhook records it with its status when its events arrive).
    let (missing, not_captured): (Vec<&StripePayment>, Vec<&StripePayment>) = reconciliation
        .findings
        .iter()
        .filter(|f| f.kind == Kind::MissingInDb)
        .filter_map(|f| by_id.get(f.stripe_id.as_str()).copied())
        .partition(|p| p.status.captured());
    let mut outcome = AuditOutcome {
        verdict,
        recommendations,
        stripe_counts: vec![
            ("payment intents", period.payment_intents.len()),
            ("charges", period.charges.len()),
            ("invoices", period.invoices.len()),
            ("subscriptions", period.subscriptions.len()),
            ("refunds (any status)", period.refunds.len()),
            ("live subscriptions (any month)", beside.live),
        ],
        to_backfill: missing.len(),
        not_backfilled: not_captured.len(),
        repaired: None,
        drift_repairs: Vec::new(),
        dry_run,
        reconciliation,
        missed: beside.missed,
    };
    phases.add("reconciled", reconciling.elapsed());
    let repairing = tokio::time::Instant::now();
    let mut tx = state.pool.begin().await?;
    if repair {
        outcome.repaired = Some(if dry_run {
            missing.iter().map(|p| p.stripe_id.clone()).collect()
        } else {
            repair::backfill(&mut tx, &missing, &stripe_refunds, to).await?
        });
        outcome.drift_repairs = if dry_run {
            drift_ids
                .iter()
                .map(|id| format!("{id}: would be recorded as Stripe has it"))
                .collect()
        } else {
            repair::record_drift(&mut tx, &beside.to_record, beside.now).await?
        };
        phases.add("repaired", repairing.elapsed());
    }
    let finished = Utc::now();
    let header = Header {
        month: record.month.clone(),
        run_id: (!dry_run).then_some(record.run_id),
        from,
        to,
        started_at: record.started_at,
        finished_at: finished,
    };
    let report = phases
        .time("report written", async {
            super::report::markdown(&header, &outcome)
        })
        .await;
    let storing = tokio::time::Instant::now();
    if !dry_run {
        repo::complete(
            &mut tx,
            record.run_id,
            &Completed {
                verdict: outcome.verdict.as_str(),
                totals: &outcome.reconciliation.totals,
                findings: &outcome.reconciliation.findings,
                recommendations: &outcome.recommendations,
                repaired: outcome.repaired.as_deref(),
                replayed: outcome.missed.replayed.as_deref().unwrap_or_default(),
                drift_repairs: &outcome.drift_repairs,
                report_markdown: &report,
                finished_at: finished,
            },
        )
        .await?;
        let alert = outcome.verdict != Verdict::Pass && !state.alerts.channels.is_empty();
        if alert {
            // Queued with the run: a crash loses no alert, a retry sends none twice.
            crate::repo::alerts::enqueue(
                &mut tx,
                record.run_id,
                &state.alerts.channels,
                &record.month,
                outcome.verdict.as_str(),
                &format!("Revenue audit {}", record.month),
                &report,
            )
            .await?;
        }
        tx.commit().await?;
        if alert {
            state.alerts.wake();
        }
    } else {
        tx.rollback().await?;
    }
    phases.add("stored", storing.elapsed());
    tracing::info!(
        month = %record.month,
        run_id = %record.run_id,
        findings = outcome.reconciliation.findings.len(),
        phases = %phases,
        "revenue audit completed"
    );
    record.finished_at = Some(finished);
    record.status = "completed".into();
    record.verdict = Some(outcome.verdict);
    record.finding_count = outcome.reconciliation.findings.len() as i64;
    record.totals = outcome.reconciliation.totals;
    record.findings = outcome.reconciliation.findings;
    record.recommendations = outcome.recommendations;
    record.repaired = outcome.repaired;
    record.replayed_events = outcome.missed.replayed.unwrap_or_default();
    record.drift_repairs = outcome.drift_repairs;
    record.report_markdown = report;
    Ok(())
}
