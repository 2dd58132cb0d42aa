#!/usr/bin/env bash
# Builds the Jaeger all-in-one binary (the tracing backend, OTLP in, HTTP query API and UI out) from
# the Go module proxy through the wrapper module infra/jaeger (go.mod pins the version with a tool
# directive). The binary is cached by version outside the repo, like the other binaries, so a new
# worktree does not build it again. Idempotent. Needs Go 1.26+. A build on 2 cores takes minutes,
# so it runs niced.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's:^\s*github.com/jaegertracing/jaeger \(v[0-9.]*\).*:\1:p' infra/jaeger/go.mod | head -n1)
[ -n "$VERSION" ] || { echo "setup-jaeger: infra/jaeger/go.mod does not require github.com/jaegertracing/jaeger" >&2; exit 1; }
CACHE_DIR="${MAESTRO_BIN_CACHE:-$HOME/.cache/maestro}/jaeger-$VERSION"
BIN="$CACHE_DIR/jaeger"
command -v go >/dev/null || { echo "setup-jaeger: go (1.26+) is not installed" >&2; exit 1; }

if [ ! -x "$BIN" ]; then
  echo "setup-jaeger: building Jaeger $VERSION into $CACHE_DIR (several minutes on 2 cores)"
  mkdir -p "$CACHE_DIR"
  (cd infra/jaeger && nice -n 15 go build -trimpath -ldflags='-s -w' -o "$BIN.partial" github.com/jaegertracing/jaeger/cmd/jaeger)
  mv "$BIN.partial" "$BIN"
fi
mkdir -p .maestro
ln -sfn "$BIN" .maestro/jaeger
echo "setup-jaeger: ready (Jaeger $VERSION at $BIN)"
