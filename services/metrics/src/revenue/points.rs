//! The one set-based pass every revenue query starts with: each customer's
//! MRR per currency, as changes.
//!
//! Nothing is valued customer by customer and month by month. Every state
//! is turned into a change of its customer's MRR (minus the previous state's
//! MRR, plus its own), each change is put in the month it falls in with a
//! binary search over the sorted month boundaries (`width_bucket`), the
//! changes are summed per customer, currency and month, and a running sum
//! over a customer's months gives their MRR at each month's start and end.
//! A customer whose MRR did not change in a month costs nothing for that
//! month: month totals are running sums over the months' changes. The work
//! is one pass over the history, whatever the number of months.

/// SQL parameters of [`CTES`]: `$1` the first month's first day (date),
/// `$2` the number of months `n`, `$3` the reporting time zone.
///
/// CTEs defined:
/// - `bounds(at)`: the `n + 1` month-start instants `at[1..=n+1]`, each
///   capped at `now()` (so the current month ends now). MRR "at" an instant
///   counts the latest state of each subscription at or before it, so month
///   `m` runs over changes in `(at[m], at[m+1]]`;
/// - `pairs(user_id, currency, m, start_mrr, end_mrr, subs, paid_before)`:
///   one row per customer, currency and month `m` (1..=n) in which their MRR
///   changed, plus `m = 0` for their history up to `at[1]`: MRR at the
///   month's start and end, the change in their paid subscriptions, and
///   whether they had MRR > 0 at any time before the month.
pub const CTES: &str = "
    bounds AS (
        SELECT array_agg(
                   least((($1::date + make_interval(months => g))::timestamp AT TIME ZONE $3), now())
                   ORDER BY g) AS at
        FROM generate_series(0, $2::integer) AS g
    ),
    steps AS (
        SELECT h.stripe_subscription_id, h.effective_at, h.currency, h.mrr_minor,
               lag(h.currency) OVER w AS prev_currency, lag(h.mrr_minor) OVER w AS prev_mrr
        FROM metrics.subscription_states h
        WINDOW w AS (PARTITION BY h.stripe_subscription_id ORDER BY h.effective_at)
    ),
    deltas AS (
        SELECT s.user_id, d.currency, d.mrr, d.subs,
               width_bucket(st.effective_at - interval '1 microsecond', b.at) AS m
        FROM steps st
        JOIN metrics.subscriptions s USING (stripe_subscription_id)
        CROSS JOIN bounds b
        CROSS JOIN LATERAL (VALUES
            (st.currency, st.mrr_minor, (st.mrr_minor > 0)::integer),
            (st.prev_currency, -st.prev_mrr, -(st.prev_mrr > 0)::integer)
        ) AS d(currency, mrr, subs)
        WHERE st.effective_at <= b.at[cardinality(b.at)] AND d.mrr <> 0
    ),
    buckets AS (
        SELECT user_id, currency, m, sum(mrr) AS d_mrr, sum(subs) AS subs
        FROM deltas
        GROUP BY user_id, currency, m
    ),
    pairs AS (
        SELECT user_id, currency, m, subs::bigint,
               (sum(d_mrr) OVER w - d_mrr)::bigint AS start_mrr,
               (sum(d_mrr) OVER w)::bigint AS end_mrr,
               -- The first change of a customer's MRR is a rise from 0, so
               -- they had MRR > 0 before a month iff they changed before it.
               (lag(m) OVER w IS NOT NULL) AS paid_before
        FROM buckets
        WINDOW w AS (PARTITION BY user_id, currency ORDER BY m)
    )";
