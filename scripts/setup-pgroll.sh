#!/usr/bin/env bash
# Builds pgroll (xataio/pgroll, v0.14.0: the newest version the Go module proxy serves here) from the wrapper module
# infra/pgroll, cached by version: the migration bench runs it side by side with Maestro's engine. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/go-tool.sh
build_go_tool infra/pgroll github.com/xataio/pgroll github.com/xataio/pgroll pgroll .maestro/pgroll
