#!/usr/bin/env bash
# The test command: installs what is missing, then runs jest (whose global setup starts Temporal).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc -p tsconfig.json --noEmit
npx jest "$@"
