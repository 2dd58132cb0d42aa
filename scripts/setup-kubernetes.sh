#!/usr/bin/env bash
# Builds the local Kubernetes control plane the Kubernetes deployer is tested against: etcd,
# kube-apiserver and kube-controller-manager, from the Go module proxy through the wrapper module
# infra/kubernetes (go.mod pins the versions with tool directives; no kubelet, so Pods stay Pending —
# the envtest shape). The binaries are cached by version outside the repo, like Jaeger's, so only the
# first run on a machine pays (about 10 minutes on 2 cores, run niced). Idempotent. Needs Go 1.26+.
set -euo pipefail
cd "$(dirname "$0")/.."
MOD=infra/kubernetes/go.mod
KUBE_VERSION=$(sed -n 's:^\s*k8s.io/kubernetes \(v[0-9.]*\).*:\1:p' "$MOD" | head -n1)
ETCD_VERSION=$(sed -n 's:^\s*go.etcd.io/etcd/server/v3 \(v[0-9.]*\).*:\1:p' "$MOD" | head -n1)
[ -n "$KUBE_VERSION" ] && [ -n "$ETCD_VERSION" ] ||
  { echo "setup-kubernetes: $MOD does not require k8s.io/kubernetes and go.etcd.io/etcd/server/v3" >&2; exit 1; }
CACHE_DIR="${MAESTRO_BIN_CACHE:-$HOME/.cache/maestro}/kubernetes-$KUBE_VERSION-etcd-$ETCD_VERSION"
command -v go >/dev/null || { echo "setup-kubernetes: go (1.26+) is not installed" >&2; exit 1; }

MINOR=$(echo "$KUBE_VERSION" | cut -d. -f2)
# Without these the binaries report v0.0.0-master, which clients (and the version skew checks) read.
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$MINOR"
build() { # <binary name> <package>
  local bin="$CACHE_DIR/$1"
  [ -x "$bin" ] && return 0
  echo "setup-kubernetes: building $1 into $CACHE_DIR"
  mkdir -p "$CACHE_DIR"
  (cd infra/kubernetes && CGO_ENABLED=0 nice -n 15 go build -trimpath -ldflags="$LDFLAGS" -o "$bin.partial" "$2")
  mv "$bin.partial" "$bin"
}
build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
mkdir -p .maestro
ln -sfn "$CACHE_DIR" .maestro/kubernetes-bin
echo "setup-kubernetes: ready (Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION at $CACHE_DIR)"
