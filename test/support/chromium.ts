import { existsSync } from 'node:fs';

/** Debian's Chromium, installed by `.ci/run` (never a downloaded browser build). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a closed network: no background connections, no sandbox (root in CI). Headless is Playwright's default. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Whether browser tests can run. In CI a missing browser is a failure (`.ci/run` installs it); elsewhere the
 * tests are skipped with a message saying how to enable them.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`;
  if (process.env.CI) throw new Error(message);
  console.warn(`SKIPPING browser tests. ${message}`);
  return false;
}
