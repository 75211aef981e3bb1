#!/usr/bin/env bash
# The dashboard in a real headless Chromium (see README.md beside this file
# and docs/DASHBOARD.md, "Browser tests").
#
# Installs what is missing (Debian's chromium with apt-get; playwright-core,
# pinned by package-lock.json, with `npm ci` into tests/browser/node_modules),
# builds metrics-svc, lifecycle-svc and growthctl (a no-op when they are up to
# date), creates a fresh database on the PostgreSQL at 127.0.0.1:5432, starts
# both services on free loopback ports with a dashboard token, seeds a
# synthetic SaaS through growthctl (users, events, payments, subscriptions;
# lifecycle evaluation; cohort refresh; last week's growth report), then runs
# dashboard.test.mjs (node's test runner) against them. Screenshots go to
# target/browser-artifacts/. Whatever happens, every process it started is
# stopped and the database dropped.
#
# Environment:
#   DATABASE_URL       a PostgreSQL URL whose server the test database is created
#                      on (default: postgres://postgres@127.0.0.1:5432/postgres)
#   CHROMIUM           the browser (default: /usr/bin/chromium)
#   BROWSER_ARTIFACTS  where screenshots go (default: <repo>/target/browser-artifacts)
#   BROWSER_OVERVIEW   `auto` (default): the overview tests are skipped, loudly,
#                      while /dashboard/overview answers 404; `required`: a 404
#                      fails them
#   BROWSER_SKIP_BUILD set to 1 to use the binaries as they are
#   SEED_USERS, SEED_MONTHS  the seeded data's size (default: 400 users, 3 months)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/browser"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
ARTIFACTS="${BROWSER_ARTIFACTS:-$ROOT/target/browser-artifacts}"
ADMIN_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
SEED_USERS="${SEED_USERS:-400}"
SEED_MONTHS="${SEED_MONTHS:-3}"
STARTUP_TIMEOUT=90
STOP_TIMEOUT=30
NODE_MAJOR_MIN=20
SUMMARY_PREFIX="browser: "

log() { printf '%s\n' "browser/run.sh: $*" >&2; }
die() {
    log "$*"
    exit 1
}
started=$SECONDS

# ------------------------------------------------------------- chromium ---
if [[ ! -x "$CHROMIUM" ]]; then
    [[ "$CHROMIUM" == /usr/bin/chromium ]] ||
        die "CHROMIUM=$CHROMIUM is not an executable file"
    log "no $CHROMIUM: installing Debian's chromium package"
    if [[ $(id -u) -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        die "Chromium is missing and this user can neither apt-get nor sudo without a password: run 'apt-get install -y chromium' as root, or set CHROMIUM"
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq ||
        die "apt-get update failed; install Debian's chromium package by hand"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
        die "apt-get install chromium failed; install Debian's chromium package by hand"
    [[ -x "$CHROMIUM" ]] || die "chromium installed but $CHROMIUM is still missing"
fi
log "$("$CHROMIUM" --version 2>/dev/null | head -n 1)"

# --------------------------------------------------------- node and npm ---
command -v node >/dev/null 2>&1 || die "node is not installed (Node.js $NODE_MAJOR_MIN or newer is needed)"
command -v npm >/dev/null 2>&1 || die "npm is not installed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= NODE_MAJOR_MIN)) || die "node $(node --version) is too old: $NODE_MAJOR_MIN or newer is needed"
want_pw="$(node -p 'require(process.argv[1]).packages["node_modules/playwright-core"].version' "$HERE/package-lock.json")"
have_pw="$(node -p 'try { require(process.argv[1]).version } catch { "" }' "$HERE/node_modules/playwright-core/package.json" 2>/dev/null || true)"
if [[ "$have_pw" != "$want_pw" ]]; then
    log "installing playwright-core $want_pw (npm ci, package-lock.json) into tests/browser/node_modules"
    # No browser download: playwright-core never fetches one; the tests use $CHROMIUM.
    (cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund) >/dev/null ||
        die "npm ci in tests/browser failed"
fi

# ------------------------------------------------------------- binaries ---
if [[ "${BROWSER_SKIP_BUILD:-0}" != 1 ]]; then
    log "cargo build -p metrics-svc -p lifecycle-svc -p growthctl"
    (cd "$ROOT" && cargo build --locked --quiet -p metrics-svc -p lifecycle-svc -p growthctl) ||
        die "cargo build failed"
fi
for b in metrics-svc lifecycle-svc growthctl; do
    [[ -x "$BIN/$b" ]] || die "no $b binary in $BIN (build it, or unset BROWSER_SKIP_BUILD)"
done

# -------------------------------------------------------------- cleanup ---
WORK="$(mktemp -d "${TMPDIR:-/tmp}/growth-browser-test.XXXXXX")"
DB="growth_browser_$$_$RANDOM"
DB_CREATED=0
METRICS_PID=""
LIFECYCLE_PID=""
NODE_PID=""

# Waits up to $2 seconds for process $1 to end; fails if it is still running.
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        # A child that has exited but is not reaped yet still answers kill -0.
        [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" == Z* ]] && return 0
        sleep 0.1
    done
    ! kill -0 "$pid" 2>/dev/null
}

# Stops process $1 (named $2): SIGTERM, then SIGKILL after STOP_TIMEOUT.
stop() {
    local pid=$1 name=$2
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
            log "$name (pid $pid) still running ${STOP_TIMEOUT}s after SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

psql_admin() { psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -q -X -At "$@"; }

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop "$NODE_PID" "the node test runner"
    # Chromium is started by the test runner, which stops it; any left behind
    # (the runner killed) has its profile under this run's own $WORK/tmp.
    local leftover
    leftover="$(pgrep -f -- "$WORK/tmp/" 2>/dev/null || true)"
    if [[ -n "$leftover" ]]; then
        log "stopping Chromium processes left behind: $(echo "$leftover" | tr '\n' ' ')"
        # shellcheck disable=SC2086 # one pid per word
        kill -KILL $leftover 2>/dev/null || true
    fi
    stop "$LIFECYCLE_PID" lifecycle-svc
    stop "$METRICS_PID" metrics-svc
    if [[ $DB_CREATED -eq 1 ]]; then
        psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 ||
            log "could not drop the database $DB"
    fi
    if [[ $status -ne 0 ]]; then
        for f in metrics lifecycle; do
            if [[ -s "$WORK/$f.log" ]]; then
                log "last lines of $f-svc's log:"
                tail -n 20 "$WORK/$f.log" >&2 || true
            fi
        done
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------- database ---
pg_isready -d "$ADMIN_URL" -t 10 >/dev/null 2>&1 ||
    die "PostgreSQL does not answer at $ADMIN_URL (set DATABASE_URL)"
psql_admin -c "CREATE DATABASE $DB" >/dev/null || die "could not create the database $DB"
DB_CREATED=1
# The same server and credentials, the new database.
DB_URL="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$ADMIN_URL" "$DB")"

# ------------------------------------------------------------- services ---
# Four free loopback ports, asked of the kernel together (so they differ).
ports="$(node -e '
const net = require("net");
const servers = [0, 1, 2, 3].map(() => net.createServer());
Promise.all(servers.map((s) => new Promise((ok) => s.listen(0, "127.0.0.1", ok)))).then(() => {
  console.log(servers.map((s) => s.address().port).join(" "));
  servers.forEach((s) => s.close());
});')" || die "could not find free ports"
read -r METRICS_GRPC METRICS_HTTP LIFECYCLE_GRPC LIFECYCLE_HTTP <<<"$ports"
RPC_TOKEN="browser-rpc-$(node -p 'require("crypto").randomBytes(16).toString("hex")')"
DASHBOARD_TOKEN="browser-dash-$(node -p 'require("crypto").randomBytes(24).toString("hex")')"
BASE_URL="http://127.0.0.1:$METRICS_HTTP"

# Waits until $1's /healthz answers 200, or fails if process $2 exits first.
wait_healthy() {
    local url=$1 pid=$2 name=$3 deadline=$((SECONDS + STARTUP_TIMEOUT))
    until curl -fsS -o /dev/null --max-time 2 "$url/healthz" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || die "$name exited during start-up"
        ((SECONDS < deadline)) || die "$name did not answer $url/healthz within ${STARTUP_TIMEOUT}s"
        sleep 0.2
    done
}

common_env=(
    DATABASE_URL="$DB_URL"
    GROWTH_AUTH_TOKENS="$RPC_TOKEN"
    LOG_FORMAT=json
    RUST_LOG=info
    SHUTDOWN_GRACE_SECONDS=2
)
log "starting metrics-svc (dashboard at $BASE_URL/dashboard)"
env "${common_env[@]}" \
    GRPC_LISTEN_ADDR="127.0.0.1:$METRICS_GRPC" HTTP_LISTEN_ADDR="127.0.0.1:$METRICS_HTTP" \
    DASHBOARD_TOKENS="$DASHBOARD_TOKEN" \
    LIFECYCLE_ADDR="127.0.0.1:$LIFECYCLE_GRPC" LIFECYCLE_TOKEN="$RPC_TOKEN" \
    "$BIN/metrics-svc" </dev/null >"$WORK/metrics.log" 2>&1 &
METRICS_PID=$!
wait_healthy "$BASE_URL" "$METRICS_PID" metrics-svc

log "starting lifecycle-svc"
env "${common_env[@]}" \
    GRPC_LISTEN_ADDR="127.0.0.1:$LIFECYCLE_GRPC" HTTP_LISTEN_ADDR="127.0.0.1:$LIFECYCLE_HTTP" \
    METRICS_ADDR="http://127.0.0.1:$METRICS_GRPC" METRICS_TOKEN="$RPC_TOKEN" \
    "$BIN/lifecycle-svc" </dev/null >"$WORK/lifecycle.log" 2>&1 &
LIFECYCLE_PID=$!
wait_healthy "http://127.0.0.1:$LIFECYCLE_HTTP" "$LIFECYCLE_PID" lifecycle-svc

# ----------------------------------------------------------------- seed ---
export GROWTH_METRICS_ADDR="127.0.0.1:$METRICS_GRPC"
export GROWTH_LIFECYCLE_ADDR="127.0.0.1:$LIFECYCLE_GRPC"
export GROWTH_TOKEN="$RPC_TOKEN"
ctl() { "$BIN/growthctl" "$@" </dev/null >>"$WORK/seed.log" 2>&1 || die "growthctl $* failed: $(tail -n 5 "$WORK/seed.log")"; }
log "seeding $SEED_USERS users over $SEED_MONTHS months, evaluating stages, refreshing cohorts, writing last week's report"
ctl seed --users "$SEED_USERS" --months "$SEED_MONTHS" --seed 20
ctl lifecycle evaluate
ctl cohorts refresh
ctl insights weekly
log "seeded in $((SECONDS - started))s since start"

# ---------------------------------------------------------------- tests ---
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS" "$WORK/tmp"
# node's spec reporter on stdout; the summary line below is this script's.
TMPDIR="$WORK/tmp" \
    BASE_URL="$BASE_URL" DASHBOARD_TOKEN="$DASHBOARD_TOKEN" CHROMIUM="$CHROMIUM" \
    GROWTHCTL="$BIN/growthctl" ARTIFACTS="$ARTIFACTS" \
    LIFECYCLE_PID="$LIFECYCLE_PID" LIFECYCLE_GRPC="127.0.0.1:$LIFECYCLE_GRPC" \
    BROWSER_OVERVIEW="${BROWSER_OVERVIEW:-auto}" \
    node --test --test-reporter=spec --test-reporter-destination=stdout \
    "$HERE/dashboard.test.mjs" </dev/null >"$WORK/node.out" 2>&1 &
NODE_PID=$!
node_rc=0
wait "$NODE_PID" || node_rc=$?
NODE_PID=""
cat "$WORK/node.out"

count() { sed -n "s/^ℹ $1 \([0-9][0-9]*\)\$/\1/p" "$WORK/node.out" | tail -n 1; }
passed="$(count pass)"
failed="$(count fail)"
skipped="$(count skipped)"
if [[ -z "$passed" || -z "$failed" ]]; then
    log "the test runner printed no summary (exit $node_rc)"
    passed=${passed:-0}
    failed=$((${failed:-0} + 1))
fi
if [[ $node_rc -ne 0 && $failed -eq 0 ]]; then
    failed=1
fi
skipped=${skipped:-0}
if ((skipped > 0)); then
    log "NOTE: $skipped test(s) SKIPPED; their reasons are the '# SKIP' lines above"
fi
shots=("$ARTIFACTS"/*.png)
[[ -e "${shots[0]}" ]] || shots=()
log "${#shots[@]} screenshot(s) in $ARTIFACTS: ${shots[*]##*/}"
log "took $((SECONDS - started))s"
echo "${SUMMARY_PREFIX}${passed} passed, ${failed} failed, ${skipped} skipped"
[[ $failed -eq 0 ]]
