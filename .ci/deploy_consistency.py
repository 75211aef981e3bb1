"""The Kubernetes manifests checked against the code they run.

    python .ci/deploy_consistency.py RENDERED.yaml...

For every rendered overlay (the output of `kubectl kustomize`):

* every environment variable a container sets (its `env`, and the keys of
  the ConfigMaps in its `envFrom`) is one its binary accepts: the binary's
  `--help` names it as `[env: NAME]`;
* every container port is the port of the matching `*_LISTEN_ADDR` in its
  environment, every probe's port is a container port, and every Service's
  target port names or numbers a port of the pods it selects;
* every CronJob's arguments parse with growthctl (run against a closed port:
  a usage error exits 2 with clap's "Usage:", anything else means the
  arguments were accepted);
* every Secret key referenced is named in deploy/README.md.

The binaries are target/debug's (`cargo test` builds them), or those in
GROWTH_BIN_DIR. Prints one line per overlay; exits 1 on the first overlay
with a problem, listing every problem in it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(os.environ.get("GROWTH_BIN_DIR", ROOT / "target" / "debug"))
README = (ROOT / "deploy" / "README.md").read_text()
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens


def accepted_env(binary: str, cache: dict[str, set[str]]) -> set[str]:
    """The environment variables `binary --help` (and its commands') names."""
    if binary not in cache:
        names: set[str] = set()
        for args in (["--help"], ["serve", "--help"], ["migrate", "--help"]):
            run = subprocess.run([str(BIN_DIR / binary), *args], capture_output=True, text=True)
            names |= set(re.findall(r"\[env: ([A-Z0-9_]+)", run.stdout))
        if not names:
            sys.exit(f"{BIN_DIR / binary} --help names no environment variable: is it built?")
        cache[binary] = names
    return cache[binary]


def pod_specs(doc: dict) -> list[tuple[str, dict]]:
    kind, name = doc["kind"], doc["metadata"]["name"]
    spec = doc.get("spec", {})
    if kind in ("Deployment", "Job"):
        return [(f"{kind}/{name}", spec["template"]["spec"])]
    if kind == "CronJob":
        return [(f"{kind}/{name}", spec["jobTemplate"]["spec"]["template"]["spec"])]
    return []


def check(path: str) -> list[str]:
    docs = [d for d in yaml.safe_load_all(Path(path).read_text()) if d]
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    problems: list[str] = []
    helps: dict[str, set[str]] = {}
    pods_by_labels: list[tuple[dict, list[dict]]] = []

    for doc in docs:
        for where, pod in pod_specs(doc):
            labels = (
                doc["spec"]["template"]["metadata"].get("labels", {})
                if doc["kind"] != "CronJob"
                else doc["spec"]["jobTemplate"]["spec"]["template"]["metadata"].get("labels", {})
            )
            pods_by_labels.append((labels, pod["containers"]))
            for c in pod["containers"]:
                binary = Path(c["command"][0]).name
                env = {e["name"]: e.get("value") for e in c.get("env", [])}
                for source in c.get("envFrom", []):
                    ref = source.get("configMapRef", {}).get("name")
                    if ref not in config_maps:
                        problems.append(f"{where}: envFrom names ConfigMap {ref!r}, which is not in the overlay")
                        continue
                    env.update(config_maps[ref])
                known = accepted_env(binary, helps)
                for name in sorted(env):
                    if name not in known:
                        problems.append(f"{where}: {name} is set, but {binary} does not accept it")
                for e in c.get("env", []):
                    key = e.get("valueFrom", {}).get("secretKeyRef", {}).get("key")
                    if key and f"`{key}`" not in README:
                        problems.append(f"{where}: Secret key {key} is not documented in deploy/README.md")
                ports = {p["containerPort"] for p in c.get("ports", [])}
                names = {p["name"]: p["containerPort"] for p in c.get("ports", []) if "name" in p}
                for var, value in env.items():
                    if var.endswith("_LISTEN_ADDR") and value:
                        port = int(str(value).rsplit(":", 1)[1])
                        if port not in ports:
                            problems.append(f"{where}: {var}={value} but the container ports are {sorted(ports)}")
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    p = c.get(probe)
                    if p:
                        port = (p.get("grpc") or p.get("httpGet") or p.get("tcpSocket") or {}).get("port")
                        port = names.get(port, port)
                        if port not in ports:
                            problems.append(f"{where}: {probe} port {port} is not a container port {sorted(ports)}")
                if doc["kind"] == "CronJob":
                    problems += parses(where, c["args"])

    for doc in docs:
        if doc["kind"] != "Service":
            continue
        selector = doc["spec"].get("selector", {})
        targets = [cs for labels, cs in pods_by_labels if selector.items() <= labels.items()]
        if not targets:
            problems.append(f"Service/{doc['metadata']['name']}: selects no pod")
            continue
        for p in doc["spec"]["ports"]:
            target = p.get("targetPort", p["port"])
            ok = any(
                target == port.get("name") or target == port["containerPort"]
                for cs in targets
                for c in cs
                for port in c.get("ports", [])
            )
            if not ok:
                problems.append(f"Service/{doc['metadata']['name']}: targetPort {target} is no pod's port")
    return problems


def parses(where: str, args: list[str]) -> list[str]:
    """Whether growthctl accepts `args` (connecting to nothing)."""
    env = dict(os.environ, GROWTH_METRICS_ADDR=CLOSED, GROWTH_LIFECYCLE_ADDR=CLOSED, GROWTH_TOKEN="x")
    run = subprocess.run(
        [str(BIN_DIR / "growthctl"), *args], capture_output=True, text=True, env=env, timeout=60
    )
    if run.returncode == 2 and "Usage:" in run.stderr:
        return [f"{where}: growthctl {' '.join(args)} does not parse: {run.stderr.strip()}"]
    return []


def main() -> int:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        problems = check(path)
        if problems:
            print(f"{path}: {len(problems)} problems", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            return 1
        print(f"manifests agree with the code: {Path(path).stem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
