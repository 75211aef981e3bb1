-- Cohorts and retention. Every user has a row in metrics.user_cohorts with
-- its cohort day (signup day in the reporting time zone) and a bitmap of the
-- days, counted from that cohort day, on which it was active: bit i set =
-- active on cohort_day + i, for i in 0..415 (enough for DAY 0-30, WEEK 0-12
-- and MONTH 0-12). TrackEvents keeps it current in its own transaction;
-- retention matrices are computed from it in one pass, never from the raw
-- events (docs/METRICS.md explains the choice).

-- The settings the rollup was built with; a service configured differently
-- rebuilds it from the raw events at start.
CREATE TABLE metrics.rollup_settings (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    time_zone       text        NOT NULL,
    -- Event names that count as activity; NULL = every event.
    activity_events text[],
    built_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE metrics.user_cohorts (
    user_id         text PRIMARY KEY REFERENCES metrics.users (user_id),
    cohort_day      date     NOT NULL,
    cohort_week     date     NOT NULL GENERATED ALWAYS AS (date_trunc('week', cohort_day::timestamp)::date) STORED,
    cohort_month    date     NOT NULL GENERATED ALWAYS AS (date_trunc('month', cohort_day::timestamp)::date) STORED,
    active_days     bit(416) NOT NULL DEFAULT B'0'::bit(416),
    -- Latest day with activity on or after the cohort day (any distance):
    -- "active in period N or later" needs it beyond the bitmap's window.
    last_active_day date,
    -- Feed position of the last change (event sequence numbers, drawn under
    -- the feed lock, so in commit order): a refresh recomputes the cohorts
    -- with changes past the position it last covered. Not indexed, so that
    -- ingest's updates stay HOT (no index entry per update).
    changed_seq     bigint   NOT NULL DEFAULT 0
) WITH (fillfactor = 70);

CREATE INDEX user_cohorts_day_idx ON metrics.user_cohorts (cohort_day);

-- Cohort days a user left (a corrected signup time moved it to another
-- cohort), with the position of that change: those cohorts shrank.
CREATE TABLE metrics.cohort_departures (
    cohort_day  date   NOT NULL,
    changed_seq bigint NOT NULL
);

-- Stored retention matrices: one row per cohort and mode with the retained
-- users of every offset (0..30 days, 0..12 weeks or months) as an array, so
-- a refresh writes and a read fetches hundreds of rows, not tens of
-- thousands. A period that has not begun is stored as 0 and hidden at read
-- time; whether a period is complete is decided at read time too.
CREATE TABLE metrics.retention_rows (
    period_type  text        NOT NULL CHECK (period_type IN ('day', 'week', 'month')),
    cohort_date  date        NOT NULL,
    mode         text        NOT NULL CHECK (mode IN ('on', 'on_or_after')),
    cohort_size  bigint      NOT NULL,
    retained     bigint[]    NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (period_type, cohort_date, mode)
);

-- The same, one row per cell, unique by (period_type, cohort_date, mode,
-- period_offset): the shape reports and ad-hoc SQL want.
CREATE VIEW metrics.retention_metrics AS
SELECT r.period_type, r.cohort_date, r.mode, (c.k - 1)::smallint AS period_offset,
       r.cohort_size, c.v AS retained_users, r.refreshed_at
FROM metrics.retention_rows r, unnest(r.retained) WITH ORDINALITY AS c(v, k);

-- Headline numbers per cohort: size and retention at a few checkpoints.
CREATE VIEW metrics.cohort_overview AS
SELECT period_type, cohort_date, cohort_size,
       retained[2] AS retained_1,
       retained[CASE period_type WHEN 'day' THEN 8 ELSE 5 END] AS retained_mid,
       retained[CASE period_type WHEN 'day' THEN 31 ELSE 13 END] AS retained_last
FROM metrics.retention_rows
WHERE mode = 'on';

-- Existing users: assign them (in UTC, the default zone), as changed; a
-- service configured with another zone or activity list rebuilds at start.
INSERT INTO metrics.rollup_settings (time_zone, activity_events) VALUES ('UTC', NULL);

INSERT INTO metrics.user_cohorts (user_id, cohort_day, active_days, last_active_day, changed_seq)
SELECT u.user_id, (u.signup_at AT TIME ZONE 'UTC')::date,
       coalesce(a.bits, B'0'::bit(416)), a.last_day, 1
FROM metrics.users u
LEFT JOIN (
    SELECT d.user_id, bit_or(set_bit(B'0'::bit(416), d.off, 1)) FILTER (WHERE d.off < 416) AS bits,
           max(d.day) AS last_day
    FROM (
        SELECT DISTINCT e.user_id, (e.occurred_at AT TIME ZONE 'UTC')::date AS day,
               (e.occurred_at AT TIME ZONE 'UTC')::date - (u2.signup_at AT TIME ZONE 'UTC')::date AS off
        FROM metrics.events e JOIN metrics.users u2 USING (user_id)
    ) d
    WHERE d.off >= 0
    GROUP BY d.user_id
) a USING (user_id);

-- When each granularity was last refreshed (a refresh that changed nothing
-- still counts), and the change position it covered.
CREATE TABLE metrics.retention_refreshes (
    period_type   text PRIMARY KEY CHECK (period_type IN ('day', 'week', 'month')),
    refreshed_at  timestamptz NOT NULL,
    refreshed_seq bigint      NOT NULL DEFAULT 0
);
