#!/usr/bin/env bash
# Proves that a Python gRPC client can discover and call both growth services
# through server reflection alone (see README.md beside this file).
#
# Starts `growth-dev demo` (throwaway PostgreSQL, metrics-svc, lifecycle-svc on
# free loopback ports, demo data), runs discover.py against it, then stops the
# demo with SIGINT and checks that it exits 0. Whatever happens, nothing it
# started is left running.
#
# Environment:
#   GROWTH_DEV  the growth-dev binary (default: ${CARGO_TARGET_DIR:-<repo>/target}/debug/growth-dev)
#   PY_VENV    the Python virtualenv to create or reuse (default: /tmp/growth-py-venv)
#   PYTHON     the Python used to create the venv (default: python3, 3.9 or newer)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/python"
GROWTH_DEV="${GROWTH_DEV:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/growth-dev}"
VENV="${PY_VENV:-/tmp/growth-py-venv}"
PYTHON="${PYTHON:-python3}"
TOKEN="demo-token"
STARTUP_TIMEOUT=120
STOP_TIMEOUT=60
# Versions known to work together on Python 3.11 (grpcio-reflection 1.76
# needs protobuf >= 6.31.1, < 7; grpcio 1.76 needs typing-extensions ~= 4.12).
PINS=(grpcio==1.76.0 grpcio-reflection==1.76.0 protobuf==6.33.1 typing-extensions==4.16.0)

log() { printf '%s\n' "run.sh: $*" >&2; }
die() { log "$*"; exit 1; }

[[ -x "$GROWTH_DEV" ]] || die "no growth-dev binary at $GROWTH_DEV (build it, or set GROWTH_DEV)"

# ------------------------------------------------------------------ venv ---
if [[ -f "$VENV/pyvenv.cfg" ]] && ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    log "virtualenv $VENV is broken; recreating it"
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating virtualenv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
"$VPY" -m pip install -q --disable-pip-version-check "${PINS[@]}"

# ------------------------------------------------------------- cleanup ---
WORK="$(mktemp -d "${TMPDIR:-/tmp}/growth-py-test.XXXXXX")"
DEMO_PID=""
PG_DIR=""

# Waits up to $2 seconds for process $1 to end; fails if it is still running.
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$pid" 2>/dev/null
}

# Stops the demo if it still runs, then the throwaway PostgreSQL it made if
# the demo could not remove it itself, then removes temp files.
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [[ -n "$DEMO_PID" ]] && kill -0 "$DEMO_PID" 2>/dev/null; then
        # SIGTERM, not SIGINT: a background job of a script starts with SIGINT
        # ignored, so the demo sees SIGINT only once it has installed its own
        # handler; SIGTERM also ends it before that (then the code below
        # removes its PostgreSQL).
        log "stopping the demo (pid $DEMO_PID)"
        kill -TERM "$DEMO_PID" 2>/dev/null || true
        if ! wait_gone "$DEMO_PID" "$STOP_TIMEOUT"; then
            log "the demo is still running ${STOP_TIMEOUT}s after SIGTERM; killing it"
            kill -KILL "$DEMO_PID" 2>/dev/null || true
        fi
        wait "$DEMO_PID" 2>/dev/null || true
    fi
    if [[ -n "$PG_DIR" && -d "$PG_DIR" ]]; then
        # An initdb or pg_ctl start the demo had under way when it died goes on
        # without it: let it finish, so no server starts after the check below.
        local i pidfile="$PG_DIR/data/postmaster.pid" pg_pid=""
        for ((i = 0; i < 900; i++)); do
            pgrep -f -- "(initdb|pg_ctl) .*$PG_DIR/" >/dev/null 2>&1 || break
            sleep 0.1
        done
        [[ -f "$pidfile" ]] && pg_pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
        if [[ "$pg_pid" =~ ^[0-9]+$ ]] && kill -0 "$pg_pid" 2>/dev/null; then
            log "stopping the demo's leftover PostgreSQL (pid $pg_pid)"
            kill -INT "$pg_pid" 2>/dev/null || true # fast shutdown
            if ! wait_gone "$pg_pid" 30; then
                kill -QUIT "$pg_pid" 2>/dev/null || true # immediate shutdown
                wait_gone "$pg_pid" 10 || true
            fi
        fi
        rm -rf "$PG_DIR"
    fi
    if [[ $status -ne 0 && -s "$WORK/demo.err" ]]; then
        log "last lines of the demo's stderr:"
        tail -n 30 "$WORK/demo.err" >&2 || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- demo ---
log "starting $GROWTH_DEV demo"
env -u DATABASE_URL "$GROWTH_DEV" demo --users 50 --months 2 --metrics-port 0 --lifecycle-port 0 \
    </dev/null >"$WORK/demo.out" 2>"$WORK/demo.err" &
DEMO_PID=$!
# Where the demo puts its throwaway cluster (std::env::temp_dir() + its pid).
PG_DIR="${TMPDIR:-/tmp}/growth-demo-pg-$DEMO_PID"
PG_DIR="${PG_DIR//\/\//\/}"

addr_of() { sed -n "s/^ *$1 *gRPC *\\([^ ]*\\).*/\\1/p" "$WORK/demo.out" | head -n 1; }

METRICS_ADDR=""
LIFECYCLE_ADDR=""
deadline=$((SECONDS + STARTUP_TIMEOUT))
while :; do
    METRICS_ADDR="$(addr_of metrics-svc)"
    LIFECYCLE_ADDR="$(addr_of lifecycle-svc)"
    [[ -n "$METRICS_ADDR" && -n "$LIFECYCLE_ADDR" ]] && break
    kill -0 "$DEMO_PID" 2>/dev/null || die "the demo exited before printing both service addresses"
    ((SECONDS < deadline)) || die "the demo printed no service addresses within ${STARTUP_TIMEOUT}s"
    sleep 0.5
done
log "metrics-svc at $METRICS_ADDR, lifecycle-svc at $LIFECYCLE_ADDR"

# ------------------------------------------------------------- checks ---
# discover.py prints one line per check and its own summary line; the summary
# printed last here also counts this script's own check of the demo's shutdown.
SUMMARY_PREFIX="python reflection client: "
discover_rc=0
"$VPY" "$HERE/discover.py" --metrics "$METRICS_ADDR" --lifecycle "$LIFECYCLE_ADDR" --token "$TOKEN" \
    >"$WORK/discover.out" 2>&1 || discover_rc=$?
grep -v "^$SUMMARY_PREFIX" "$WORK/discover.out" || true
summary="$(grep "^$SUMMARY_PREFIX" "$WORK/discover.out" | tail -n 1 || true)"
if [[ "$summary" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    passed="${BASH_REMATCH[1]}"
    failed="${BASH_REMATCH[2]}"
else
    log "discover.py printed no summary (exit $discover_rc)"
    passed=0
    failed=1
fi
if [[ $discover_rc -ne 0 && $failed -eq 0 ]]; then
    failed=1
fi

# ------------------------------------------------------------ shutdown ---
alive_before_sigint=0
kill -0 "$DEMO_PID" 2>/dev/null && alive_before_sigint=1
kill -INT "$DEMO_PID" 2>/dev/null || true
demo_rc=0
if wait_gone "$DEMO_PID" "$STOP_TIMEOUT"; then
    wait "$DEMO_PID" || demo_rc=$?
    DEMO_PID=""
    if [[ $demo_rc -eq 0 && ! -e "$PG_DIR" ]]; then
        echo "ok   demo stopped on SIGINT with exit 0 and removed its PostgreSQL cluster"
        passed=$((passed + 1))
    elif [[ $demo_rc -eq 0 ]]; then
        echo "FAIL demo exited 0 on SIGINT but left $PG_DIR behind"
        failed=$((failed + 1))
    elif [[ $alive_before_sigint -eq 0 ]]; then
        echo "FAIL demo died (exit $demo_rc) before it was sent SIGINT"
        failed=$((failed + 1))
    else
        echo "FAIL demo exited $demo_rc on SIGINT, want 0"
        failed=$((failed + 1))
    fi
else
    echo "FAIL demo still running ${STOP_TIMEOUT}s after SIGINT"
    failed=$((failed + 1))
fi

echo "${SUMMARY_PREFIX}${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
