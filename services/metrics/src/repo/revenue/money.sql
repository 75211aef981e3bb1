
    WITH bounds AS (
        SELECT k,
               metrics.local_day_start(($1::date[])[k], $3) AS lo,
               metrics.local_day_start(($1::date[])[k + 1], $3) AS hi
        FROM generate_series(1, $2::integer) AS k
    ), span AS (
        SELECT min(lo) AS lo, max(hi) AS hi FROM bounds
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
    SELECT b.k::integer AS k, m.currency,
           sum(m.gross)::bigint AS gross, sum(m.refunds)::bigint AS refunds,
           sum(m.disputes)::bigint AS disputes
    FROM moves m JOIN bounds b ON m.at >= b.lo AND m.at < b.hi
    GROUP BY b.k, m.currency
    ORDER BY 1, 2