/** Headless Debian chromium (scripts/setup-chromium.sh) driven by puppeteer-core, for tests of the pages. */
import fs from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM = process.env.MAESTRO_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: run 'npm run setup' (installs the Debian package), or set MAESTRO_CHROMIUM`);
  // --no-sandbox: the tests run as root in a container, where chromium's sandbox cannot start.
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
