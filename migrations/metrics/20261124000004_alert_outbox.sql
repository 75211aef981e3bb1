-- Audit alerts (Slack, GitHub) are written here in the transaction that
-- completes the run, and delivered from here: a crash or an outage loses
-- none, and a delivered row is never sent again.

CREATE TABLE metrics.alert_outbox (
    alert_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          uuid        NOT NULL REFERENCES metrics.audit_runs (run_id),
    channel         text        NOT NULL CHECK (channel IN ('slack', 'github')),
    month           text        NOT NULL,
    verdict         text        NOT NULL,
    title           text        NOT NULL,
    body            text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    -- What the channel made of it (e.g. the GitHub issue number).
    external_ref    text,
    UNIQUE (run_id, channel)
);

CREATE INDEX alert_outbox_due_idx ON metrics.alert_outbox (next_attempt_at) WHERE status = 'pending';
