-- The metrics service's schema: users, their activity events (with the feed
-- sequence), and payments as the product's own database records them.

CREATE SCHEMA IF NOT EXISTS metrics;

CREATE TABLE metrics.users (
    user_id       text PRIMARY KEY,
    email         text        NOT NULL,
    signup_at     timestamptz NOT NULL,
    plan          text        NOT NULL,
    trial_ends_at timestamptz,
    attributes    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_attributes_is_object CHECK (jsonb_typeof(attributes) = 'object')
);

CREATE INDEX users_signup_at_idx ON metrics.users (signup_at);

-- Feed positions. Only TrackEvents draws from it, while holding the feed
-- advisory lock until commit, so positions become visible in commit order.
CREATE SEQUENCE metrics.event_sequence AS bigint;

CREATE TABLE metrics.events (
    event_id    text        PRIMARY KEY,
    user_id     text        NOT NULL REFERENCES metrics.users (user_id),
    name        text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    properties  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    sequence    bigint      NOT NULL DEFAULT nextval('metrics.event_sequence'),
    recorded_at timestamptz NOT NULL DEFAULT now()
);

ALTER SEQUENCE metrics.event_sequence OWNED BY metrics.events.sequence;

-- WatchEvents reads in sequence order from a cursor.
CREATE UNIQUE INDEX events_sequence_idx ON metrics.events (sequence);
-- Per-user activity summaries (GetUserActivity) read a user's recent events.
CREATE INDEX events_user_occurred_idx ON metrics.events (user_id, occurred_at);

CREATE TABLE metrics.payments (
    payment_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The Stripe object the row stands for: a PaymentIntent (pi_...) or,
    -- for charges made without one, a Charge (ch_...).
    stripe_id         text        NOT NULL UNIQUE,
    stripe_charge_id  text        UNIQUE,
    stripe_invoice_id text,
    stripe_customer   text,
    user_id           text        REFERENCES metrics.users (user_id),
    amount_minor      bigint      NOT NULL CHECK (amount_minor >= 0),
    currency          text        NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    status            text        NOT NULL CHECK (status IN
                          ('succeeded', 'pending', 'failed', 'canceled', 'refunded', 'partially_refunded')),
    refunded_minor    bigint      NOT NULL DEFAULT 0
                          CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    raw               jsonb       NOT NULL DEFAULT '{}'::jsonb
);

-- The audit reads one month of payments; revenue reads a user's payments.
CREATE INDEX payments_created_at_idx ON metrics.payments (created_at);
CREATE INDEX payments_user_idx ON metrics.payments (user_id, created_at);
