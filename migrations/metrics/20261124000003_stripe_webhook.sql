-- Stripe webhook: events seen (idempotency by event id) and, per payment, the
-- time of the newest event applied, so an older event never overwrites a
-- newer state.

CREATE TABLE metrics.stripe_events (
    event_id    text PRIMARY KEY,
    type        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    -- 'applied', 'stale' (older than the payment's state) or 'ignored'.
    outcome     text        NOT NULL
);

ALTER TABLE metrics.payments ADD COLUMN last_event_at timestamptz;

-- A payment's states in the order they can follow one another; a webhook
-- never moves a payment to a lower rank.
CREATE FUNCTION metrics.payment_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status
        WHEN 'pending' THEN 0
        WHEN 'failed' THEN 1
        WHEN 'canceled' THEN 1
        WHEN 'succeeded' THEN 2
        WHEN 'partially_refunded' THEN 3
        WHEN 'refunded' THEN 4
    END;
