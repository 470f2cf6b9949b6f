// The status page over a real log (PGlite) whose checkpoints two real witness nodes cosign through
// the real publisher: the numbers shown are the log's, the chart counts the entries of each minute
// from log_checkpoints, values from outside are escaped, and a missing or failing monitor reads
// "not running". Served over real HTTP on loopback.
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../platform/clock.ts';
import { listen, type Listening } from '../platform/http.ts';
import { silentLogger } from '../platform/logger.ts';
import { createPageAssets, PAGE_CSP } from '../platform/page.ts';
import { Registry } from 'prom-client';
import { openTestPglite } from '../test/db.ts';
import { addAll, openTestLog, testEntry, type TestLogHandle } from '../test/log-fixtures.ts';
import { freshDb, startWitnessNode, type TestWitnessNode } from '../test/log-witnesses.ts';
import { TEST_WITNESS_START_MS } from '../test/witness-log.ts';
import { formatVerifierKey } from '../tlog/note-key.ts';
import { NOTE_KEY_TYPE_ED25519 } from '../tlog/note-key-id.ts';
import type { Db } from '../platform/db.ts';
import { entriesPerMinute, readCheckpointHistory } from './checkpoint-history.ts';
import { createPublisher, type Publisher } from './publisher.ts';
import { createStatusPage, readStatusView, renderStatusPage, type MonitorStatus, type StatusPageDeps } from './status-page.ts';

let db: Db;
let drop: () => Promise<void>;
let handle: TestLogHandle;
let publisher: Publisher;
const witnesses: TestWitnessNode[] = [];
const clock = manualClock(TEST_WITNESS_START_MS);

function deps(monitorStatus?: () => Promise<MonitorStatus | undefined>): StatusPageDeps {
  return { log: handle.log, publisher, db, clock, logger: silentLogger(), ...(monitorStatus ? { monitorStatus } : {}) };
}

beforeAll(async () => {
  ({ db, drop } = await openTestPglite());
  handle = await openTestLog(db, { clock });
  const vkey = formatVerifierKey({ name: handle.signer.name, type: NOTE_KEY_TYPE_ED25519, publicKey: handle.signer.publicKey });
  for (const name of ['w1', 'w2']) witnesses.push(await startWitnessNode(`witness.test/${name}`, { origin: handle.log.origin, vkey }, freshDb(false, 'status')));
  const policyText = `witness w1 ${witnesses[0]!.vkey} ${witnesses[0]!.url}\nwitness w2 ${witnesses[1]!.vkey} ${witnesses[1]!.url}\ngroup both 2 w1 w2\nquorum both\n`;
  publisher = await createPublisher({ policyText, logKey: handle.signer }, { log: handle.log, db, clock, logger: silentLogger(), metrics: new Registry() });
  // 5 entries in the first minute, 3 more two minutes later.
  await addAll(handle.log, [0, 1, 2, 3, 4].map((i) => testEntry('status', i)));
  clock.advance(120_000);
  await addAll(handle.log, [5, 6, 7].map((i) => testEntry('status', i)));
  const status = await publisher.runOnce();
  expect(status.published.size).toBe(8n);
}, 60_000);

afterAll(async () => {
  await publisher?.close();
  await handle?.log.close();
  for (const w of witnesses) await w.close();
  await drop?.();
});

describe('readStatusView', () => {
  it('shows the log, the published checkpoint, its cosigners and each witness', async () => {
    const v = await readStatusView(deps());
    expect(v.treeSize).toBe(8n);
    expect(v.published.size).toBe(8n);
    expect(v.published.quorumMet).toBe(true);
    expect(v.published.cosigners).toEqual(['w1', 'w2']);
    expect(v.witnesses.map((w) => [w.name, w.cosignedSize, w.lastResult, w.cosignedPublished])).toEqual([
      ['w1', 8n, 'cosigned', true],
      ['w2', 8n, 'cosigned', true],
    ]);
    expect(v.monitor).toBeUndefined();
    // The chart: the last bucket is now's minute; 5 entries two minutes earlier, 3 now.
    expect(v.chart).toHaveLength(60);
    expect(v.chart.at(-1)!.entries).toBe(3n);
    expect(v.chart.at(-3)!.entries).toBe(5n);
    expect(v.chart.reduce((t, b) => t + b.entries, 0n)).toBe(8n);
  });

  it('reads a failing monitor as not running', async () => {
    const v = await readStatusView(deps(async () => Promise.reject(new Error('monitor down'))));
    expect(v.monitor).toBeUndefined();
    expect(renderStatusPage(v).value).toContain('<p class="muted">not running</p>');
  });
});

describe('renderStatusPage', () => {
  it('escapes finding summaries and log origins (attacker-controlled)', async () => {
    const monitor: MonitorStatus = {
      lagEntries: 42n,
      recentFindings: [{ kind: 'unexpected-signer', summary: '<img src=x onerror=alert(1)> signed "pkg"', logOrigin: 'evil"><script>x()</script>', index: 7n, observedAt: new Date(clock.nowMs()) }],
    };
    const page = renderStatusPage(await readStatusView(deps(async () => monitor))).value;
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<script>x()');
    expect(page).toContain('&#60;img src=x onerror=alert(1)&#62; signed &#34;pkg&#34;');
    expect(page).toContain('id="monitor_lag">42<');
  });
});

describe('entriesPerMinute', () => {
  it('counts each checkpoint growth in the minute it was signed, and ignores older ones', () => {
    const t = (m: number, s = 0) => new Date(Date.UTC(2026, 0, 1, 0, m, s));
    const points = [{ size: 10n, at: t(0) }, { size: 12n, at: t(1, 5) }, { size: 20n, at: t(1, 50) }, { size: 21n, at: t(3, 1) }];
    expect(entriesPerMinute(points, t(3, 30), 3).map((b) => [b.start.toISOString().slice(11, 16), b.entries])).toEqual([
      ['00:01', 10n],
      ['00:02', 0n],
      ['00:03', 1n],
    ]);
  });

  it('reads the history with the checkpoint before the window as baseline', async () => {
    const history = await readCheckpointHistory(db, new Date(clock.nowMs() - 60_000));
    expect(history.map((p) => p.size)).toEqual([5n, 8n]);
  });
});

describe('GET / and /status.json', () => {
  let server: Listening;
  beforeAll(async () => {
    const app = express();
    app.use(createPageAssets());
    app.use(createStatusPage(deps()));
    app.use((_req, res) => void res.status(404).json({ code: 'not_found', message: 'the log API' }));
    server = await listen(app, '127.0.0.1', 0);
  });
  afterAll(async () => server?.close());

  it('answers browsers with the page under a strict CSP, and leaves other clients to the API', async () => {
    const res = await fetch(`${server.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(PAGE_CSP);
    const page = await res.text();
    expect(page).toContain('id="tree_size">8<');
    expect(page).toContain('id="published_size">8<');
    expect(page).toMatch(/<svg class="chart"[^>]*data-total="8"/);
    const api = await fetch(`${server.url}/`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ code: 'not_found', message: 'the log API' });
  });

  it('serves the numbers as JSON', async () => {
    const s = (await (await fetch(`${server.url}/status.json`)).json()) as { witnesses: { cosigned_size: string }[] };
    expect(s).toMatchObject({ tree_size: '8', published_size: '8', published_cosigners: ['w1', 'w2'], monitor_lag: 'not running', entries_last_hour: '8' });
    expect(s.witnesses.map((w) => w.cosigned_size)).toEqual(['8', '8']);
  });

  it('serves the script and stylesheet under the same policy', async () => {
    const js = await fetch(`${server.url}/assets/vigil.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain("dataset.script = 'ready'");
    expect((await fetch(`${server.url}/assets/vigil.css`)).headers.get('content-security-policy')).toBe(PAGE_CSP);
  });
});
