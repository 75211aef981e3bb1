//! The one set-based pass every revenue query starts with: each customer's
//! MRR per currency at a list of instants (month starts in the reporting
//! time zone), and per month the start and end value of every customer who
//! paid at either end.
//!
//! A state holds from its `effective_at` until the next state of the same
//! subscription. Instead of joining every state with every instant, each
//! paid state is turned into the range of instants it covers with two
//! binary searches (`width_bucket` over the sorted instants), so the work is
//! one pass over the history in index order plus one row per (paid state,
//! instant covered).

/// SQL parameters of [`CTES`]: `$1` the first month's first day (date),
/// `$2` the number of months, `$3` the reporting time zone.
///
/// CTEs defined:
/// - `bounds(at)`: the `$2 + 1` month-start instants, each capped at `now()`
///   (so the current month ends now);
/// - `points(user_id, currency, i, mrr, subs)`: MRR (> 0) and paid
///   subscriptions of a customer in a currency at instant `bounds.at[i]`;
/// - `pairs(user_id, currency, k, start_mrr, end_mrr, end_subs)`: for month
///   `k` (1-based, from `at[k]` to `at[k+1]`), the customer's MRR at its
///   start and end, for customers who paid at either.
pub const CTES: &str = "
    bounds AS (
        SELECT array_agg(
                   least((($1::date + make_interval(months => g))::timestamp AT TIME ZONE $3), now())
                   ORDER BY g) AS at
        FROM generate_series(0, $2::integer) AS g
    ),
    states AS (
        SELECT h.stripe_subscription_id, h.currency, h.mrr_minor, h.effective_at,
               lead(h.effective_at) OVER (PARTITION BY h.stripe_subscription_id
                                          ORDER BY h.effective_at) AS next_at
        FROM metrics.subscription_states h
    ),
    points AS (
        SELECT s.user_id, st.currency, i, sum(st.mrr_minor)::bigint AS mrr, count(*) AS subs
        FROM states st
        JOIN metrics.subscriptions s USING (stripe_subscription_id)
        CROSS JOIN bounds b
        CROSS JOIN LATERAL generate_series(
            width_bucket(st.effective_at - interval '1 microsecond', b.at) + 1,
            CASE WHEN st.next_at IS NULL THEN cardinality(b.at)
                 ELSE width_bucket(st.next_at - interval '1 microsecond', b.at) END) AS i
        WHERE st.mrr_minor > 0
          AND st.effective_at <= b.at[cardinality(b.at)]
          AND (st.next_at IS NULL OR st.next_at > b.at[1])
        GROUP BY s.user_id, st.currency, i
    ),
    pairs AS (
        SELECT p.user_id, p.currency, v.k,
               coalesce(sum(p.mrr) FILTER (WHERE p.i = v.k), 0)::bigint AS start_mrr,
               coalesce(sum(p.mrr) FILTER (WHERE p.i = v.k + 1), 0)::bigint AS end_mrr,
               coalesce(sum(p.subs) FILTER (WHERE p.i = v.k + 1), 0)::bigint AS end_subs
        FROM points p
        CROSS JOIN LATERAL (VALUES (p.i), (p.i - 1)) AS v(k)
        CROSS JOIN bounds b
        WHERE v.k BETWEEN 1 AND cardinality(b.at) - 1
        GROUP BY p.user_id, p.currency, v.k
    )";
