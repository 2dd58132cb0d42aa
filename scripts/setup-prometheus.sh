#!/usr/bin/env bash
# Installs Debian's prometheus (once): the production health source of the rollout gates, started by
# infra/prometheus/server.ts on loopback with its own config and data (the package's service is not used).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/apt-install.sh
PROMETHEUS="${MAESTRO_PROMETHEUS_BIN:-/usr/bin/prometheus}"
apt_install_once "$PROMETHEUS" prometheus setup-prometheus
echo "setup-prometheus: ready ($("$PROMETHEUS" --version 2>&1 | head -1))"
