#!/usr/bin/env bash
# The rules of the house (docs/ARCHITECTURE.md, "Rules of the house"),
# checked: exits 1 and names every broken rule.
set -uo pipefail
cd "$(dirname "$0")/.."

broken=0
fail() { echo "house rule broken: $*" >&2; broken=1; }

# 1. growthctl is a client: growth-proto (client half) only, no server crate,
#    no sqlx, no axum, no runtime in its normal dependency tree.
tree=$(cargo tree -p growthctl -e normal --prefix none --locked 2>&1) || { echo "$tree" >&2; exit 1; }
for crate in metrics-svc lifecycle-svc growth-runtime sqlx axum; do
  if grep -q "^$crate v" <<<"$tree"; then
    fail "growthctl depends on $crate (cargo tree -p growthctl -e normal -i $crate)"
  fi
done

# 2. The services depend on the runtime and proto, and lifecycle never on
#    metrics' crate (its tests may).
if cargo tree -p lifecycle-svc -e normal --prefix none --locked | grep -q "^metrics-svc v"; then
  fail "lifecycle-svc depends on metrics-svc"
fi

# 3. Domain modules import no tonic, axum or sqlx.
if hits=$(grep -rnE '\b(tonic|axum|sqlx)::' services/*/src/domain); then
  fail "domain modules use tonic, axum or sqlx:"$'\n'"$hits"
fi

# 4. sqlx (and SQL) only in repository modules, the runtime's pool,
#    migration and outbox plumbing, and the migrator wiring in app.rs.
allowed='^services/[a-z]+/src/repo/|^services/runtime/src/|^services/[a-z]+/src/(app|lib)\.rs:'
if hits=$(grep -rnE '\bsqlx::|\bPgPool\b|\bPgConnection\b' services/*/src | grep -vE "$allowed"); then
  fail "sqlx outside repo/ modules:"$'\n'"$hits"
fi

# 5. Advisory-lock keys (and their order) in one module per service.
for svc in metrics lifecycle; do
  [ -f "services/$svc/src/repo/locks.rs" ] || fail "services/$svc/src/repo/locks.rs is missing"
done
if hits=$(grep -rnE 'const [A-Z_]*LOCK[A-Z_]*: i64|fn lock_key' services/*/src | grep -vE '/repo/locks\.rs:'); then
  fail "advisory-lock keys defined outside repo/locks.rs:"$'\n'"$hits"
fi

if [ "$broken" = 0 ]; then echo "house rules: ok"; fi
exit "$broken"
