#!/usr/bin/env bash
# Installs Debian's chromium (once): the dashboard's tests drive it headless through puppeteer-core
# (Puppeteer's and Playwright's own browser downloads are not reachable here). Safe to run again.
set -euo pipefail
CHROMIUM="${MAESTRO_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "setup-chromium: installing the Debian package chromium (headless, for the dashboard tests)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
echo "setup-chromium: ready ($("$CHROMIUM" --version 2>/dev/null | head -1))"
