#!/usr/bin/env bash
# The test command: installs what is missing, type-checks, then runs both jest projects (unit; integration, whose global setup starts Temporal, PostgreSQL and Neo4j).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc -p tsconfig.json --noEmit
npx jest "$@"
