#!/usr/bin/env bash
# Benchmarks (apart from the tests): each prints figures measured side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# pgroll, for the migration bench's side-by-side figures (built from the Go module proxy, cached).
bash scripts/setup-pgroll.sh
for bench in bench/*.ts; do
  echo "== ${bench}"
  npx tsx "${bench}"
done
