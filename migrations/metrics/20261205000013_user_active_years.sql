-- Active days over calendar time, for DAU, WAU, MAU and stickiness: one row
-- per user and calendar year (local dates of the reporting time zone) in
-- which the user had a counted event, bit d - 1 (from the left) set when the
-- user was active on day-of-year d (bit 365 only in leap years). The
-- retention rollup (`metrics.user_cohorts`) counts days from each user's
-- signup and covers 416 of them, so it cannot answer questions over
-- calendar days; this table is kept on the same path: the fold writes it
-- from the pending activity, in the fold's transaction (idempotent: a bit
-- set twice is set once; late events set old bits), and the rollup rebuild
-- rebuilds it from the raw events. A few dozen bytes per user and year.
CREATE TABLE metrics.user_active_years (
    user_id text     NOT NULL REFERENCES metrics.users (user_id),
    year    smallint NOT NULL,
    days    bit(366) NOT NULL,
    PRIMARY KEY (user_id, year)
);

-- What was folded so far, from the raw events of the current activity
-- definition (the rollup's settings; a later change of them rebuilds both).
INSERT INTO metrics.user_active_years (user_id, year, days)
SELECT user_id, extract(year FROM day)::smallint,
       bit_or(set_bit(B'0'::bit(366), extract(doy FROM day)::integer - 1, 1))
FROM (
    SELECT DISTINCT e.user_id, (e.occurred_at AT TIME ZONE s.time_zone)::date AS day
    FROM metrics.events e, metrics.rollup_settings s
    WHERE s.activity_events IS NULL OR e.name = ANY (s.activity_events)
) d
GROUP BY 1, 2;
