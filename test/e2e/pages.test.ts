// The web pages in headless Chromium (Debian's chromium driven by playwright-core): the status page
// of a real `vigil up --port 0` child process, whose numbers must be those of the log's and the
// witnesses' own APIs and whose script (under the strict CSP) keeps them live; and the search page
// in front of the real search API over a real tiled log, whose results carry verified proofs. No
// console errors, no CSP violations; screenshots go to a temp folder (kept, and printed, when
// VIGIL_KEEP_SCREENSHOTS is set, so a person can look at them).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { witnessCheckpointPath } from '../../tlog/witness-request.ts';
import { chromiumAvailable, chromiumSkipReason, launchChromium, type TestBrowser } from '../browser.ts';
import { dsseV2Request, newTestKey, randomPayload } from '../log-http.ts';
import { SEARCH_ENTRIES, SEARCH_IDENTITY, startSearchPages, type SearchPagesServer } from '../search-pages.ts';
import { killVigilProcesses, startVigil } from '../vigil-process.ts';

const hasChromium = chromiumAvailable();
const dirs: string[] = [];
const shots = mkdtempSync(join(tmpdir(), 'vigil-pages-screenshots-'));
let browser: TestBrowser | undefined;

beforeAll(async () => {
  if (hasChromium) browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  killVigilProcesses();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (process.env.VIGIL_KEEP_SCREENSHOTS) console.log(`screenshots in ${shots}`);
  else rmSync(shots, { recursive: true, force: true });
});

/** openPage opens a tab that records console errors, page errors and CSP violations. */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser!.context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.setViewportSize({ width: 1200, height: 900 });
  return { page, problems };
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(statSync(file).size).toBeGreaterThan(10_000);
}

/** startUp runs `vigil up --port 0` on a fresh folder and resolves with its URL. */
async function startUp(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-pages-'));
  dirs.push(dataDir);
  return (await startVigil(['up', '--data', dataDir, '--port', '0'])).url;
}

/** until polls `probe` until it returns a value (the test timeout bounds it; nothing is timed). */
async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sizeOf = (note: string) => BigInt(note.split('\n')[1]!);

describe.skipIf(!hasChromium)(`web pages in chromium${hasChromium ? '' : ` (skipped: ${chromiumSkipReason})`}`, () => {
  it('status page of vigil up shows the numbers of the log and witness APIs, and keeps them live', async () => {
    const url = await startUp();
    const upJson = JSON.parse(readFileSync(join(dirs.at(-1)!, 'up.json'), 'utf8')) as { log: { origin: string }; witnesses: { name: string; url: string }[] };
    const key = newTestKey('P-256');
    const add = async () => expect((await fetch(`${url}/api/v2/log/entries`, { method: 'POST', body: JSON.stringify(dsseV2Request(key, randomPayload('pages'))) })).status).toBe(201);
    for (let i = 0; i < 5; i++) await add();
    const note = await until(async () => {
      const n = await (await fetch(`${url}/api/v2/checkpoint`)).text();
      return sizeOf(n) === 5n ? n : undefined;
    });
    // Every witness has cosigned size 5 before the page is read (publishing waits for 2 of 3 only).
    const witnessSizes = await until(async () => {
      const sizes = await Promise.all(upJson.witnesses.map(async (w) => sizeOf(await (await fetch(`${w.url}/${witnessCheckpointPath(upJson.log.origin)}`)).text())));
      return sizes.every((s) => s === 5n) ? sizes : undefined;
    });

    const { page, problems } = await openPage();
    const res = await page.goto(`${url}/`);
    expect(res!.status()).toBe(200);
    await page.waitForSelector('html[data-script="ready"]');
    expect(await page.textContent('#tree_size')).toBe('5');
    expect(await page.textContent('#published_size')).toBe(String(sizeOf(note)));
    const cosignerLines = note.split('\n').filter((l) => l.startsWith('— ') && l.includes('/witness/')).length;
    expect(await page.textContent('#published_cosigner_count')).toBe(String(cosignerLines));
    for (const [i, w] of upJson.witnesses.entries()) {
      expect(await page.textContent(`tr[data-witness="${w.name}"] .cosigned-size`)).toBe(String(witnessSizes[i]));
    }
    expect(await page.getAttribute('svg.chart', 'data-total')).toBe('5');
    // vigil up runs the embedded monitor: the page shows its lag, a count of entries.
    expect(await page.textContent('#monitor')).not.toContain('not running');
    expect(await page.textContent('#monitor_lag')).toMatch(/^[0-9]+$/);
    await screenshot(page, 'status');

    // The script (allowed by the CSP) refreshes the numbers from /status.json.
    await add();
    // (Not page.waitForFunction: the CSP rightly refuses its string evaluation.)
    await until(async () => ((await page.textContent('#tree_size')) === '6' ? true : undefined));
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);

  describe('search page', () => {
    let fixture: SearchPagesServer;
    beforeAll(async () => {
      fixture = await startSearchPages();
    }, 60_000);
    afterAll(async () => fixture?.close());

    it('searches by identity through the form and shows results with verified proofs', async () => {
      const { page, problems } = await openPage();
      await page.goto(`${fixture.url}/search`);
      await page.waitForSelector('html[data-script="ready"]');
      await page.selectOption('select[name="by"]', 'identity');
      await page.fill('input[name="q"]', SEARCH_IDENTITY);
      await Promise.all([page.waitForURL(/\/search\?by=identity&q=/), page.click('button[type="submit"]')]);
      expect(await page.locator('tr.result').count()).toBe(SEARCH_ENTRIES / 3);
      expect(await page.locator('.proof-ok').count()).toBe(SEARCH_ENTRIES / 3);
      await page.locator('tr.result details summary').first().click();
      expect(await page.locator('tr.result details ol li').first().isVisible()).toBe(true);
      await screenshot(page, 'search');
      expect(problems).toEqual([]);
      await page.close();
    }, 120_000);
  });
});
