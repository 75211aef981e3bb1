-- Activity not yet folded into metrics.user_cohorts. TrackEvents appends, in
-- its own transaction and under the feed lock, one row per batch: the
-- distinct (user, local day) pairs of its counted events, with the batch's
-- highest feed position. A folder merges the rows into the users' bitmaps
-- and deletes them, off the ingest path; every reader of the bitmaps (a
-- refresh, a breakdown, a rebuild) folds what is pending first. Appending
-- one row costs ingest far less than updating a row per user, which is what
-- keeping the bitmaps themselves current in TrackEvents cost
-- (docs/METRICS.md, "Activity rollup").
CREATE TABLE metrics.activity_pending (
    -- The batch's highest feed position (drawn under the feed lock).
    seq      bigint NOT NULL,
    user_ids text[] NOT NULL,
    -- The local days, pairwise with user_ids.
    days     date[] NOT NULL,
    CHECK (cardinality(user_ids) = cardinality(days))
);

-- Written once and read once: compressing it would cost ingest CPU for
-- nothing.
ALTER TABLE metrics.activity_pending ALTER COLUMN user_ids SET STORAGE EXTERNAL;
ALTER TABLE metrics.activity_pending ALTER COLUMN days SET STORAGE EXTERNAL;
