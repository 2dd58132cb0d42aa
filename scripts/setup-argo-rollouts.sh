#!/usr/bin/env bash
# Builds the Argo Rollouts controller (cmd/rollouts-controller) from the Go module proxy through the
# wrapper module infra/argo-rollouts, cached by version in ~/.cache/maestro/argo-rollouts-<version>/ with the
# module's own CRDs (manifests/crds) beside it; linked as .maestro/argo-rollouts/. The Argo Rollouts
# deployer's test runs it against the local cluster. Idempotent (warm: instant). Needs Go 1.26.1+.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/go-tool.sh
# The controller logs and serves its version: without these it reads v99.99.99+unknown (a tag and a clean tree make it the tag).
V=github.com/argoproj/argo-rollouts/utils/version
build_go_tool infra/argo-rollouts github.com/argoproj/argo-rollouts github.com/argoproj/argo-rollouts/cmd/rollouts-controller \
  argo-rollouts .maestro/argo-rollouts/rollouts-controller \
  "-X $V.gitTag=\$version -X $V.gitCommit=go-module-proxy -X $V.gitTreeState=clean"
# The CRDs of the same version, copied out of the module cache (which a CI machine may not keep).
if [ ! -f "$GO_TOOL_CACHE/crds/rollout-crd.yaml" ]; then
  MODULE_DIR=$(cd infra/argo-rollouts && go mod download -json "github.com/argoproj/argo-rollouts@$GO_TOOL_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$GO_TOOL_CACHE/crds.partial"
  cp "$MODULE_DIR"/manifests/crds/*-crd.yaml "$GO_TOOL_CACHE/crds.partial/"
  rm -rf "$GO_TOOL_CACHE/crds" && mv "$GO_TOOL_CACHE/crds.partial" "$GO_TOOL_CACHE/crds"
fi
ln -sfn "$GO_TOOL_CACHE/crds" .maestro/argo-rollouts/crds
echo "setup-argo-rollouts: CRDs at .maestro/argo-rollouts/crds ($(ls "$GO_TOOL_CACHE/crds" | tr '\n' ' '))"
