-- Activity not yet folded into metrics.user_cohorts. TrackEvents appends, in
-- its own transaction and under the feed lock, one row per user of its
-- counted events: the user's distinct local days, with the batch's highest
-- feed position. A fold merges them into the users' bitmaps and deletes them, off
-- the ingest path; every reader of the bitmaps (a refresh, a breakdown)
-- folds what is pending first, and a rebuild discards it. Appending costs
-- ingest far less than updating a row per user, which is what keeping the
-- bitmaps themselves current in TrackEvents cost (docs/METRICS.md). No index:
-- it is only ever appended to and emptied. Keyed by user like every per-user
-- table, so that it can be distributed with them.
CREATE TABLE metrics.activity_pending (
    user_id text   NOT NULL,
    -- The user's distinct local days in the batch.
    days    date[] NOT NULL,
    -- The batch's highest feed position (drawn under the feed lock).
    seq     bigint NOT NULL
);

-- The highest feed position of a change to the user cells of each cohort day
-- (activity folded into its users' bitmaps, users joining it, a rebuild): a
-- refresh finds the changed cohorts in these few hundred rows instead of
-- scanning every user's row for a position stamped on it, which is why the
-- per-user stamp goes. Written only under the fold lock.
CREATE TABLE metrics.cohort_activity (
    cohort_day  date   PRIMARY KEY,
    changed_seq bigint NOT NULL
);

INSERT INTO metrics.cohort_activity (cohort_day, changed_seq)
SELECT cohort_day, max(changed_seq) FROM metrics.user_cohorts GROUP BY cohort_day;

ALTER TABLE metrics.user_cohorts DROP COLUMN changed_seq;
