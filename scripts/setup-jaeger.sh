#!/usr/bin/env bash
# Builds the Jaeger all-in-one binary (the tracing backend, OTLP in, HTTP query API and UI out) from
# the Go module proxy through the wrapper module infra/jaeger, cached by version. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/go-tool.sh
build_go_tool infra/jaeger github.com/jaegertracing/jaeger github.com/jaegertracing/jaeger/cmd/jaeger jaeger .maestro/jaeger
