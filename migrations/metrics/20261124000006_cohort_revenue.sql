-- Revenue per cohort and period. A captured payment counts in the period it
-- was created; a refund is subtracted in the period it was made. So every
-- change of a payment's refunded amount is recorded with its time.

-- When the latest refund was made, as the import or the webhook says; the
-- trigger below reads it.
ALTER TABLE metrics.payments ADD COLUMN refunded_at timestamptz;

-- One row per change of payments.refunded_minor: for every payment the
-- amounts add up to its refunded_minor.
CREATE TABLE metrics.payment_refunds (
    refund_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id   bigint      NOT NULL REFERENCES metrics.payments (payment_id) ON DELETE CASCADE,
    -- The change: positive for a refund, negative when a correction lowered
    -- the refunded amount.
    amount_minor bigint      NOT NULL CHECK (amount_minor <> 0),
    refunded_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX payment_refunds_payment_idx ON metrics.payment_refunds (payment_id);

-- Refunds already stored: their time is unknown; the best evidence is when
-- the row last changed (the webhook's event time, or the import's).
UPDATE metrics.payments
SET refunded_at = GREATEST(coalesce(last_event_at, updated_at), created_at)
WHERE refunded_minor > 0;

INSERT INTO metrics.payment_refunds (payment_id, amount_minor, refunded_at)
SELECT payment_id, refunded_minor, refunded_at FROM metrics.payments WHERE refunded_minor > 0;

-- The time of a refund: the row's refunded_at when this write set it, else
-- now (the write is how we learned of it); never before the payment.
CREATE FUNCTION metrics.record_refund() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    before bigint := CASE WHEN TG_OP = 'UPDATE' THEN OLD.refunded_minor ELSE 0 END;
    said   boolean := NEW.refunded_at IS NOT NULL
                      AND (TG_OP = 'INSERT' OR NEW.refunded_at IS DISTINCT FROM OLD.refunded_at);
BEGIN
    IF NEW.refunded_minor <> before THEN
        INSERT INTO metrics.payment_refunds (payment_id, amount_minor, refunded_at)
        VALUES (NEW.payment_id, NEW.refunded_minor - before,
                GREATEST(CASE WHEN said THEN NEW.refunded_at ELSE now() END, NEW.created_at));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER payments_record_refund
    AFTER INSERT OR UPDATE OF refunded_minor ON metrics.payments
    FOR EACH ROW EXECUTE FUNCTION metrics.record_refund();

-- Cohorts whose numbers changed other than through their users' rollup rows:
-- the cohort a user left (a corrected signup time), and the cohorts of users
-- whose payments changed. Positions come from the feed's sequence, drawn
-- under the feed lock, so a refresh can tell what it has covered.
ALTER TABLE metrics.cohort_departures RENAME TO cohort_changes;

-- Marks the cohorts of the users whose payments a statement wrote. The key
-- is repo::events::FEED_LOCK (a test checks they agree).
CREATE FUNCTION metrics.mark_payment_cohorts() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7882834757525140225);
    IF TG_OP = 'INSERT' THEN
        INSERT INTO metrics.cohort_changes (cohort_day, changed_seq)
        SELECT DISTINCT c.cohort_day, s.seq
        FROM (SELECT nextval('metrics.event_sequence') AS seq) s,
             metrics.user_cohorts c JOIN (SELECT DISTINCT user_id FROM new_rows) n USING (user_id);
    ELSE
        INSERT INTO metrics.cohort_changes (cohort_day, changed_seq)
        SELECT DISTINCT c.cohort_day, s.seq
        FROM (SELECT nextval('metrics.event_sequence') AS seq) s,
             metrics.user_cohorts c
             JOIN (SELECT user_id FROM new_rows UNION SELECT user_id FROM old_rows) n USING (user_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER payments_mark_inserted
    AFTER INSERT ON metrics.payments REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics.mark_payment_cohorts();

CREATE TRIGGER payments_mark_updated
    AFTER UPDATE ON metrics.payments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metrics.mark_payment_cohorts();

-- Stored revenue cells: per cohort and currency, the net revenue of every
-- offset (0..30 days, 0..12 weeks or months) and of all later periods.
CREATE TABLE metrics.retention_revenue (
    period_type  text        NOT NULL CHECK (period_type IN ('day', 'week', 'month')),
    cohort_date  date        NOT NULL,
    currency     text        NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    revenue      bigint[]    NOT NULL,
    -- Net revenue of the periods after the last offset.
    later_minor  bigint      NOT NULL DEFAULT 0,
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (period_type, cohort_date, currency)
);

-- One row per revenue cell, the shape reports and ad-hoc SQL want.
CREATE VIEW metrics.retention_revenue_metrics AS
SELECT r.period_type, r.cohort_date, r.currency, (c.k - 1)::smallint AS period_offset,
       c.v AS revenue_minor, r.refreshed_at
FROM metrics.retention_revenue r, unnest(r.revenue) WITH ORDINALITY AS c(v, k);

-- Every cohort's revenue must be computed once.
UPDATE metrics.retention_refreshes SET refreshed_seq = 0;
