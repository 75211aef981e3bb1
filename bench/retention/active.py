#!/usr/bin/env python3
"""Daily active users, the reference side of the weekly-insights benchmark.

    python active.py --dir DIR [--runs 3] [--forms sweep,sweep_rows,plain]

Loads the events that `growth-dev bench retention` exported (DIR/events.csv,
the same DuckDB tables as engines.py's DuckDB engine; the load is reported,
not timed), computes DAU, WAU and MAU for every day of DIR/active_ours.json's
range with DuckDB, times each formulation (best of --runs; `plain` once, it
is the slow textbook form), compares every day of every formulation with
active_ours.json (what GetActiveUsers answered), and prints the targets:
the daily series faster than DuckDB's fastest form, the weekly report
(GenerateGrowthInsights without the AI part) < 1 s server time, ingest
>= 50% of COPY (all from DIR/meta.json).

Exit code: 0 when every day of every form equals active_ours.json; 1 on any
difference (the first 20 printed); 2 on bad input. Targets NOT MET are
printed but do not change the exit code.

Definitions (services/metrics/src/active/series.rs):
  day(t) = (t AT TIME ZONE tz)::date; a user is active on a day when at
  least one counted event (events.csv holds the counted events) has that
  local day, whatever their signup (activity before signup counts);
  DAU(D) = users active on D; WAU(D) = users active on D-6..D;
  MAU(D) = users active on D-27..D (rolling 28 days). Also compared, not
  timed: new (first active day ever), returning (active on D and on one of
  the 28 days before), resurrected (active on D, before, but not in the 28
  days before).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import date, timedelta

from engines import DuckDBEngine, InputError, fmt_s, ingest_target, met

WEEK, MONTH = 7, 28


def pairs_distinct(lo: str, hi: str) -> str:
    """(d, p): each user's distinct active days in lo..hi and the previous
    one (NULL for the first): DISTINCT, then a window."""
    return f"""
        SELECT d, lag(d) OVER (PARTITION BY user_id ORDER BY d) AS p
        FROM (SELECT DISTINCT user_id, d FROM events WHERE d BETWEEN {lo} AND {hi})"""


def pairs_rows(lo: str, hi: str) -> str:
    """The same pairs from one window over the events themselves: with the
    events of a user in day order, a row whose previous row has another day
    (or none) starts a distinct day, and that previous row's day is the
    previous distinct day."""
    return f"""
        SELECT d, p FROM (
            SELECT d, lag(d) OVER (PARTITION BY user_id ORDER BY d) AS p
            FROM events WHERE d BETWEEN {lo} AND {hi}
        ) WHERE p IS NULL OR p < d"""


def sweep(pairs: str, lo: str, frm: str, to: str) -> str:
    """+1/-1 sweep: an active day d puts its user in the WAU of d..d+6; of
    those days, the ones an earlier active day p did not cover already start
    at max(d, p+7). So per pair: +1 at max(d, p+7) and -1 at d+7 (28 for
    MAU). The -1 edges are the DAU of 7 (28) days before, so WAU(D) = the
    running sum of the +1 edges minus the running DAU at D-7: three small
    GROUP BYs (DAU, WAU starts, MAU starts) over the pairs, running sums over
    a calendar of the days. Pairs from 27 days before the range on are
    enough. (Tried too: all five edges as one UNION ALL, grouped once:
    2.28 s against 2.02 s for this on the 10M events, same pairs.)"""
    return f"""
        WITH s AS MATERIALIZED ({pairs}),
        cal AS (
            SELECT CAST(range AS DATE) AS day
            FROM range(CAST({lo} AS TIMESTAMP), CAST({to} AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY)
        ),
        a AS (SELECT d AS day, count(*) AS n FROM s GROUP BY d),
        w AS (SELECT CASE WHEN p + {WEEK} > d THEN p + {WEEK} ELSE d END AS day, count(*) AS n FROM s GROUP BY 1),
        m AS (SELECT CASE WHEN p + {MONTH} > d THEN p + {MONTH} ELSE d END AS day, count(*) AS n FROM s GROUP BY 1),
        running AS (
            SELECT c.day, coalesce(a.n, 0) AS dau,
                   sum(coalesce(w.n, 0)) OVER (ORDER BY c.day) AS w_in,
                   sum(coalesce(m.n, 0)) OVER (ORDER BY c.day) AS m_in,
                   sum(coalesce(a.n, 0)) OVER (ORDER BY c.day) AS a_in
            FROM cal c LEFT JOIN a USING (day) LEFT JOIN w USING (day) LEFT JOIN m USING (day)
        ),
        counts AS (
            SELECT day, dau,
                   w_in - coalesce(lag(a_in, {WEEK}) OVER (ORDER BY day), 0) AS wau,
                   m_in - coalesce(lag(a_in, {MONTH}) OVER (ORDER BY day), 0) AS mau
            FROM running
        )
        SELECT day, dau, wau, mau FROM counts WHERE day >= {frm} ORDER BY day"""


def plain(lo: str, frm: str, to: str) -> str:
    """The textbook form: every day of the range joined to the distinct
    (user, day) pairs of its 28-day window, count(DISTINCT) per window."""
    return f"""
        WITH ud AS (SELECT DISTINCT user_id, d FROM events WHERE d BETWEEN {lo} AND {to}),
        cal AS (
            SELECT CAST(range AS DATE) AS day
            FROM range(CAST({frm} AS TIMESTAMP), CAST({to} AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY)
        ),
        counted AS (
            SELECT c.day,
                   count(DISTINCT u.user_id) FILTER (WHERE u.d = c.day) AS dau,
                   count(DISTINCT u.user_id) FILTER (WHERE u.d > c.day - {WEEK}) AS wau,
                   count(DISTINCT u.user_id) AS mau
            FROM cal c JOIN ud u ON u.d BETWEEN c.day - {MONTH - 1} AND c.day
            GROUP BY c.day
        )
        SELECT c.day, coalesce(n.dau, 0), coalesce(n.wau, 0), coalesce(n.mau, 0)
        FROM cal c LEFT JOIN counted n ON n.day = c.day ORDER BY c.day"""


# name -> (description, SQL builder (lo, from, to), timed runs: None = --runs)
FORMS = {
    "sweep": ("DISTINCT (user, day), lag per user, +1 edges, running sums minus DAU 7/28 days back",
              lambda lo, f, t: sweep(pairs_distinct(lo, t), lo, f, t), None),
    "sweep_rows": ("lag over the events (no DISTINCT), then as sweep",
                   lambda lo, f, t: sweep(pairs_rows(lo, t), lo, f, t), None),
    "plain": ("calendar JOIN distinct (user, day) on the 28-day window, count(DISTINCT)",
              lambda lo, f, t: plain(lo, f, t), 1),
}


def kinds_sql(frm: str, to: str) -> str:
    """new / returning / resurrected per day (not timed): each distinct
    active day with the user's previous one, from the first event on."""
    return f"""
        WITH s AS ({pairs_distinct("DATE '0001-01-01'", to)})
        SELECT d, count(*) FILTER (WHERE p IS NULL),
               count(*) FILTER (WHERE d - p <= {MONTH}),
               count(*) FILTER (WHERE d - p > {MONTH})
        FROM s WHERE d >= {frm} GROUP BY d"""


def read_inputs(d: str):
    for fn in ("users.csv", "events.csv", "meta.json", "active_ours.json"):
        if not os.path.isfile(os.path.join(d, fn)):
            raise InputError(f"{os.path.join(d, fn)} is missing (run growth-dev bench retention first)")
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(d, "active_ours.json")) as f:
        ours = json.load(f)
    if meta.get("activity_events"):
        # events.csv has no names: it must hold the counted events only.
        print(f"note: ACTIVITY_EVENTS = {meta['activity_events']}; events.csv is taken as the counted events")
    try:
        frm = date.fromisoformat(ours["from"])
        to = date.fromisoformat(ours["to"])
        days = ours["days"]
        if not isinstance(days, dict):
            raise ValueError("days is not an object")
    except (KeyError, ValueError, TypeError) as e:
        raise InputError(f"active_ours.json: {e}") from e
    if frm > to:
        raise InputError(f"active_ours.json: from {frm} is after to {to}")
    tz = ours.get("time_zone") or meta.get("time_zone") or "UTC"
    if tz != (meta.get("time_zone") or "UTC"):
        raise InputError(f"active_ours.json's time zone {tz} is not meta.json's {meta.get('time_zone')}")
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", tz):
        raise InputError(f"time_zone {tz!r} does not look like an IANA name")
    return meta, ours, frm, to, tz


def compare(ours_days: dict, theirs: dict, fields, label: str, frm: date, to: date):
    """Every day of frm..to, every field; a day missing on either side is a
    difference. Returns (values compared, differences)."""
    n, diffs = 0, []
    day = frm
    while day <= to:
        key = day.isoformat()
        a, b = ours_days.get(key), theirs.get(key)
        for i, field in enumerate(fields):
            n += 1
            va = None if a is None else a.get(field)
            vb = None if b is None else b[i]
            if va != vb:
                diffs.append((label, key, field, va, vb))
        day += timedelta(days=1)
    extra = sorted(set(ours_days) - {(frm + timedelta(days=i)).isoformat() for i in range((to - frm).days + 1)})
    for key in extra:
        diffs.append((label, key, "day", "present", "outside the range"))
    return n, diffs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="output of `growth-dev bench retention --out DIR`")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per form; the best counts (default 3)")
    ap.add_argument("--forms", default=",".join(FORMS), help=f"comma-separated subset of {','.join(FORMS)}")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    forms = [f.strip() for f in args.forms.split(",") if f.strip()]
    if not forms or set(forms) - set(FORMS):
        ap.error(f"unknown form(s) {sorted(set(forms) - set(FORMS))}; use {', '.join(FORMS)}")
    args.dir = os.path.abspath(args.dir)
    try:
        meta, ours, frm, to, tz = read_inputs(args.dir)
    except (InputError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.today = meta.get("today") if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(meta.get("today", ""))) else None
    active = meta.get("active") or {}
    n_days = (to - frm).days + 1
    lo_date = frm - timedelta(days=MONTH - 1)
    q = lambda d: f"DATE '{d.isoformat()}'"  # noqa: E731
    lo, f_, t_ = q(lo_date), q(frm), q(to)

    print(f"active users reference: {args.dir}")
    print(f"time zone {tz}, days {frm}..{to} ({n_days}), best of {args.runs} run(s); "
          "one run = DAU, WAU (7 days) and MAU (28 days) for every day")
    eng = DuckDBEngine(args, tz)
    results = {}  # form -> (best seconds, runs, {day: (dau, wau, mau)})
    try:
        t0 = time.perf_counter()
        eng.load()
        load_s = time.perf_counter() - t0
        print(f"  DuckDB {eng.version}: loaded in {load_s:.2f} s (not timed): {eng.info}", flush=True)
        for name in forms:
            desc, build, fixed_runs = FORMS[name]
            sql = build(lo, f_, t_)
            times, first = [], None
            for i in range(fixed_runs or args.runs):
                t0 = time.perf_counter()
                rows = eng.con.execute(sql).fetchall()
                times.append(time.perf_counter() - t0)
                got = {d.isoformat(): (int(a), int(w), int(m)) for d, a, w, m in rows}
                if first is not None and got != first:
                    print(f"error: {name}: run {i + 1} differs from run 1", file=sys.stderr)
                    return 2
                first = got
                print(f"  DuckDB {name}: run {i + 1}: {times[-1]:.3f} s", flush=True)
            results[name] = (min(times), len(times), first)
        kinds = {(frm + timedelta(days=i)).isoformat(): (0, 0, 0) for i in range(n_days)}
        kinds.update({d.isoformat(): (int(n), int(r), int(s))
                      for d, n, r, s in eng.con.execute(kinds_sql(f_, t_)).fetchall()})
    except Exception as e:  # an engine that cannot run: not a difference
        print(f"error: DuckDB: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    finally:
        eng.close()

    # ---- table
    ours_s = active.get("series_seconds")
    ours_server = active.get("series_server_seconds")
    print()
    print(f"{'daily series':<34} {'seconds':>9} {'ours/engine':>12}  runs  how")
    print(f"{'ours (GetActiveUsers)':<34} {fmt_s(ours_s):>9} {'':>12}  {'':>4}  round trip on the loopback, "
          f"server {fmt_s(ours_server)} s (meta.json)")
    for name in forms:
        best, runs, _ = results[name]
        ratio = f"{ours_s / best:.3f}" if ours_s else "n/a"
        print(f"{'DuckDB ' + name:<34} {best:>9.3f} {ratio:>12}  {runs:>4}  {FORMS[name][0]}")
    fastest = min(forms, key=lambda n: results[n][0])

    # ---- targets
    print()
    duck = results[fastest][0]
    if ours_s is None:
        print(f"daily series (ours) n/a vs DuckDB best ({fastest}) {duck:.3f} s: faster: n/a")
    else:
        print(f"daily series, {n_days} days of DAU/WAU/MAU (ours) {ours_s:.3f} s vs DuckDB best ({fastest}) "
              f"{duck:.3f} s: faster: {met(ours_s < duck)}  [ours/DuckDB = {ours_s / duck:.3f}; "
              f"server {fmt_s(ours_server)} s]")
    med, best = active.get("report_server_seconds_median"), active.get("report_server_seconds_best")
    if med is None:
        print("weekly report without AI, server time n/a (target < 1 s): n/a")
    else:
        print(f"weekly report {active.get('report_week', '?')} without AI, server time median {med * 1000:.1f} ms "
              f"(target < 1 s): {met(med < 1.0)}  [best {best * 1000:.1f} ms; round trip median "
              f"{active.get('report_seconds_median', 0) * 1000:.1f} ms, best "
              f"{active.get('report_seconds_best', 0) * 1000:.1f} ms; {active.get('report_calls', '?')} calls]")
    print("ingest (TrackEvents, with the rollup and the active years) vs COPY: "
          + ingest_target(meta.get("ours") or {}))

    # ---- correctness
    print()
    total, diffs = 0, []
    for name in forms:
        n, d = compare(ours["days"], results[name][2], ("dau", "wau", "mau"), f"DuckDB {name}", frm, to)
        total += n
        diffs += d
        print(f"  DuckDB {name}: {n} values compared ({n_days} days x DAU, WAU, MAU), {len(d)} differences")
    n, d = compare(ours["days"], kinds, ("new", "returning", "resurrected"), "DuckDB kinds", frm, to)
    total += n
    diffs += d
    print(f"  DuckDB new/returning/resurrected (not timed): {n} values compared, {len(d)} differences")
    print(f"values compared: {total}, differences: {len(diffs)}"
          + ("" if diffs else f"; every day equal ({n_days} days)"))
    if diffs:
        print("first differences (form, day, field, ours, DuckDB):")
        for x in diffs[:20]:
            print("  " + ", ".join(str(v) for v in x))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
