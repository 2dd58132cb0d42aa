#!/usr/bin/env bash
# Installs Debian's prometheus (once): the production health source of the rollout gates, started by
# infra/prometheus/server.ts on loopback with its own config and data (the package's service is not used).
set -euo pipefail
PROMETHEUS="${MAESTRO_PROMETHEUS_BIN:-/usr/bin/prometheus}"
if [ ! -x "$PROMETHEUS" ]; then
  echo "setup-prometheus: installing the Debian package prometheus"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
echo "setup-prometheus: ready ($("$PROMETHEUS" --version 2>&1 | head -1))"
