-- Subscription history: every state a subscription has been in, from
-- ImportSubscriptions and the Stripe webhook (customer.subscription.*). MRR,
-- its movements and churn are computed from it (docs/METRICS.md, "Revenue").

-- One row per Stripe subscription: who it belongs to and its latest state (a
-- copy of its newest row in subscription_states). Writers compare an incoming
-- state with this row to tell recorded, unchanged and stale states apart, and
-- GetUserActivity reads a user's current MRR from it.
CREATE TABLE metrics.subscriptions (
    stripe_subscription_id text PRIMARY KEY,
    -- The subscriber: the customer MRR is counted for.
    user_id         text        NOT NULL REFERENCES metrics.users (user_id),
    stripe_customer text,
    -- The latest state (as in subscription_states).
    effective_at    timestamptz NOT NULL,
    plan            text        NOT NULL,
    currency        text        NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    amount_minor    bigint      NOT NULL CHECK (amount_minor >= 0),
    quantity        bigint      NOT NULL CHECK (quantity >= 1),
    billing_interval text       NOT NULL CHECK (billing_interval IN ('day', 'week', 'month', 'year')),
    interval_count  integer     NOT NULL CHECK (interval_count BETWEEN 1 AND 365),
    status          text        NOT NULL CHECK (status IN ('trialing', 'active', 'past_due',
                        'canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused')),
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    mrr_minor       bigint      NOT NULL CHECK (mrr_minor >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscriptions_effective_after_start CHECK (effective_at >= started_at),
    CONSTRAINT subscriptions_ended_after_start CHECK (ended_at IS NULL OR ended_at >= started_at),
    -- Only active and past-due states carry MRR.
    CONSTRAINT subscriptions_mrr_only_when_billing CHECK (mrr_minor = 0 OR status IN ('active', 'past_due'))
);

-- GetUserActivity sums a user's current MRR.
CREATE INDEX subscriptions_user_idx ON metrics.subscriptions (user_id);
-- The webhook finds the subscriber of a Stripe customer.
CREATE INDEX subscriptions_customer_idx ON metrics.subscriptions (stripe_customer)
    WHERE stripe_customer IS NOT NULL;

-- Append-only history: one row per state, keyed by the subscription and the
-- instant it took effect. A state holds from its effective_at until the next
-- state's. mrr_minor is the state's monthly-normalised amount (0 for states
-- that carry no MRR), computed once when the state is recorded.
CREATE TABLE metrics.subscription_states (
    stripe_subscription_id text NOT NULL
        REFERENCES metrics.subscriptions (stripe_subscription_id) ON DELETE CASCADE,
    effective_at    timestamptz NOT NULL,
    plan            text        NOT NULL,
    currency        text        NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    amount_minor    bigint      NOT NULL CHECK (amount_minor >= 0),
    quantity        bigint      NOT NULL CHECK (quantity >= 1),
    billing_interval text       NOT NULL CHECK (billing_interval IN ('day', 'week', 'month', 'year')),
    interval_count  integer     NOT NULL CHECK (interval_count BETWEEN 1 AND 365),
    status          text        NOT NULL CHECK (status IN ('trialing', 'active', 'past_due',
                        'canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused')),
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    mrr_minor       bigint      NOT NULL CHECK (mrr_minor >= 0),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    -- Also the order in which the revenue queries walk a subscription's
    -- states (one pass over the index, no sort).
    PRIMARY KEY (stripe_subscription_id, effective_at),
    CONSTRAINT subscription_states_effective_after_start CHECK (effective_at >= started_at),
    CONSTRAINT subscription_states_ended_after_start CHECK (ended_at IS NULL OR ended_at >= started_at),
    CONSTRAINT subscription_states_mrr_only_when_billing CHECK (mrr_minor = 0 OR status IN ('active', 'past_due'))
);

-- The webhook finds the user of a Stripe customer through their payments,
-- else through the user's attributes.stripe_customer (docs/METRICS.md).
CREATE INDEX payments_customer_idx ON metrics.payments (stripe_customer, created_at)
    WHERE stripe_customer IS NOT NULL;
CREATE INDEX users_stripe_customer_idx ON metrics.users ((attributes->>'stripe_customer'))
    WHERE attributes->>'stripe_customer' IS NOT NULL;
