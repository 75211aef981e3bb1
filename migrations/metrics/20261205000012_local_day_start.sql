-- The first instant of a local date in a time zone: where a day, a week or a
-- month of the reporting time zone starts. `d::timestamp AT TIME ZONE tz`
-- alone is not it when midnight is ambiguous: on 2026-11-01 Cuba's clocks go
-- back from 01:00 to 00:00, local midnight happens at 04:00Z and again at
-- 05:00Z, and PostgreSQL takes the later reading, so the hour between would
-- belong to the month before. The candidates are midnight read with the
-- offsets of the day itself and of the days around it (clocks change at most
-- once around a midnight); the earliest one whose local date is `d` is the
-- first instant. For a midnight that does not exist (clocks jump from 00:00
-- to 01:00) that is the instant of the jump.
CREATE FUNCTION metrics.local_day_start(d date, tz text) RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT min(t)
    FROM (VALUES (d::timestamp AT TIME ZONE tz),
                 (((d - 1)::timestamp AT TIME ZONE tz) + interval '1 day'),
                 (((d + 1)::timestamp AT TIME ZONE tz) - interval '1 day')) AS c(t)
    WHERE (t AT TIME ZONE tz)::date = d
$$;
