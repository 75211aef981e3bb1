-- Revenue audit runs and their findings.

CREATE TABLE metrics.audit_runs (
    run_id          uuid PRIMARY KEY,
    month           text        NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    status          text        NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    verdict         text        CHECK (verdict IN ('PASS', 'WARNING', 'FAIL')),
    repair          boolean     NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    finding_count   bigint      NOT NULL DEFAULT 0,
    -- Per-currency totals, recommendations and what a repair changed: small
    -- documents read whole with the run.
    totals          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    recommendations jsonb       NOT NULL DEFAULT '[]'::jsonb,
    repair_summary  jsonb,
    report_markdown text        NOT NULL DEFAULT '',
    error           text
);

CREATE INDEX audit_runs_month_idx ON metrics.audit_runs (month, started_at DESC);
CREATE INDEX audit_runs_started_idx ON metrics.audit_runs (started_at DESC);

CREATE TABLE metrics.audit_findings (
    run_id         uuid    NOT NULL REFERENCES metrics.audit_runs (run_id) ON DELETE CASCADE,
    ordinal        integer NOT NULL,
    kind           text    NOT NULL,
    severity       text    NOT NULL,
    object_type    text    NOT NULL,
    stripe_id      text    NOT NULL,
    db_payment_ids bigint[] NOT NULL,
    reason         text    NOT NULL,
    stripe_amount_minor bigint,
    stripe_currency     text,
    db_amount_minor     bigint,
    db_currency         text,
    PRIMARY KEY (run_id, ordinal)
);
