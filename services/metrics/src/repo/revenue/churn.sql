
    month AS (
        -- Per customer and currency: MRR at the month's start and end (a
        -- customer without a change in the month keeps their value).
        SELECT user_id, currency,
               coalesce(max(start_mrr) FILTER (WHERE m = 1), max(end_mrr) FILTER (WHERE m = 0), 0)
                   AS start_mrr,
               coalesce(max(end_mrr) FILTER (WHERE m = 1), max(end_mrr) FILTER (WHERE m = 0), 0)
                   AS end_mrr
        FROM pairs GROUP BY user_id, currency
    ),
    customers AS (
        SELECT user_id, bool_or(start_mrr > 0) AS paying_start, bool_or(end_mrr > 0) AS paying_end
        FROM month GROUP BY user_id
    ),
    churned AS (
        SELECT p.user_id, p.currency, p.start_mrr
        FROM month p JOIN customers c USING (user_id)
        WHERE c.paying_start AND NOT c.paying_end AND p.start_mrr > 0
    ),
    drops AS (
        -- When the customer's MRR reached zero: the last state in the month
        -- that took a paid subscription of theirs to zero, in whatever
        -- currency it was by then (a customer may change currency, then
        -- cancel).
        SELECT DISTINCT ON (s.user_id) s.user_id, t.effective_at
        FROM (
            SELECT h.stripe_subscription_id, h.effective_at, h.mrr_minor,
                   lag(h.mrr_minor) OVER w AS prev_mrr
            FROM metrics.subscription_states h
            WHERE h.stripe_subscription_id IN (
                SELECT stripe_subscription_id FROM metrics.subscriptions
                WHERE user_id IN (SELECT user_id FROM churned))
            WINDOW w AS (PARTITION BY h.stripe_subscription_id ORDER BY h.effective_at)
        ) t
        JOIN metrics.subscriptions s USING (stripe_subscription_id)
        CROSS JOIN bounds b
        WHERE t.prev_mrr > 0 AND t.mrr_minor = 0
          AND t.effective_at > b.at[1] AND t.effective_at <= b.at[2]
        ORDER BY s.user_id, t.effective_at DESC
    ),
    plans AS (
        -- The plan each churned customer last paid for in each currency.
        SELECT DISTINCT ON (s.user_id, h.currency) s.user_id, h.currency, h.plan
        FROM metrics.subscription_states h
        JOIN metrics.subscriptions s USING (stripe_subscription_id)
        CROSS JOIN bounds b
        WHERE s.user_id IN (SELECT user_id FROM churned)
          AND h.mrr_minor > 0 AND h.effective_at <= b.at[2]
        ORDER BY s.user_id, h.currency, h.effective_at DESC
    )
    SELECT 'total' AS kind, NULL::text AS currency, NULL::text AS user_id, NULL::text AS email,
           NULL::text AS plan,
           count(*) FILTER (WHERE paying_start) AS first,
           count(*) FILTER (WHERE paying_start AND NOT paying_end) AS second,
           NULL::timestamptz AS churned_at
    FROM customers
    UNION ALL
    SELECT 'currency', p.currency, NULL, NULL, NULL, sum(p.start_mrr)::bigint,
           coalesce((SELECT sum(c.start_mrr) FROM churned c WHERE c.currency = p.currency), 0)::bigint,
           NULL
    FROM month p GROUP BY p.currency HAVING sum(p.start_mrr) > 0
    UNION ALL
    SELECT 'customer', c.currency, c.user_id, u.email, coalesce(pl.plan, ''), c.start_mrr, NULL,
           d.effective_at
    FROM churned c
    JOIN metrics.users u USING (user_id)
    LEFT JOIN drops d USING (user_id)
    LEFT JOIN plans pl USING (user_id, currency)