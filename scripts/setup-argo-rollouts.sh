#!/usr/bin/env bash
# Builds the Argo Rollouts controller (cmd/rollouts-controller) from the Go module proxy through the
# wrapper module infra/argo-rollouts, cached by version in ~/.cache/maestro; the Argo Rollouts deployer's
# test runs it against the local cluster. Idempotent (warm: instant). Needs Go 1.26.1+.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/go-tool.sh
# The controller logs and serves its version: without these it reads 99.99.99.
build_go_tool infra/argo-rollouts github.com/argoproj/argo-rollouts github.com/argoproj/argo-rollouts/cmd/rollouts-controller \
  argo-rollouts .maestro/rollouts-controller \
  '-X github.com/argoproj/argo-rollouts/utils/version.version=$version'
