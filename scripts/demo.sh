#!/usr/bin/env bash
# The demo: installs what is missing, starts the embedded stack, releases examples/ changes end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bin/maestro demo
