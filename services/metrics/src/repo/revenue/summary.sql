
    month_totals AS (
        SELECT currency, m,
               sum(end_mrr - start_mrr) AS d_mrr,
               sum(subs) AS d_subs,
               count(*) FILTER (WHERE start_mrr = 0 AND end_mrr > 0)
                 - count(*) FILTER (WHERE start_mrr > 0 AND end_mrr = 0) AS d_customers,
               sum(end_mrr) FILTER (WHERE start_mrr = 0 AND end_mrr > 0 AND NOT paid_before) AS new,
               sum(end_mrr - start_mrr) FILTER (WHERE start_mrr > 0 AND end_mrr > start_mrr) AS expansion,
               sum(start_mrr - end_mrr) FILTER (WHERE end_mrr > 0 AND end_mrr < start_mrr) AS contraction,
               sum(start_mrr) FILTER (WHERE start_mrr > 0 AND end_mrr = 0) AS churned,
               sum(end_mrr) FILTER (WHERE start_mrr = 0 AND end_mrr > 0 AND paid_before) AS reactivation,
               count(*) FILTER (WHERE start_mrr > 0 AND end_mrr = 0) AS churned_customers
        FROM pairs
        GROUP BY currency, m
    ),
    grid AS (
        SELECT c.currency, k.k, x.new, x.expansion, x.contraction, x.churned, x.reactivation,
               x.churned_customers,
               coalesce(x.d_mrr, 0) AS d_mrr,
               sum(coalesce(x.d_mrr, 0)) OVER w AS mrr_end,
               sum(coalesce(x.d_subs, 0)) OVER w AS subs_end,
               sum(coalesce(x.d_customers, 0)) OVER w AS customers_end
        FROM (SELECT DISTINCT currency FROM month_totals) c
        CROSS JOIN generate_series(0, $2::integer) AS k(k)
        LEFT JOIN month_totals x ON x.currency = c.currency AND x.m = k.k
        WINDOW w AS (PARTITION BY c.currency ORDER BY k.k)
    )
    SELECT k::integer AS k, currency,
           (mrr_end - d_mrr)::bigint AS mrr_start,
           mrr_end::bigint AS mrr_end,
           coalesce(new, 0)::bigint AS new,
           coalesce(expansion, 0)::bigint AS expansion,
           coalesce(contraction, 0)::bigint AS contraction,
           coalesce(churned, 0)::bigint AS churned,
           coalesce(reactivation, 0)::bigint AS reactivation,
           subs_end::bigint AS active_subscriptions,
           customers_end::bigint AS customers,
           coalesce(churned_customers, 0)::bigint AS churned_customers
    FROM grid
    WHERE k >= 1 AND (mrr_end - d_mrr > 0 OR mrr_end > 0)
    ORDER BY k, currency