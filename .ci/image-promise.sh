#!/usr/bin/env bash
# The image's promise, checked without a container engine (deploy/README.md,
# "Checks"): the binaries need no shared library that the runtime image
# (distroless cc-debian12) lacks, and both services start, migrate, serve and
# stop cleanly as uid/gid 65532 on a read-only root filesystem with only a
# tmpfs /tmp (under bubblewrap, from Debian, installed when missing), as the
# Deployments run them.
#
#   bash .ci/image-promise.sh [BIN_DIR]     (default: target/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug}
admin_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}

# What distroless cc-debian12 ships besides the kernel's vDSO.
allowed='^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libstdc\+\+\.so\.6)$'
for b in metrics-svc lifecycle-svc growthctl; do
  [ -x "$bin/$b" ] || { echo "image promise: $bin/$b is not built" >&2; exit 1; }
  extra=$(ldd "$bin/$b" | awk '{print $1}' | sed 's#.*/##' | grep -Ev "$allowed" || true)
  if [ -n "$extra" ]; then
    echo "image promise: $b needs libraries the runtime image lacks: $extra" >&2
    exit 1
  fi
done
echo "image promise: ldd of the three binaries lists only what distroless cc-debian12 ships"

if ! command -v bwrap >/dev/null 2>&1; then
  echo "image promise: installing bubblewrap (Debian)"
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get install -y -q bubblewrap >/dev/null
fi

db="image_promise_$$"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
url="${admin_url%/*}/$db"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mg=$(free_port); mh=$(free_port); lg=$(free_port); lh=$(free_port)

# As the pods run: uid/gid 65532 (for real: as root, setpriv drops to it
# before bubblewrap starts), the whole filesystem read-only, a fresh tmpfs on
# /tmp, no capabilities.
drop=()
if [ "$(id -u)" -eq 0 ]; then
  drop=(setpriv --reuid=65532 --regid=65532 --clear-groups)
fi
sandbox() {
  "${drop[@]}" bwrap --ro-bind / / --tmpfs /tmp --proc /proc --dev /dev \
    --unshare-user --uid 65532 --gid 65532 --unshare-pid --die-with-parent \
    --setenv HOME /tmp "$@"
}
abs=$(cd "$bin" && pwd)
sandbox env DATABASE_URL="$url" GRPC_LISTEN_ADDR="127.0.0.1:$mg" HTTP_LISTEN_ADDR="127.0.0.1:$mh" \
  GROWTH_AUTH_TOKENS=promise LOG_FORMAT=json "$abs/metrics-svc" >"$work/metrics.log" 2>&1 &
pids+=($!)
sandbox env DATABASE_URL="$url" GRPC_LISTEN_ADDR="127.0.0.1:$lg" HTTP_LISTEN_ADDR="127.0.0.1:$lh" \
  GROWTH_AUTH_TOKENS=promise METRICS_ADDR="http://127.0.0.1:$mg" METRICS_TOKEN=promise \
  LOG_FORMAT=json "$abs/lifecycle-svc" >"$work/lifecycle.log" 2>&1 &
pids+=($!)

export GROWTH_METRICS_ADDR="http://127.0.0.1:$mg" GROWTH_LIFECYCLE_ADDR="http://127.0.0.1:$lg" GROWTH_TOKEN=promise
for _ in $(seq 1 60); do
  if "$bin/growthctl" health >/dev/null 2>&1; then break; fi
  sleep 1
done
if ! "$bin/growthctl" health; then
  echo "image promise: the services did not serve under the sandbox; their logs:" >&2
  cat "$work/metrics.log" "$work/lifecycle.log" >&2
  exit 1
fi
# The uid the services really run as and their capabilities, seen from
# outside the sandbox.
services=()
for port in "$mg" "$lg"; do
  pid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  services+=("$pid")
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  caps=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
  if [ "$uid" != 65532 ] || [ "$caps" != 0000000000000000 ]; then
    echo "image promise: the process on :$port runs as uid $uid with capabilities $caps" >&2
    exit 1
  fi
done
# Something that writes: a user, through metrics, into PostgreSQL (nothing
# on the local filesystem).
echo '{"user_id":"promise-1","email":"p@example.com","signup_at":"2026-01-01T00:00:00Z","plan":"free"}' \
  | "$bin/growthctl" users upsert >/dev/null
# A graceful stop: SIGTERM to the services themselves (as the kubelet sends
# it), then exit 0 (bubblewrap exits with its child's status).
for pid in "${services[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do
  if ! wait "$pid"; then
    echo "image promise: a service did not stop cleanly on SIGTERM; its logs:" >&2
    cat "$work/metrics.log" "$work/lifecycle.log" >&2
    exit 1
  fi
done
pids=()
echo "image promise: both services served and stopped as uid 65532 on a read-only root with a tmpfs /tmp"
