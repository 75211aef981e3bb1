#!/usr/bin/env bash
# Reference side of the retention benchmark (README.md beside this file).
#
#   bench/retention/run.sh --dir DIR [--database-url URL] [--runs 3] [--engines duckdb,clickhouse,postgres]
#   bench/retention/run.sh selfcheck [--users 2000 --events 100000 --tz Europe/Berlin ...]
#   bench/retention/run.sh active --dir DIR [--runs 3] [--forms sweep,sweep_rows,plain]
#
# Creates bench/retention/.venv (once, and again when requirements.txt
# changes), installs the pinned duckdb, chdb and psycopg[binary] into it, then
# runs engines.py (or selfcheck.py, or active.py) with it. Exit code: the script's.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
stamp="$venv/.requirements.installed"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "run.sh: $python not found (set PYTHON=/path/to/python3.11)" >&2
    exit 2
fi

if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$here/requirements.txt" "$stamp"; then
    echo "run.sh: setting up $venv with $("$python" --version 2>&1)" >&2
    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
        echo "run.sh: could not create a virtualenv (on Debian: apt-get install python3-venv)" >&2
        exit 2
    fi
    echo "run.sh: installing pinned packages from requirements.txt (duckdb, chdb, psycopg[binary])" >&2
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2; then
        echo "run.sh: pip install failed; see the error above (is PyPI reachable?)" >&2
        rm -rf "$venv"
        exit 2
    fi
    cp "$here/requirements.txt" "$stamp"
fi

if [[ "${1:-}" == "selfcheck" ]]; then
    shift
    exec "$venv/bin/python" "$here/selfcheck.py" "$@"
fi
if [[ "${1:-}" == "active" ]]; then
    shift
    exec "$venv/bin/python" "$here/active.py" "$@"
fi
exec "$venv/bin/python" "$here/engines.py" "$@"
