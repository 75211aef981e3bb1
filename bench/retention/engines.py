#!/usr/bin/env python3
"""Reference side of the retention benchmark.

    python engines.py --dir DIR [--database-url URL] [--runs 3]
                      [--engines duckdb,clickhouse,postgres]

Computes the DAY/WEEK/MONTH retention matrices, ON and ON_OR_AFTER, from the
users and activity events that the Rust service computed its matrices from
(DIR/users.csv, DIR/events.csv and, for PostgreSQL, metrics.users /
metrics.events in the scratch database named by DIR/meta.json), with DuckDB,
ClickHouse (chDB, in-process) and set-based SQL on PostgreSQL; times each
(best of --runs, one run = all three granularities x both modes); compares
every cell with DIR/ours.json; prints the benchmark's target lines.

Exit code: 0 when every engine ran and every cell of every engine equals
ours.json; 1 on any difference; 2 when an engine or the input could not be
used. Targets that are NOT MET are printed but do not change the exit code.

Definitions (README.md, and selfcheck.py as plain code):
  day(t) = (t AT TIME ZONE tz)::date; cohort day c = day(signup_at);
  DAY cohort c, WEEK cohort monday(c), MONTH cohort first of c's month;
  an event counts iff day(occurred_at) >= c;
  offsets: DAY a-c, WEEK (monday(a)-monday(c))/7, MONTH 12*dy + dm;
  ON[k] = users with a counted event at offset k (k <= max: 30, 12, 12);
  ON_OR_AFTER[k] = users whose last counted event has offset >= k (unbounded).

How every engine computes it (the same plan, each written for its engine):
one pass over the events joined to the users by user_id (equality, against
cohort columns precomputed per user), keeping only counted events (d >= c),
grouped per user into bit masks of the active offsets inside each window
(DAY bits 0..30, WEEK 0..12, MONTH 0..12) plus the last counted day; then
per cohort (grouped by equality on the precomputed cohort column) size,
ON[k] = users with bit k set and ON_OR_AFTER[k] = users whose last offset
>= k. The per-engine notes below say which other forms were tried.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from zoneinfo import ZoneInfo

MAX_OFFSET = {"DAY": 30, "WEEK": 12, "MONTH": 12}
GRANULARITIES = ("DAY", "WEEK", "MONTH")
MODES = ("on", "on_or_after")


class InputError(Exception):
    pass


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# --------------------------------------------------------------------------
# Assembling and comparing results
# --------------------------------------------------------------------------


def assemble(rows) -> dict:
    """rows of (granularity, cohort 'YYYY-MM-DD', size, on[0..max], ooa[0..max])
    -> {g: {mode: {cohort: {"size": n, "cells": [...]}}}} as in ours.json."""
    out = {g: {m: {} for m in MODES} for g in GRANULARITIES}
    for g, cohort, size, on, ooa in rows:
        cohort = str(cohort)[:10]
        n = MAX_OFFSET[g] + 1
        on = [int(x) for x in on]
        ooa = [int(x) for x in ooa]
        if len(on) != n or len(ooa) != n:
            raise RuntimeError(f"{g} {cohort}: {len(on)}/{len(ooa)} cells, expected {n}")
        out[g]["on"][cohort] = {"size": int(size), "cells": on}
        out[g]["on_or_after"][cohort] = {"size": int(size), "cells": ooa}
    return out


def compare(ours: dict, theirs: dict, engine: str) -> tuple[int, list]:
    """Every cohort size and cell of ours against theirs (and cohorts missing
    on either side). Returns (number compared, differences)."""
    n = 0
    diffs = []
    for g in GRANULARITIES:
        for m in MODES:
            a = ours.get(g, {}).get(m, {})
            b = theirs.get(g, {}).get(m, {})
            width = MAX_OFFSET[g] + 1
            for cohort in sorted(set(a) | set(b)):
                ca, cb = a.get(cohort), b.get(cohort)
                if ca is None or cb is None:
                    n += 1
                    diffs.append((engine, g, m, cohort, "cohort",
                                  "absent" if ca is None else f"size {ca['size']}",
                                  "absent" if cb is None else f"size {cb['size']}"))
                    continue
                n += 1
                if ca.get("size") != cb["size"]:
                    diffs.append((engine, g, m, cohort, "size", ca.get("size"), cb["size"]))
                cells_a = ca.get("cells", [])
                for k in range(width):
                    n += 1
                    va = cells_a[k] if k < len(cells_a) else None
                    if va != cb["cells"][k]:
                        diffs.append((engine, g, m, cohort, k, va, cb["cells"][k]))
                if len(cells_a) > width:
                    diffs.append((engine, g, m, cohort, f"{width}..", f"{len(cells_a)} cells", f"{width} cells"))
    return n, diffs


# --------------------------------------------------------------------------
# Engines. Each has: name, version, load() (not timed; reported), run() ->
# rows for assemble() (timed), note (what the timing includes), close().
# --------------------------------------------------------------------------


# The packed per-user mask: bits 0..30 = DAY offsets 0..30, bits 31..43 =
# WEEK offsets 0..12, bits 44..56 = MONTH offsets 0..12 (one bit_or instead
# of three). With it, per user: the last counted day (max).
DAY_BITS, WEEK_SHIFT, MONTH_SHIFT = 2147483647, 31, 44


def cohort_select(g: str, key: str, mask: str, last: str, bit_test, count_if, array) -> str:
    """The per-cohort step over a per-user relation `pu` (one row per user)."""
    m = MAX_OFFSET[g]
    on = array([count_if(bit_test(mask, k)) for k in range(m + 1)])
    ooa = array([count_if(f"{last} >= {k}") for k in range(m + 1)])
    return f"SELECT '{g}' AS g, {key} AS cohort, count(*) AS size, {on} AS on_cells, {ooa} AS ooa_cells FROM pu GROUP BY {key}"


class DuckDBEngine:
    """DuckDB, in memory.

    Stored (load, not timed): users(uix, user_id, c_day, c_week, c_month,
    c_dow, c_mi): a row number and the cohort columns precomputed from
    signup_at; events(user_id, d), d = the event's local date, sorted by
    (user_id, occurred_at). Timed: everything from those two tables.

    Query: events JOIN users ON user_id (equality; the cohort columns come
    with the user), counted events only (d >= c_day), per user (grouped by the
    integer uix) one bit_or of the packed offset mask and max(d); then per
    cohort size, ON and ON_OR_AFTER counts.
    Other forms measured on 200k users / 10M events (2 cores, best of 3-5):
      * three separate bit_or masks + three max() per user, grouped by the
        user_id string: ~1.1-1.3x slower;
      * the textbook form (SELECT cohort, offset, count(DISTINCT user) per
        granularity + histograms of last offsets): ~1.5x slower, before
        turning the histograms into ON_OR_AFTER cells;
      * windowed join for ON + a join-free max(d) per user for
        ON_OR_AFTER: ~1.3x slower (two passes over events);
      * local date computed in the query from a TIMESTAMPTZ column instead of
        at load: +0.2 s.
    """

    name = "DuckDB"

    def __init__(self, args, tz):
        import duckdb

        self.version = duckdb.__version__
        self.args, self.tz = args, tz
        self.con = duckdb.connect(":memory:")
        self.note = "query over in-memory tables (local date and cohort columns materialized at load)"

    def load(self):
        tz = sql_str(self.tz)
        users = sql_str(os.path.join(self.args.dir, "users.csv"))
        events = sql_str(os.path.join(self.args.dir, "events.csv"))
        c = self.con
        c.execute("SET TimeZone = 'UTC'")
        c.execute(f"""
            CREATE TABLE users AS
            SELECT CAST(row_number() OVER () AS INTEGER) AS uix, user_id, c_day,
                   c_day - c_dow AS c_week,
                   CAST(date_trunc('month', c_day) AS DATE) AS c_month,
                   c_dow,
                   year(c_day) * 12 + month(c_day) AS c_mi
            FROM (
                SELECT user_id, c_day, CAST(isodow(c_day) - 1 AS INTEGER) AS c_dow
                FROM (
                    SELECT user_id, CAST(timezone({tz}, signup_at) AS DATE) AS c_day
                    FROM read_csv({users}, header = true, delim = ',', quote = '"',
                                  columns = {{'user_id': 'VARCHAR', 'signup_at': 'TIMESTAMPTZ'}})
                )
            )""")
        c.execute(f"""
            CREATE TABLE events AS
            SELECT user_id, CAST(timezone({tz}, occurred_at) AS DATE) AS d
            FROM read_csv({events}, header = true, delim = ',', quote = '"',
                          columns = {{'user_id': 'VARCHAR', 'occurred_at': 'TIMESTAMPTZ'}})
            ORDER BY user_id, occurred_at""")
        dup = c.execute("SELECT count(*) - count(DISTINCT user_id) FROM users").fetchone()[0]
        if dup:
            raise InputError(f"users.csv has {dup} duplicate user_id rows")
        today = sql_str(self.args.today) if self.args.today else "DATE '9999-12-31'"
        n_users, n_events, n_orphans, n_future = c.execute(f"""
            SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM events),
                   (SELECT count(*) FROM events e ANTI JOIN users u ON u.user_id = e.user_id),
                   (SELECT count(*) FROM events WHERE d > CAST({today} AS DATE))""").fetchone()
        self.info = (f"{n_users} users, {n_events} events"
                     + (f", {n_orphans} events of users not in users.csv (ignored)" if n_orphans else "")
                     + (f"; WARNING: {n_future} events dated after today {self.args.today}" if n_future else ""))

    def sql(self) -> str:
        def bit_test(mask, k):
            return f"({mask} >> {k}) & 1 = 1"

        def count_if(cond):
            return f"count(*) FILTER (WHERE {cond})"

        def array(items):
            return "[" + ", ".join(items) + "]"

        parts = [
            cohort_select("DAY", "c_day", "dmask", "ld", bit_test, count_if, array),
            cohort_select("WEEK", "c_week", "wmask", "lw", bit_test, count_if, array),
            cohort_select("MONTH", "c_month", "mmask", "lm", bit_test, count_if, array),
        ]
        return f"""
        WITH agg AS (
            SELECT uix,
                   bit_or(CASE WHEN od <= 30 THEN CAST(1 AS BIGINT) << od ELSE 0 END
                        | CASE WHEN ow <= 12 THEN CAST(1 AS BIGINT) << ({WEEK_SHIFT} + ow) ELSE 0 END
                        | CASE WHEN om <= 12 THEN CAST(1 AS BIGINT) << ({MONTH_SHIFT} + om) ELSE 0 END) AS mask,
                   max(d) AS l
            FROM (
                SELECT u.uix, e.d,
                       CAST(e.d - u.c_day AS INTEGER) AS od,
                       CAST((e.d - u.c_day + u.c_dow) // 7 AS INTEGER) AS ow,
                       CAST(year(e.d) * 12 + month(e.d) - u.c_mi AS INTEGER) AS om
                FROM events e JOIN users u ON e.user_id = u.user_id
                WHERE e.d >= u.c_day
            ) ev
            GROUP BY uix
        ), pu AS MATERIALIZED (
            SELECT u.c_day, u.c_week, u.c_month,
                   coalesce(a.mask, 0) & {DAY_BITS} AS dmask,
                   (coalesce(a.mask, 0) >> {WEEK_SHIFT}) & 8191 AS wmask,
                   (coalesce(a.mask, 0) >> {MONTH_SHIFT}) & 8191 AS mmask,
                   coalesce(CAST(a.l - u.c_day AS INTEGER), -1) AS ld,
                   coalesce(CAST((a.l - u.c_day + u.c_dow) // 7 AS INTEGER), -1) AS lw,
                   coalesce(CAST(year(a.l) * 12 + month(a.l) - u.c_mi AS INTEGER), -1) AS lm
            FROM users u LEFT JOIN agg a ON a.uix = u.uix
        )
        {" UNION ALL ".join(parts)}
        """

    def run(self):
        rows = self.con.execute(self.sql()).fetchall()
        return [(g, c.isoformat(), s, on, ooa) for g, c, s, on, ooa in rows]

    def close(self):
        self.con.close()


class ClickHouseEngine:
    """ClickHouse in-process (chDB), MergeTree tables in a temporary directory.

    Stored (load, not timed): users MergeTree ORDER BY user_id with a row
    number (uix) and the cohort columns precomputed from signup_at; events MergeTree ORDER BY
    (user_id, occurred_at) with d = toDate(occurred_at, tz) (a per-row column,
    as a MATERIALIZED column would be), merged to one part (OPTIMIZE FINAL).
    Timed: everything from those two tables.

    Query: one pass over events, hash-joined (parallel_hash) to users on
    user_id, counted events only (d >= c_day), per user (grouped by the
    integer uix that the join brings along) one groupBitOr of the
    packed mask of active offsets and max(d); users LEFT JOIN that; then each
    user stands for its DAY, WEEK and MONTH cohort (ARRAY JOIN) and per cohort
    countIf(bitTest(mask, k)) / countIf(last offset >= k).
    Other forms measured on 200k users / 10M events (2 cores, best of 3):
      * join_algorithm: hash (the default) and grace_hash between the same
        and ~1.3x slower than parallel_hash (runs varied), full_sorting_merge
        ~1.35-1.6x slower;
      * optimize_aggregation_in_order = 1 (events are sorted by user):
        1.1-1.5x slower (the join output is not in that order anyway);
      * grouped by the user_id string instead of the integer uix: ~1.6x
        slower; cityHash64(user_id) integer keys in both tables: no faster
        than strings; ANY INNER JOIN: faster but wrong (one event per user);
      * joinGet on a Join-engine table instead of the hash join: ~2x slower;
      * aggregate per user first (groupUniqArray(d), no join over 10M rows),
        then join 200k rows and fold the arrays: ~1.7x slower;
      * three separate groupBitOr masks and three max(): slower than packed.
    """

    name = "ClickHouse"

    def __init__(self, args, tz):
        import chdb
        from chdb import session

        self.args, self.tz = args, tz
        self.path = tempfile.mkdtemp(prefix="retention-chdb-")
        self.sess = session.Session(self.path)
        self.version = "chdb " + chdb.__version__ + " / ClickHouse " + self.q("SELECT version()")[0][0]
        self.note = "query over MergeTree tables (local date and cohort columns materialized at load)"

    def q(self, sql):
        res = self.sess.query(sql, "JSONCompact")
        text = res.bytes() if hasattr(res, "bytes") else bytes(res)
        if not text.strip():
            return []
        return json.loads(text)["data"]

    def x(self, sql):
        self.sess.query(sql)

    def load(self):
        tz = sql_str(self.tz)
        users = sql_str(os.path.join(self.args.dir, "users.csv"))
        events = sql_str(os.path.join(self.args.dir, "events.csv"))
        self.x("CREATE DATABASE IF NOT EXISTS bench")
        self.x("DROP TABLE IF EXISTS bench.users")
        self.x("DROP TABLE IF EXISTS bench.events")
        self.x("""CREATE TABLE bench.users (uix UInt32, user_id String, c_day Date, c_week Date,
                   c_month Date, c_dow Int32, c_mi Int32) ENGINE = MergeTree ORDER BY user_id""")
        self.x(f"""INSERT INTO bench.users
            SELECT toUInt32(rowNumberInAllBlocks()), user_id, c_day, toMonday(c_day), toStartOfMonth(c_day),
                   toInt32(c_day) - toInt32(toMonday(c_day)), toInt32(toRelativeMonthNum(c_day))
            FROM (SELECT user_id, toDate(signup_at, {tz}) AS c_day
                  FROM file({users}, 'CSVWithNames', {sql_str("user_id String, signup_at DateTime64(6, 'UTC')")}))
            SETTINGS date_time_input_format = 'best_effort'""")
        self.x("""CREATE TABLE bench.events (user_id String, occurred_at DateTime64(6, 'UTC'), d Date)
                  ENGINE = MergeTree ORDER BY (user_id, occurred_at)""")
        self.x(f"""INSERT INTO bench.events
            SELECT user_id, occurred_at, toDate(occurred_at, {tz})
            FROM file({events}, 'CSVWithNames', {sql_str("user_id String, occurred_at DateTime64(6, 'UTC')")})
            SETTINGS date_time_input_format = 'best_effort'""")
        self.x("OPTIMIZE TABLE bench.users FINAL")
        self.x("OPTIMIZE TABLE bench.events FINAL")
        dup = self.q("SELECT count() - uniqExact(user_id) FROM bench.users")[0][0]
        if int(dup):
            raise InputError(f"users.csv has {dup} duplicate user_id rows")
        self.info = "{} users, {} events".format(*self.q(
            "SELECT (SELECT count() FROM bench.users), (SELECT count() FROM bench.events)")[0])

    def sql(self) -> str:
        w = MAX_OFFSET["DAY"] + 1
        on = ", ".join(f"countIf(bitTest(t.3, {k}))" for k in range(w))
        ooa = ", ".join(f"countIf(t.4 >= {k})" for k in range(w))
        # One pass over the per-user rows: each user stands for its DAY, WEEK
        # and MONTH cohort (ARRAY JOIN), 31 counts computed, WEEK/MONTH keep 13.
        # (A CTE referenced three times would be computed three times.)
        return f"""
        WITH agg AS (
            SELECT uix,
                   groupBitOr(bitOr(bitOr(
                       if(od <= 30, bitShiftLeft(toUInt64(1), toUInt8(od)), toUInt64(0)),
                       if(ow <= 12, bitShiftLeft(toUInt64(1), toUInt8({WEEK_SHIFT} + ow)), toUInt64(0))),
                       if(om <= 12, bitShiftLeft(toUInt64(1), toUInt8({MONTH_SHIFT} + om)), toUInt64(0)))) AS mask,
                   max(d) AS l, 1 AS has
            FROM (
                SELECT u.uix AS uix, e.d AS d,
                       toInt32(e.d) - toInt32(u.c_day) AS od,
                       intDiv(od + u.c_dow, 7) AS ow,
                       toInt32(toRelativeMonthNum(e.d)) - u.c_mi AS om
                FROM bench.events AS e INNER JOIN bench.users AS u ON e.user_id = u.user_id
                WHERE e.d >= u.c_day
            )
            GROUP BY uix
        ), pu AS (
            SELECT u.c_day AS c_day, u.c_week AS c_week, u.c_month AS c_month,
                   bitAnd(a.mask, {DAY_BITS}) AS dmask,
                   bitAnd(bitShiftRight(a.mask, {WEEK_SHIFT}), 8191) AS wmask,
                   bitAnd(bitShiftRight(a.mask, {MONTH_SHIFT}), 8191) AS mmask,
                   if(a.has = 1, toInt32(a.l) - toInt32(u.c_day), -1) AS ld,
                   if(a.has = 1, intDiv(toInt32(a.l) - toInt32(u.c_day) + u.c_dow, 7), -1) AS lw,
                   if(a.has = 1, toInt32(toRelativeMonthNum(a.l)) - u.c_mi, -1) AS lm
            FROM bench.users AS u LEFT JOIN agg AS a ON a.uix = u.uix
        )
        SELECT t.1 AS g, t.2 AS cohort, count() AS size,
               arraySlice([{on}], 1, if(g = 'DAY', {w}, 13)) AS on_cells,
               arraySlice([{ooa}], 1, if(g = 'DAY', {w}, 13)) AS ooa_cells
        FROM pu
        ARRAY JOIN [('DAY', c_day, dmask, ld), ('WEEK', c_week, wmask, lw),
                    ('MONTH', c_month, mmask, lm)] AS t
        GROUP BY g, cohort
        SETTINGS join_use_nulls = 0, join_algorithm = 'parallel_hash'
        """

    def run(self):
        return [tuple(r) for r in self.q(self.sql())]

    def close(self):
        try:
            self.sess.close()
        finally:
            shutil.rmtree(self.path, ignore_errors=True)


class PostgresEngine:
    """Set-based SQL on the benchmark's PostgreSQL server, from the raw
    metrics.users / metrics.events.

    Timed, every run: CREATE SCHEMA bench_ref, the helper table of users with
    precomputed cohort columns (+ ANALYZE), the one query over the raw events,
    fetching the result. DROP SCHEMA bench_ref after each run is not timed.
    Session settings: work_mem 256MB, 2 parallel workers, jit on.

    Query: parallel seq scan of metrics.events, each event's local date
    computed ONCE (unnest(ARRAY[...]) in a subquery's select list: a plain
    expression would be inlined into every place that uses the date, and the
    time zone conversion is the most expensive thing per row), parallel hash
    join to the helper table on user_id, counted events only, partial +
    final hash aggregation per user (integer uix) of the packed offset mask
    and max(date), then per cohort counts.
    Other forms measured on 200k users / 10M events (2 cores, best of 2-3,
    with another build running, so +-20%):
      * the same with the date expression inlined (LATERAL (SELECT expr) or a
        plain subquery column): 1.5-2x slower (the conversion ran 6-8 times
        per row);
      * jit = off: ~1.05-1.1x slower;
      * grouped by the user_id text instead of the integer uix: ~1.1x slower;
      * join condition on a precomputed start-of-cohort-day instant
        (occurred_at >= c_start) and week/month offsets by integer arithmetic
        and a 13-way CASE on per-user month-boundary offsets: ~1.1-1.2x
        slower (wider hash-join tuples);
      * month offset by width_bucket over a per-user array of month starts:
        no faster;
      * LATERAL per user over the (user_id, occurred_at) index: ~1.1x slower;
      * merge join + group aggregate in user_id order (hash join/agg off):
        much slower (sorts spill);
      * DISTINCT (user_id, local date) first, then join: slower on this data
        (most (user, day) pairs are distinct).
    """

    name = "PostgreSQL"

    def __init__(self, args, tz, url):
        import psycopg

        self.args, self.tz, self.url = args, tz, url
        self.con = psycopg.connect(url, autocommit=True)
        self.version = "PostgreSQL " + self.con.execute("SHOW server_version").fetchone()[0]
        self.note = ("from raw metrics.users/metrics.events: helper table of cohort columns (bench_ref) "
                     "+ ANALYZE + query + fetch")

    def load(self):
        # Nothing is prepared outside the timing; only check the inputs exist.
        n_users = self.con.execute("SELECT count(*) FROM metrics.users").fetchone()[0]
        if n_users == 0:
            raise InputError("metrics.users is empty in " + self.url)
        n_events = self.con.execute("SELECT count(*) FROM metrics.events").fetchone()[0]
        self.info = f"{n_users} users, {n_events} events in metrics.users/metrics.events"
        self.con.execute("DROP SCHEMA IF EXISTS bench_ref CASCADE")
        self.con.execute("SET work_mem = '256MB'")
        self.con.execute("SET max_parallel_workers_per_gather = 2")
        self.con.execute("SET jit = on")

    def sql(self) -> str:
        tz = sql_str(self.tz)

        def bit_test(mask, k):
            return f"{mask} & {1 << k} <> 0"

        def count_if(cond):
            return f"count(*) FILTER (WHERE {cond})"

        def array(items):
            return "ARRAY[" + ", ".join(items) + "]"

        parts = [
            cohort_select("DAY", "c_day", "dmask", "ld", bit_test, count_if, array),
            cohort_select("WEEK", "c_week", "wmask", "lw", bit_test, count_if, array),
            cohort_select("MONTH", "c_month", "mmask", "lm", bit_test, count_if, array),
        ]
        # (1::bigint << LEAST(x, 63)) & bits: x used once (PostgreSQL's shift
        # takes the count modulo 64, so counts >= 64 must not get through).
        return f"""
        WITH agg AS (
            SELECT uix,
                   bit_or(((1::bigint << LEAST(od, 63)) & {DAY_BITS})
                        | (((1::bigint << LEAST(ow, 63)) & 8191) << {WEEK_SHIFT})
                        | (((1::bigint << LEAST(om, 63)) & 8191) << {MONTH_SHIFT})) AS mask,
                   max(d) AS l
            FROM (
                SELECT u.uix, e.d,
                       e.d - u.c_day AS od,
                       (e.d - u.c_day + u.c_dow) / 7 AS ow,
                       (date_part('year', e.d) * 12 + date_part('month', e.d))::int - u.c_mi AS om
                FROM (SELECT user_id, unnest(ARRAY[(occurred_at AT TIME ZONE {tz})::date]) AS d
                      FROM metrics.events) e
                JOIN bench_ref.users u ON u.user_id = e.user_id
                WHERE e.d >= u.c_day
            ) ev
            GROUP BY uix
        ), pu AS MATERIALIZED (
            SELECT u.c_day, u.c_week, u.c_month,
                   coalesce(a.mask, 0) & {DAY_BITS} AS dmask,
                   (coalesce(a.mask, 0) >> {WEEK_SHIFT}) & 8191 AS wmask,
                   (coalesce(a.mask, 0) >> {MONTH_SHIFT}) & 8191 AS mmask,
                   coalesce(a.l - u.c_day, -1) AS ld,
                   coalesce((a.l - u.c_day + u.c_dow) / 7, -1) AS lw,
                   coalesce((date_part('year', a.l) * 12 + date_part('month', a.l))::int - u.c_mi, -1) AS lm
            FROM bench_ref.users u LEFT JOIN agg a ON a.uix = u.uix
        )
        {" UNION ALL ".join(parts)}
        """

    def run(self):
        c = self.con
        c.execute("DROP SCHEMA IF EXISTS bench_ref CASCADE")
        c.execute("CREATE SCHEMA bench_ref")
        # Cohort columns per user. Week and month starts by date arithmetic
        # only (date_trunc on a date goes through timestamptz and the session
        # time zone); 0001-01-01 is a Monday.
        c.execute("""
            CREATE UNLOGGED TABLE bench_ref.users AS
            SELECT (row_number() OVER ())::int AS uix, user_id, c_day,
                   c_day - c_dow AS c_week,
                   c_day - (date_part('day', c_day)::int - 1) AS c_month,
                   c_dow,
                   (date_part('year', c_day) * 12 + date_part('month', c_day))::int AS c_mi
            FROM (SELECT user_id, c_day, (c_day - DATE '0001-01-01') % 7 AS c_dow
                  FROM (SELECT user_id, (signup_at AT TIME ZONE {tz})::date AS c_day
                        FROM metrics.users) s) s2
            """.format(tz=sql_str(self.tz)))
        c.execute("ANALYZE bench_ref.users")
        rows = c.execute(self.sql()).fetchall()
        return [(g, d.isoformat(), s, on, ooa) for g, d, s, on, ooa in rows]

    def after_run(self):
        self.con.execute("DROP SCHEMA IF EXISTS bench_ref CASCADE")

    def close(self):
        try:
            self.con.execute("DROP SCHEMA IF EXISTS bench_ref CASCADE")
        finally:
            self.con.close()


# --------------------------------------------------------------------------


def fmt_s(x):
    return "n/a" if x is None else f"{x:.3f}"


def met(ok):
    return "MET" if ok else "NOT MET"


def ingest_target(ours_t: dict) -> str:
    """The ingest target's line from meta.json's "ours": TrackEvents (with
    everything ingest maintains) against COPY of the same rows."""
    te, cp = ours_t.get("track_events_rows_per_s"), ours_t.get("copy_rows_per_s")
    if te is None or not cp:
        return "TrackEvents/COPY = n/a (target >= 50%): n/a"
    pct = 100.0 * te / cp
    return f"TrackEvents/COPY = {pct:.1f}% (target >= 50%): {met(pct >= 50)}  [{te:.0f} vs {cp:.0f} rows/s]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="output of `growth-dev bench retention --out DIR`")
    ap.add_argument("--database-url", help="scratch database (default: meta.json's database_url)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per engine; the best counts (default 3)")
    ap.add_argument("--engines", default="duckdb,clickhouse,postgres",
                    help="comma-separated subset of duckdb,clickhouse,postgres")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    wanted = [e.strip().lower() for e in args.engines.split(",") if e.strip()]
    unknown = set(wanted) - {"duckdb", "clickhouse", "postgres"}
    if unknown or not wanted:
        ap.error(f"unknown engine(s) {sorted(unknown)}; use duckdb, clickhouse, postgres")
    args.dir = os.path.abspath(args.dir)

    # ---- inputs
    try:
        for fn in ("users.csv", "events.csv", "meta.json", "ours.json"):
            if not os.path.isfile(os.path.join(args.dir, fn)):
                raise InputError(f"{os.path.join(args.dir, fn)} is missing")
        with open(os.path.join(args.dir, "meta.json")) as f:
            meta = json.load(f)
        with open(os.path.join(args.dir, "ours.json")) as f:
            ours = json.load(f)
        tz = meta.get("time_zone") or "UTC"
        if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", tz):
            raise InputError(f"time_zone {tz!r} does not look like an IANA name")
        ZoneInfo(tz)  # raises if unknown
        url = args.database_url or meta.get("database_url")
        if "postgres" in wanted and not url:
            raise InputError("no --database-url and no database_url in meta.json")
        for g in GRANULARITIES:
            for m in MODES:
                if not isinstance(ours.get(g, {}).get(m), dict):
                    raise InputError(f"ours.json has no {g}.{m}")
    except (InputError, OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    ours_t = meta.get("ours", {}) or {}
    args.today = meta.get("today") if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(meta.get("today", ""))) else None

    print(f"retention reference: {args.dir}")
    print(f"time zone {tz}, today {meta.get('today', '?')}, best of {args.runs} run(s); "
          f"one run = DAY, WEEK, MONTH x ON, ON_OR_AFTER")
    sys.stdout.flush()

    # ---- engines
    makers = {
        "duckdb": lambda: DuckDBEngine(args, tz),
        "clickhouse": lambda: ClickHouseEngine(args, tz),
        "postgres": lambda: PostgresEngine(args, tz, url),
    }
    results = []  # (name, version, best, load, note, result or None, error)
    for key in wanted:
        eng = None
        try:
            eng = makers[key]()
            t0 = time.perf_counter()
            eng.load()
            load_s = time.perf_counter() - t0
            print(f"  {eng.name}: loaded in {load_s:.2f} s (not timed)"
                  + (f": {eng.info}" if getattr(eng, "info", None) else ""), flush=True)
            best = None
            first = None
            for i in range(args.runs):
                t0 = time.perf_counter()
                rows = eng.run()
                dt = time.perf_counter() - t0
                if hasattr(eng, "after_run"):
                    eng.after_run()
                res = assemble(rows)
                if first is None:
                    first = res
                elif res != first:
                    raise RuntimeError(f"run {i + 1} gave a different result from run 1")
                best = dt if best is None else min(best, dt)
                print(f"  {eng.name}: run {i + 1}: {dt:.3f} s", flush=True)
            results.append((eng.name, eng.version, best, load_s, eng.note, first, None))
        except Exception as e:  # report, go on with the other engines
            traceback.print_exc()
            name = eng.name if eng else key
            results.append((name, getattr(eng, "version", "?"), None, None, "", None, f"{type(e).__name__}: {e}"))
        finally:
            if eng is not None:
                try:
                    eng.close()
                except Exception:
                    traceback.print_exc()

    # ---- table
    ours_full = ours_t.get("full_refresh_seconds")
    print()
    print(f"{'engine':<12} {'seconds':>9} {'ours/engine':>12}  faster                     load s  version")
    if ours_full is not None:
        print(f"{'ours':<12} {ours_full:>9.3f} {'':>12}  (full_refresh_seconds from meta.json: the user matrices)")
    for name, version, best, load_s, note, res, err in results:
        if err:
            print(f"{name:<12} {'FAILED':>9}  {err}")
            continue
        if ours_full is not None and best:
            ratio = ours_full / best
            faster = f"ours, {1 / ratio:.2f}x" if ratio < 1 else f"{name}, {ratio:.2f}x"
            print(f"{name:<12} {best:>9.3f} {ratio:>12.3f}  {faster:<26} {load_s:>6.2f}  {version}")
        else:
            print(f"{name:<12} {best:>9.3f} {'n/a':>12}  {'':<26} {load_s:>6.2f}  {version}")
    for name, version, best, load_s, note, res, err in results:
        if not err:
            print(f"  {name} seconds: {note}")

    # ---- targets
    def get(name):
        for r in results:
            if r[0] == name and not r[6]:
                return r[2]
        return None

    print()
    ch = get("ClickHouse")
    if ours_full is None or ch is None:
        print(f"full refresh (ours) {fmt_s(ours_full)} s vs ClickHouse best {fmt_s(ch)} s: faster: n/a")
    else:
        print(f"full refresh (ours) {ours_full:.3f} s vs ClickHouse best {ch:.3f} s: faster: {met(ours_full < ch)}")
    rebuild = ours_t.get("rebuild_seconds")
    pg = get("PostgreSQL")
    if rebuild is None or pg is None:
        print(f"rebuild from raw events (ours) {fmt_s(rebuild)} s vs fastest PostgreSQL set-based SQL {fmt_s(pg)} s: n/a")
    else:
        print(f"rebuild from raw events (ours) {rebuild:.3f} s vs fastest PostgreSQL set-based SQL {pg:.3f} s: "
              f"{met(rebuild <= pg)}  [every row rewritten; "
              f"{fmt_s(ours_t.get('rebuild_unchanged_seconds'))} s when the rollup was already right]")
    with_revenue = ours_t.get("full_refresh_with_revenue_seconds")
    if with_revenue is not None:
        print(f"full refresh with the revenue cells too (ours) {with_revenue:.3f} s (no target)")
    inc = ours_t.get("incremental_refresh_ms")
    idle = ours_t.get("idle_refresh_ms")
    print(f"incremental refresh without VACUUM {'n/a' if inc is None else f'{inc:.1f}'} ms (target < 200 ms): "
          f"{'n/a' if inc is None else met(inc < 200)}"
          + ("" if idle is None else f"  [{idle:.1f} ms with nothing to do]"))
    p50, p99 = ours_t.get("read_p50_ms"), ours_t.get("read_p99_ms")
    print(f"GetRetentionMatrix p99 {'n/a' if p99 is None else f'{p99:.2f}'} ms (target < 20 ms): "
          f"{'n/a' if p99 is None else met(p99 < 20)}"
          + ("" if p50 is None else f"  [p50 {p50:.2f} ms]"))
    print(ingest_target(ours_t))

    # ---- correctness
    print()
    total, diffs = 0, []
    for name, version, best, load_s, note, res, err in results:
        if res is None:
            continue
        n, d = compare(ours, res, name)
        total += n
        diffs += d
        print(f"  {name}: {n} cells compared (cohort sizes included), {len(d)} differences")
    print(f"cells compared: {total}, differences: {len(diffs)}")
    if diffs:
        print("first differences (engine, granularity, mode, cohort, offset, ours, engine):")
        for d in diffs[:20]:
            print("  " + ", ".join(str(x) for x in d))
        return 1
    if any(r[6] for r in results):
        print("error: an engine failed, its cells were not compared", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
