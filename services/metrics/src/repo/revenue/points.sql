
    bounds AS (
        SELECT array_agg(least(metrics.local_day_start(b.day, $3), now()) ORDER BY b.g) AS at
        FROM unnest($1::date[]) WITH ORDINALITY AS b(day, g)
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
    )