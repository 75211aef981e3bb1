#!/usr/bin/env bash
# The deployment, checked offline (deploy/README.md, "Checks"):
#   1. every overlay rendered by `kubectl kustomize`;
#   2. each validated by kubernetes-validate --strict against Kubernetes $K8S_VERSION;
#   3. checkov on the rendered manifests and the Dockerfile, with the skips of
#      .ci/checkov-skips.txt (each with its reason);
#   4. hadolint on the Dockerfile;
#   5. the manifests against the code (.ci/deploy_consistency.py): every
#      environment variable set is one the binary accepts, ports agree,
#      every CronJob's arguments parse with growthctl, every Secret key
#      referenced is documented. Needs target/debug's binaries (the test
#      step builds them).
# The tools come from PyPI into .ci/.tools/deploy-venv (pinned in
# .ci/deploy-requirements.txt); kubectl is the machine's.
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION=1.32.0
venv=.ci/.tools/deploy-venv
requirements=.ci/deploy-requirements.txt

if ! command -v kubectl >/dev/null 2>&1; then
  echo "deploy checks: kubectl is not installed (it renders the kustomize overlays)" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "deploy checks: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi

rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  kubectl kustomize "$overlay" > "$rendered/$name.yaml"
  "$venv/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$rendered/$name.yaml"
  echo "kustomize + kubernetes-validate --strict ($K8S_VERSION): $name ok"
done

skips=$(grep -v '^\s*#' .ci/checkov-skips.txt | awk 'NF {print $1}' | paste -sd, -)
files=()
for f in "$rendered"/*.yaml Dockerfile; do files+=(--file "$f"); done
"$venv/bin/checkov" --framework kubernetes dockerfile --quiet --compact --skip-download \
  --skip-check "$skips" "${files[@]}"
echo "checkov: ok"

"$venv/bin/hadolint" Dockerfile
echo "hadolint: ok"

"$venv/bin/python" .ci/deploy_consistency.py "$rendered"/*.yaml
