
    WITH b AS (
        -- The periods' first instants, ascending: `width_bucket` finds a
        -- moment's period by bisection (a join to one row per period
        -- compared every moment with every period).
        SELECT array_agg(metrics.local_day_start(d, $3) ORDER BY g) AS at
        FROM unnest(($1::date[])[1:$2 + 1]) WITH ORDINALITY AS t(d, g)
    ), span AS (
        SELECT at[1] AS lo, at[cardinality(at)] AS hi, at FROM b
    ), moves AS (
        SELECT p.currency, p.created_at AS at, p.amount_minor AS gross,
               0::bigint AS refunds, 0::bigint AS disputes
        FROM metrics.payments p, span
        WHERE p.status IN ('succeeded', 'partially_refunded', 'refunded')
          AND p.created_at >= span.lo AND p.created_at < span.hi
        UNION ALL
        SELECT p.currency, r.refunded_at, 0, r.amount_minor, 0
        FROM metrics.payment_refunds r JOIN metrics.payments p USING (payment_id), span
        WHERE r.refunded_at >= span.lo AND r.refunded_at < span.hi
        UNION ALL
        SELECT d.currency, d.withdrawn_at, 0, 0, d.withdrawn_minor
        FROM metrics.payment_disputes d, span
        WHERE d.withdrawn_at >= span.lo AND d.withdrawn_at < span.hi
        UNION ALL
        SELECT d.currency, d.reinstated_at, 0, 0, -d.reinstated_minor
        FROM metrics.payment_disputes d, span
        WHERE d.reinstated_at >= span.lo AND d.reinstated_at < span.hi
    )
    SELECT width_bucket(m.at, span.at)::integer AS k, m.currency,
           sum(m.gross)::bigint AS gross, sum(m.refunds)::bigint AS refunds,
           sum(m.disputes)::bigint AS disputes
    FROM moves m, span
    GROUP BY 1, m.currency
    ORDER BY 1, 2
