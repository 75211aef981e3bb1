-- Lifecycle state: one profile per user (current stage and score), the
-- history of stage transitions, trigger rules, and the Kit delivery outbox.
-- Stages and actions are stored as the small integers of the proto enums
-- (growth.lifecycle.v1.LifecycleStage / KitAction). Every per-user table is
-- keyed by user id, so it distributes by user like the metrics tables.

CREATE TABLE lifecycle.profiles (
    user_id      text PRIMARY KEY,
    -- Where Kit actions go; copied from the metrics service at evaluation.
    email        text        NOT NULL,
    stage        smallint    NOT NULL CHECK (stage BETWEEN 1 AND 6),
    stage_since  timestamptz NOT NULL,
    score        smallint    NOT NULL CHECK (score BETWEEN 0 AND 100),
    -- The score's components: [{"name","points","max_points","explanation"}].
    components   jsonb       NOT NULL,
    -- Paying at the last evaluation (a payer who stops paying churns).
    paying       boolean     NOT NULL,
    evaluated_at timestamptz NOT NULL
);

CREATE INDEX profiles_stage_idx ON lifecycle.profiles (stage);

CREATE TABLE lifecycle.transitions (
    transition_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       text        NOT NULL,
    -- NULL for a user's first stage.
    from_stage    smallint    CHECK (from_stage BETWEEN 1 AND 6),
    to_stage      smallint    NOT NULL CHECK (to_stage BETWEEN 1 AND 6),
    occurred_at   timestamptz NOT NULL,
    reason        text        NOT NULL,
    score         smallint    NOT NULL CHECK (score BETWEEN 0 AND 100),
    CHECK (from_stage IS DISTINCT FROM to_stage)
);

CREATE INDEX transitions_user_idx ON lifecycle.transitions (user_id, transition_id DESC);
CREATE INDEX transitions_time_idx ON lifecycle.transitions (occurred_at DESC, transition_id DESC);

CREATE TABLE lifecycle.trigger_rules (
    rule_id       uuid PRIMARY KEY,
    -- NULL matches any stage left, including none.
    from_stage    smallint    CHECK (from_stage BETWEEN 1 AND 6),
    to_stage      smallint    NOT NULL CHECK (to_stage BETWEEN 1 AND 6),
    action        smallint    NOT NULL CHECK (action BETWEEN 1 AND 4),
    target_id     text        NOT NULL CHECK (target_id <> ''),
    -- [{"key": "engagement_score", "value": 1}] (CustomFieldValue numbers).
    custom_fields jsonb       NOT NULL DEFAULT '[]',
    enabled       boolean     NOT NULL,
    description   text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX trigger_rules_to_stage_idx ON lifecycle.trigger_rules (to_stage) WHERE enabled;

-- The outbox. A row is queued in the transaction that records its
-- transition, and delivered from here by the worker.
CREATE TABLE lifecycle.deliveries (
    delivery_id     uuid PRIMARY KEY,
    -- No foreign key: deleting a rule keeps what it queued.
    rule_id         uuid        NOT NULL,
    user_id         text        NOT NULL,
    email           text        NOT NULL,
    transition_id   bigint      NOT NULL REFERENCES lifecycle.transitions (transition_id),
    action          smallint    NOT NULL CHECK (action BETWEEN 1 AND 4),
    target_id       text        NOT NULL,
    -- Custom field values resolved at queue time: {"engagement_score": "42"}.
    fields          jsonb       NOT NULL DEFAULT '{}',
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'delivered', 'dead', 'skipped_no_credentials')),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    -- The last attempt may have reached Kit without an answer (a timeout, or
    -- a crash while 'sending'): the next attempt asks Kit before sending.
    outcome_unknown boolean     NOT NULL DEFAULT false,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- While 'sending': when the claim expires (the worker died if still set).
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    -- One row per (transition, action, target): the same transition never
    -- queues the same Kit action twice, whichever rules match.
    idempotency_key text        NOT NULL UNIQUE
);

CREATE INDEX deliveries_due_idx ON lifecycle.deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_lease_idx ON lifecycle.deliveries (lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_created_idx ON lifecycle.deliveries (created_at DESC, delivery_id);
CREATE INDEX deliveries_user_idx ON lifecycle.deliveries (user_id, created_at DESC);
