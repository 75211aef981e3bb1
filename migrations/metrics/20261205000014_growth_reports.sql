-- Weekly growth reports: every generation of a week is a new revision; the
-- old ones are kept. `report` is the whole report as the contract's
-- `GrowthReport` message (protobuf bytes, without `report_markdown`, which
-- is `markdown`); the other columns are what lists and look-ups need.
CREATE TABLE metrics.growth_reports (
    report_id      uuid        PRIMARY KEY,
    week           text        NOT NULL CHECK (week ~ '^[0-9]{4}-W[0-9]{2}$'),
    revision       integer     NOT NULL CHECK (revision >= 1),
    generated_at   timestamptz NOT NULL DEFAULT now(),
    summary_source text        NOT NULL CHECK (summary_source IN ('rules', 'llm')),
    ai_status      text        NOT NULL CHECK (ai_status IN ('used', 'skipped', 'failed')),
    report         bytea       NOT NULL,
    markdown       text        NOT NULL,
    UNIQUE (week, revision)
);

-- Reports are posted to Slack through the alert outbox too: a row is either
-- an audit run's alert or a report's post.
ALTER TABLE metrics.alert_outbox
    ALTER COLUMN run_id DROP NOT NULL,
    ADD COLUMN report_id uuid REFERENCES metrics.growth_reports (report_id),
    ADD CONSTRAINT alert_outbox_one_source CHECK (num_nonnulls(run_id, report_id) = 1),
    ADD CONSTRAINT alert_outbox_report_channel UNIQUE (report_id, channel);
