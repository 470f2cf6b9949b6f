// browser.ts launches Debian's chromium (apt-get install chromium; /usr/bin/chromium) through
// playwright-core, headless, with a fresh profile and no background traffic. Outside CI a test that
// needs it skips with a one-line reason when chromium is missing; under CI (CI set) a missing
// chromium fails the run, because .ci/run installs it (like test/services.ts for PostgreSQL).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** CHROMIUM_PATH is the browser the tests drive: Debian's chromium package. */
export const CHROMIUM_PATH = process.env.VIGIL_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** CHROMIUM_ARGS keep the browser quiet and self-contained (no GPU, no QUIC, no update or sync traffic). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * chromiumAvailable reports whether the browser is installed. Under CI it throws instead of
 * returning false, so that a browser test fails rather than skips.
 */
export function chromiumAvailable(): boolean {
  const ok = existsSync(CHROMIUM_PATH);
  if (!ok && process.env.CI) throw new Error(`chromium is not installed at ${CHROMIUM_PATH}; CI needs it (apt-get install -y chromium)`);
  return ok;
}

/** chromiumSkipReason is the one-line reason a browser test skips with. */
export const chromiumSkipReason = `chromium not installed at ${CHROMIUM_PATH} (apt-get install -y chromium)`;

/** TestBrowser is a launched browser (one context); close() also removes its profile folder. */
export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** launchChromium starts headless chromium with CHROMIUM_ARGS and a fresh --user-data-dir. */
export async function launchChromium(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
  // playwright refuses --user-data-dir in args: a persistent context passes the fresh folder as
  // --user-data-dir itself.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
