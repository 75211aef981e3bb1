-- The Stripe webhook, whatever the order its events arrive in: every event
-- keeps what it told about its payment (its facts, in the shape of its API
-- version), and the payment's row, refund history and disputes are folded
-- from all of them (services/metrics/src/webhook/fold.rs).

ALTER TABLE metrics.stripe_events
    ADD COLUMN api_version text,
    -- The payment the event is about: metrics.payments.stripe_id.
    ADD COLUMN payment text,
    ADD COLUMN facts jsonb;

CREATE INDEX stripe_events_payment_idx ON metrics.stripe_events (payment)
    WHERE payment IS NOT NULL;
CREATE INDEX stripe_events_created_idx ON metrics.stripe_events (created_at DESC, event_id DESC);

-- 'ignored' is split: a type the service does not handle, an event waiting
-- for its payment's first PaymentIntent or Charge event (applied when that
-- arrives), a subscription of a customer who maps to no user. Events stored
-- before this migration kept no facts: an invoice event ignored then stays
-- unapplied (the audit's missed-event recovery is the way to replay it).
UPDATE metrics.stripe_events
SET outcome = CASE WHEN type LIKE 'customer.subscription.%' THEN 'unknown_customer'
                   ELSE 'not_handled' END
WHERE outcome = 'ignored';

ALTER TABLE metrics.stripe_events ADD CONSTRAINT stripe_events_outcome_check CHECK (outcome IN
    ('pending', 'applied', 'unchanged', 'stale', 'waiting', 'not_handled', 'unknown_customer'));

-- Payments the webhook wrote before keep their state as one fact, so that
-- a later event folds on top of it instead of starting from nothing.
INSERT INTO metrics.stripe_events (event_id, type, created_at, outcome, payment, facts)
SELECT 'baseline:' || p.stripe_id, 'baseline', coalesce(p.last_event_at, p.created_at), 'applied',
       p.stripe_id,
       jsonb_build_object(
           'object', 'charge',
           'id', coalesce(p.stripe_charge_id, p.stripe_id),
           'created', extract(epoch FROM p.created_at)::bigint,
           'amount', p.amount_minor,
           'captured', p.status IN ('succeeded', 'partially_refunded', 'refunded'),
           'amount_captured', CASE WHEN p.status IN ('succeeded', 'partially_refunded', 'refunded')
                                   THEN p.amount_minor ELSE 0 END,
           'refunded', p.refunded_minor,
           'status', CASE WHEN p.status = 'failed' THEN 'failed'
                          WHEN p.status = 'pending' THEN 'pending' ELSE 'succeeded' END,
           'expired', p.status = 'canceled',
           'currency', p.currency,
           'customer', p.stripe_customer,
           'invoice', p.stripe_invoice_id)
FROM metrics.payments p
WHERE p.raw ->> 'source' = 'stripe_webhook';

-- An authorisation (manual capture, not captured yet) is not revenue.
ALTER TABLE metrics.payments DROP CONSTRAINT payments_status_check;
ALTER TABLE metrics.payments ADD CONSTRAINT payments_status_check CHECK (status IN
    ('succeeded', 'pending', 'failed', 'canceled', 'refunded', 'partially_refunded', 'authorized'));

-- The webhook no longer ranks states: it folds facts.
DROP FUNCTION metrics.payment_status_rank(text);

-- The newest event of a payment is in stripe_events; the row no longer
-- keeps it (a row folded from the same facts is the same row).
ALTER TABLE metrics.payments DROP COLUMN last_event_at;

-- Disputes (chargebacks) per payment: money withdrawn when the dispute
-- opened, reinstated when it was won.
CREATE TABLE metrics.payment_disputes (
    dispute_id       text PRIMARY KEY,
    -- The payment: metrics.payments.stripe_id.
    stripe_id        text        NOT NULL,
    charge_id        text        NOT NULL,
    amount_minor     bigint      NOT NULL CHECK (amount_minor >= 0),
    currency         text        NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    reason           text        NOT NULL,
    status           text        NOT NULL,
    created_at       timestamptz NOT NULL,
    withdrawn_minor  bigint      NOT NULL DEFAULT 0 CHECK (withdrawn_minor >= 0),
    withdrawn_at     timestamptz,
    reinstated_minor bigint      NOT NULL DEFAULT 0 CHECK (reinstated_minor >= 0),
    reinstated_at    timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX payment_disputes_payment_idx ON metrics.payment_disputes (stripe_id);
CREATE INDEX payment_disputes_withdrawn_idx ON metrics.payment_disputes (withdrawn_at)
    WHERE withdrawn_at IS NOT NULL;
CREATE INDEX payment_disputes_reinstated_idx ON metrics.payment_disputes (reinstated_at)
    WHERE reinstated_at IS NOT NULL;
