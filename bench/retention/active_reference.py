"""Daily active users as plain code: what active.py's DuckDB forms and the
service's GetActiveUsers (services/metrics/src/active/series.rs) must agree
with, row at a time, no tricks. Used by selfcheck.py."""
from __future__ import annotations

from datetime import date, timedelta

WEEK, MONTH = 7, 28
MIN_DAYS = 365


def active_range(days: set[date]) -> tuple[date, date]:
    """The range the Rust side asks for: first to last active day, widened
    to a year back from the last."""
    first, last = min(days), max(days)
    return min(first, last - timedelta(days=MIN_DAYS - 1)), last


def active_reference(active: dict[str, set[date]], frm: date, to: date) -> dict:
    """active: user -> their active (local) days. Returns active_ours.json's
    "days": {day: {dau, wau, mau, new, returning, resurrected}}."""
    n = (to - frm).days + 1
    out = [dict(dau=0, wau=0, mau=0, new=0, returning=0, resurrected=0) for _ in range(n)]
    for days in active.values():
        ordered = sorted(days)
        for window, field in ((WEEK, "wau"), (MONTH, "mau")):
            covered = {a + timedelta(days=k) for a in ordered for k in range(window)}
            for d in covered:
                if frm <= d <= to:
                    out[(d - frm).days][field] += 1
        for i, a in enumerate(ordered):
            if not frm <= a <= to:
                continue
            c = out[(a - frm).days]
            c["dau"] += 1
            if i == 0:
                c["new"] += 1
            elif (a - ordered[i - 1]).days <= MONTH:
                c["returning"] += 1
            else:
                c["resurrected"] += 1
    return {(frm + timedelta(days=i)).isoformat(): c for i, c in enumerate(out)}
