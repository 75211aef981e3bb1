#!/usr/bin/env python3
"""Self-check of the retention reference side, and the definitions as code.

    python selfcheck.py [--users 2000] [--events 100000] [--tz Europe/Berlin] [--csv-from-postgres]
                        [--dir DIR] [--keep] [--corrupt] [--runs 3]
                        [--engines duckdb,clickhouse,postgres]

End to end, without the Rust side:

1. generates a synthetic users.csv / events.csv (RFC 3339 UTC) with the
   awkward cases on purpose: signups and events within minutes of local
   midnight, on DST change days, at exactly 00:00:00 and 23:59:59.999999
   local, around New Year (ISO weeks across years), activity before the
   signup day, users with no activity, users active only 20 months later;
2. creates a scratch PostgreSQL database `retention_selfcheck_<pid>` with
   metrics.users / metrics.events (+ index events(user_id, occurred_at))
   holding the same rows;
3. computes ours.json with `reference()` below: a deliberately plain,
   row-at-a-time implementation of the definitions (no SQL, no tricks);
4. writes meta.json (the "ours" timings in it are placeholders: this is a
   correctness check, not a benchmark of the Rust service);
5. runs engines.py on that directory and expects exit 0 (or, with --corrupt,
   alters one cell of ours.json first and expects exit 1); then the same
   with active.py and active_ours.json, computed by active_reference.py
   (with --corrupt, one day's MAU altered);
6. drops the scratch database (unless --keep) and the directory (unless
   --dir was given).

Only the standard library is needed for 1, 3 and 4; psycopg for 2.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from active_reference import active_range, active_reference

# --------------------------------------------------------------------------
# The definitions, as code.
# --------------------------------------------------------------------------

MAX_OFFSET = {"DAY": 30, "WEEK": 12, "MONTH": 12}
GRANULARITIES = ("DAY", "WEEK", "MONTH")
MODES = ("on", "on_or_after")


def parse_rfc3339(s: str) -> datetime:
    """An RFC 3339 timestamp ('2025-03-01T10:00:00Z', fractions allowed)."""
    t = datetime.fromisoformat(s.strip())
    if t.tzinfo is None:
        raise ValueError(f"timestamp without offset: {s!r}")
    return t


def day(t: datetime, tz: ZoneInfo) -> date:
    """Calendar date of instant t in the reporting zone: (t AT TIME ZONE tz)::date."""
    return t.astimezone(tz).date()


def monday(d: date) -> date:
    """Monday of d's ISO week."""
    return d - timedelta(days=d.weekday())


def cohort_start(g: str, c: date) -> date:
    """The cohort a user with cohort day c belongs to, keyed by its first day."""
    if g == "DAY":
        return c
    if g == "WEEK":
        return monday(c)
    return c.replace(day=1)


def offset(g: str, c: date, a: date) -> int:
    """Offset of activity day a for a user whose cohort day is c."""
    if g == "DAY":
        return (a - c).days
    if g == "WEEK":
        return (monday(a) - monday(c)).days // 7  # exact: both are Mondays
    return 12 * (a.year - c.year) + a.month - c.month


def reference(users: dict[str, datetime], events: list[tuple[str, datetime]], tz: ZoneInfo) -> dict:
    """The three matrices in both modes, straight from the definitions.

    users: user_id -> signup_at; events: (user_id, occurred_at), every one an
    activity event. Returns {g: {mode: {cohort 'YYYY-MM-DD': {"size", "cells"}}}}.
    """
    c_of = {u: day(s, tz) for u, s in users.items()}          # cohort day
    counted: dict[str, set[date]] = {u: set() for u in users}  # counted activity days
    for u, t in events:
        if u not in c_of:
            continue  # an event of an unknown user has no cohort
        a = day(t, tz)
        if a >= c_of[u]:  # activity before the signup day is ignored
            counted[u].add(a)

    out: dict = {}
    for g in GRANULARITIES:
        m = MAX_OFFSET[g]
        on: dict[date, list[int]] = {}
        ooa: dict[date, list[int]] = {}
        size: dict[date, int] = {}
        for u, c in c_of.items():
            k0 = cohort_start(g, c)
            size[k0] = size.get(k0, 0) + 1
            on.setdefault(k0, [0] * (m + 1))
            ooa.setdefault(k0, [0] * (m + 1))
            offs = {offset(g, c, a) for a in counted[u]}
            # ON: at least one counted event at offset k (offsets > max ignored).
            for k in offs:
                if k <= m:
                    on[k0][k] += 1
            # ON_OR_AFTER: the LAST counted event has offset >= k (unbounded:
            # a user last active at offset 20 counts for every k in 0..max).
            if counted[u]:
                last = offset(g, c, max(counted[u]))
                for k in range(0, min(last, m) + 1):
                    ooa[k0][k] += 1
        out[g] = {
            "on": {k.isoformat(): {"size": size[k], "cells": on[k]} for k in sorted(size)},
            "on_or_after": {k.isoformat(): {"size": size[k], "cells": ooa[k]} for k in sorted(size)},
        }
    return out


# --------------------------------------------------------------------------
# Synthetic data.
# --------------------------------------------------------------------------


def rfc3339(t: datetime) -> str:
    s = t.astimezone(timezone.utc).isoformat()
    assert s.endswith("+00:00")
    return s[:-6] + "Z"


def local_instant(d: date, hh: int, mm: int, ss: int, us: int, tz: ZoneInfo) -> datetime:
    """The instant of local wall time d hh:mm:ss.us in tz (fold=0 on repeats)."""
    return datetime(d.year, d.month, d.day, hh, mm, ss, us, tzinfo=tz)


def dst_days(tz: ZoneInfo, first: date, last: date) -> list[date]:
    out = []
    d = first
    while d < last:
        a = datetime(d.year, d.month, d.day, 12, tzinfo=tz).utcoffset()
        b = datetime((d + timedelta(1)).year, (d + timedelta(1)).month, (d + timedelta(1)).day, 12, tzinfo=tz).utcoffset()
        if a != b:
            out.append(d + timedelta(1))
        d += timedelta(1)
    return out


def generate(out_dir: str, n_users: int, n_events: int, tz: ZoneInfo, seed: int) -> tuple[dict, list]:
    rnd = random.Random(seed)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    today = day(now, tz)
    span_days = 700  # signups over the last ~23 months
    first = today - timedelta(days=span_days)
    special_days = dst_days(tz, first, today)
    # New Year and month ends (ISO weeks across years, month boundaries)
    for y in range(first.year, today.year + 1):
        for md in ((12, 29), (12, 31), (1, 1), (1, 4)):
            d = date(y, *md)
            if first <= d <= today:
                special_days.append(d)

    def near_midnight(d: date) -> datetime:
        r = rnd.random()
        if r < 0.15:
            return local_instant(d, 0, 0, 0, 0, tz)
        if r < 0.3:
            return local_instant(d, 23, 59, 59, 999999, tz)
        if r < 0.65:
            return local_instant(d, 23, rnd.randrange(30, 60), rnd.randrange(60), rnd.randrange(10**6), tz)
        return local_instant(d, 0, rnd.randrange(0, 30), rnd.randrange(60), rnd.randrange(10**6), tz)

    users: dict[str, datetime] = {}
    kinds: dict[str, str] = {}
    while len(users) < n_users:
        uid = "u_%012x" % rnd.getrandbits(48)
        if uid in users:
            continue
        r = rnd.random()
        if r < 0.05 and special_days:
            s = near_midnight(rnd.choice(special_days))
        elif r < 0.40:
            s = near_midnight(first + timedelta(days=rnd.randrange(span_days + 1)))
        else:
            s = now - timedelta(seconds=rnd.randrange(span_days * 86400))
        s = min(s, now)
        users[uid] = s
        r = rnd.random()
        kinds[uid] = "none" if r < 0.08 else ("late" if r < 0.10 else "normal")

    uids = list(users)
    weights = [0 if kinds[u] == "none" else rnd.choice((1, 1, 2, 4, 8)) for u in uids]
    events: list[tuple[str, datetime]] = []
    owners = rnd.choices(uids, weights=weights, k=n_events)
    c_of = {u: day(s, tz) for u, s in users.items()}
    for u in owners:
        s = users[u]
        c = c_of[u]
        r = rnd.random()
        if kinds[u] == "late":  # active only around month 20 and later
            t = s + timedelta(days=rnd.uniform(600, 640))
        elif r < 0.08:  # before the signup (same UTC day or a few days earlier)
            t = s - timedelta(seconds=rnd.randrange(1, 3 * 86400))
        elif r < 0.30:  # around a local midnight at a period edge
            k = rnd.choice((0, 1, 6, 7, 13, 14, 29, 30, 31, 32, 90, 91, 92, 364, 365, 366, 395, 396))
            t = near_midnight(c + timedelta(days=k))
        elif r < 0.75:
            t = s + timedelta(seconds=rnd.randrange(0, 40 * 86400))
        else:
            t = s + timedelta(seconds=rnd.randrange(0, 700 * 86400))
        if t > now:
            t = now - timedelta(seconds=rnd.randrange(0, 3600))
        events.append((u, t))
    rnd.shuffle(events)

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "users.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["user_id", "signup_at"])
        for u, s in users.items():
            w.writerow([u, rfc3339(s)])
    with open(os.path.join(out_dir, "events.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["user_id", "occurred_at"])
        for u, t in events:
            w.writerow([u, rfc3339(t)])
    return users, events


def read_dir(d: str) -> tuple[dict, list]:
    users = {}
    with open(os.path.join(d, "users.csv"), newline="") as f:
        for row in csv.DictReader(f):
            users[row["user_id"]] = parse_rfc3339(row["signup_at"])
    events = []
    with open(os.path.join(d, "events.csv"), newline="") as f:
        for row in csv.DictReader(f):
            events.append((row["user_id"], parse_rfc3339(row["occurred_at"])))
    return users, events


# --------------------------------------------------------------------------
# Scratch PostgreSQL database, as the Rust side leaves it.
# --------------------------------------------------------------------------


def load_postgres(base_url: str, db: str, data_dir: str) -> str:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{db}"')
        con.execute(f'CREATE DATABASE "{db}"')
    url = base_url.rsplit("/", 1)[0] + "/" + db
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE SCHEMA metrics")
        con.execute("""CREATE TABLE metrics.users (
            user_id text PRIMARY KEY, signup_at timestamptz NOT NULL)""")
        con.execute("""CREATE TABLE metrics.events (
            event_id bigserial PRIMARY KEY,
            user_id text NOT NULL REFERENCES metrics.users (user_id),
            name text NOT NULL DEFAULT 'activity',
            occurred_at timestamptz NOT NULL)""")
        for table, cols, fn in (("users", "user_id, signup_at", "users.csv"),
                                ("events", "user_id, occurred_at", "events.csv")):
            with con.cursor() as cur:
                with cur.copy(f"COPY metrics.{table} ({cols}) FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                    with open(os.path.join(data_dir, fn), "rb") as f:
                        while chunk := f.read(1 << 20):
                            cp.write(chunk)
        con.execute("CREATE INDEX events_user_occurred_idx ON metrics.events (user_id, occurred_at)")
        con.execute("VACUUM ANALYZE metrics.users")
        con.execute("VACUUM ANALYZE metrics.events")
    return url


def export_from_postgres(url: str, data_dir: str) -> None:
    """Rewrite users.csv / events.csv as `growth-dev bench retention` writes
    them: COPY (SELECT ...) TO STDOUT WITH (FORMAT csv, HEADER), i.e. in
    PostgreSQL's text form ('2025-03-01 23:30:00.123456+00'), not 'T...Z'."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        for fn, q in (("users.csv", "SELECT user_id, signup_at FROM metrics.users"),
                      ("events.csv", "SELECT user_id, occurred_at FROM metrics.events")):
            with con.cursor() as cur, open(os.path.join(data_dir, fn), "wb") as f:
                with cur.copy(f"COPY ({q}) TO STDOUT WITH (FORMAT csv, HEADER)") as cp:
                    for chunk in cp:
                        f.write(chunk)


def drop_postgres(base_url: str, db: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--tz", default="Europe/Berlin")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--dir", help="keep the generated data here (default: a temporary directory, removed)")
    ap.add_argument("--server-url", default="postgres://postgres@127.0.0.1:5432/postgres",
                    help="a database on the server to run CREATE/DROP DATABASE from")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    ap.add_argument("--corrupt", action="store_true",
                    help="change one cell of ours.json and expect engines.py to exit 1")
    ap.add_argument("--generate-only", action="store_true",
                    help="generate, load PostgreSQL, write ours.json/meta.json, then stop (implies --keep)")
    ap.add_argument("--csv-from-postgres", action="store_true",
                    help="after loading, rewrite the CSVs with COPY ... TO STDOUT (PostgreSQL's timestamp "
                         "text, as growthctl writes them) and compute the reference from those")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", default="duckdb,clickhouse,postgres")
    args = ap.parse_args()

    tz = ZoneInfo(args.tz)
    data_dir = args.dir or tempfile.mkdtemp(prefix="retention-selfcheck-")
    db = f"retention_selfcheck_{os.getpid()}"
    keep = args.keep or args.generate_only
    t0 = time.monotonic()
    print(f"selfcheck: generating {args.users} users, {args.events} events in {args.tz} -> {data_dir}", flush=True)
    generate(data_dir, args.users, args.events, tz, args.seed)
    print(f"selfcheck: generated in {time.monotonic() - t0:.1f} s; loading PostgreSQL database {db}", flush=True)
    t0 = time.monotonic()
    url = load_postgres(args.server_url, db, data_dir)
    if args.csv_from_postgres:
        export_from_postgres(url, data_dir)
    # The reference reads the files back, exactly as the engines do.
    users, events = read_dir(data_dir)
    print(f"selfcheck: loaded in {time.monotonic() - t0:.1f} s; computing the plain Python reference", flush=True)
    t0 = time.monotonic()
    ours = reference(users, events, tz)
    print(f"selfcheck: reference computed in {time.monotonic() - t0:.1f} s", flush=True)
    if args.corrupt:
        some = next(iter(ours["WEEK"]["on_or_after"].values()))
        some["cells"][1] += 1
    with open(os.path.join(data_dir, "ours.json"), "w") as f:
        json.dump(ours, f)
    active = {}
    for u, t in events:
        active.setdefault(u, set()).add(day(t, tz))
    frm, to = active_range(set().union(*active.values()))
    active_days = active_reference(active, frm, to)
    if args.corrupt:
        active_days[frm.isoformat()]["mau"] += 1
    with open(os.path.join(data_dir, "active_ours.json"), "w") as f:
        json.dump({"time_zone": args.tz, "from": frm.isoformat(), "to": to.isoformat(), "days": active_days}, f)
    meta = {
        "time_zone": args.tz,
        "today": day(datetime.now(timezone.utc), tz).isoformat(),
        "database_url": url,
        # Placeholders: selfcheck checks correctness, it does not run the Rust service.
        "ours": {"full_refresh_seconds": 1.0, "rebuild_seconds": 1.0, "incremental_refresh_ms": 50.0,
                 "read_p50_ms": 2.0, "read_p99_ms": 5.0, "track_events_rows_per_s": 60000.0,
                 "copy_rows_per_s": 100000.0},
        "active": {"series_seconds": 1.0, "series_server_seconds": 1.0, "report_week": "placeholder",
                   "report_calls": 0, "report_seconds_best": 0.5, "report_seconds_median": 0.5,
                   "report_server_seconds_best": 0.5, "report_server_seconds_median": 0.5},
    }
    with open(os.path.join(data_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)

    if args.generate_only:
        print(f"selfcheck: data in {data_dir}, database {url} kept")
        return 0

    try:
        here = os.path.dirname(os.path.abspath(__file__))
        cmd = [sys.executable, os.path.join(here, "engines.py"), "--dir", data_dir,
               "--runs", str(args.runs), "--engines", args.engines]
        print("selfcheck: running", " ".join(cmd), flush=True)
        rc = subprocess.call(cmd)
        cmd = [sys.executable, os.path.join(here, "active.py"), "--dir", data_dir, "--runs", str(args.runs)]
        print("selfcheck: running", " ".join(cmd), flush=True)
        rc_active = subprocess.call(cmd)
    finally:
        if keep:
            print(f"selfcheck: database {url} kept")
        else:
            drop_postgres(args.server_url, db)
        if not args.dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    want = 1 if args.corrupt else 0
    verdict = "PASS" if rc == want and rc_active == want else "FAIL"
    print(f"selfcheck: {verdict} (engines.py exited {rc}, active.py {rc_active}, expected {want})")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
