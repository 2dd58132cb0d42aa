#!/usr/bin/env bash
# Installs Debian's chromium (once): the dashboard's tests drive it headless through puppeteer-core
# (Puppeteer's and Playwright's own browser downloads are not reachable here). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/apt-install.sh
CHROMIUM="${MAESTRO_CHROMIUM:-/usr/bin/chromium}"
apt_install_once "$CHROMIUM" chromium setup-chromium
echo "setup-chromium: ready ($("$CHROMIUM" --version 2>/dev/null | head -1))"
