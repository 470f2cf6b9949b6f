// startMonitor in embedded shape (in-process queue, local elector) on PostgreSQL: it follows a log
// to its head with the same handlers as the BullMQ workers; rules that change are picked up by
// version; a backfill from 0 re-matches history and adds only the new rule's findings.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../platform/clock.ts';
import { silentLogger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { createMemoryQueue } from '../platform/queue-memory.ts';
import { openTestPg, openTestPglite } from '../test/db.ts';
import { EntryLog, keyFingerprint, newTestKey, serveFiles, signedLeaves, type TestKey } from '../test/monitor-log.ts';
import { serviceAvailable } from '../test/services.ts';
import { generateSignerKey } from '../tlog/note-key.ts';
import { backfillProgress, indexAtTime, startBackfill } from './backfill.ts';
import { parseMonitorConfig } from './config.ts';
import { readFindingsAfter } from './findings.ts';
import { localElector } from './leader.ts';
import { searchDeps, startMonitor } from './main.ts';
import { newMonitorMetrics } from './metrics.ts';
import type { RuleSource } from './rule-source.ts';
import { SEARCH_MIGRATIONS } from './search-index.ts';
import { migrateMonitor } from './schema.ts';
import type { RuleSet } from './rules.ts';
import { monitorCursor, type RangeJob } from './state.ts';

const hasPostgres = await serviceAvailable('postgres');
const ORIGIN = 'log.monitor.test/main';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

let alice: TestKey;
let bob: TestKey;
let leaves: Uint8Array[];
beforeAll(() => {
  alice = newTestKey('P-256');
  bob = newTestKey('P-256');
  const a = signedLeaves(alice, 3);
  const b = signedLeaves(bob, 3);
  leaves = [...a, ...b];
});

async function until(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await cond())) throw new Error('condition never became true');
}

describe.skipIf(!hasPostgres)('startMonitor (embedded queue, local elector)', () => {
  it('follows a log to its head, picks up changed rules, and a backfill adds only the new findings', async () => {
    // Entries: alice at 1 and 300, bob at 2 and 301, filler elsewhere (alice's and bob's leaves reused).
    const filler = signedLeaves(newTestKey('P-256'), 20);
    const bodies = Array.from({ length: 400 }, (_, i) => filler[i % 20]!);
    bodies[1] = leaves[0]!;
    bodies[300] = leaves[1]!;
    bodies[2] = leaves[3]!;
    bodies[301] = leaves[4]!;
    const log = new EntryLog(ORIGIN).append(bodies);
    const server = await serveFiles(log.files);
    const { db, drop } = await openTestPg('monmain');
    cleanups.push(drop, () => server.close());
    const config = parseMonitorConfig(
      { logs: [{ origin: ORIGIN, url: server.url, verifierKeys: [log.key.vkey] }], pollIntervalMs: 50, workerConcurrency: 2, entriesPerJob: 256 },
      { baseDir: '.' },
    );
    const ruleFor = async (id: string, k: TestKey) => ({ id, subscriberId: 's', target: 'key' as const, match: 'exact' as const, pattern: await keyFingerprint(k) });
    let current: { version: string; rules: RuleSet } = { version: '1', rules: { rules: [await ruleFor('alice', alice)], policies: [] } };
    const rules: RuleSource = { current: async () => current };
    const queue = createMemoryQueue<RangeJob>({ name: `m-${randomBytes(3).toString('hex')}`, backoffMs: 5 });
    const metrics = newMonitorMetrics(createMetricsRegistry({}, false));
    const clock = manualClock(Date.parse('2026-12-04T12:00:00Z'));
    const monitor = await startMonitor(config, { db, queue, elector: localElector(), rules, metrics, logger: silentLogger(), clock });
    cleanups.push(() => monitor.stop());
    await until(async () => (await monitorCursor(db, ORIGIN)) === 400n);
    await queue.idle();
    const keyed = async () => (await readFindingsAfter(db, 0n, 100)).map((f) => `${f.ruleId}@${f.index}`).sort();
    expect(await keyed()).toEqual(['r:alice@1', 'r:alice@300']);
    // The tailer refreshes the lag after each poll: it drops to 0 once the head is processed.
    await until(async () => (await metrics.lagEntries.get()).values[0]?.value === 0);
    expect((await metrics.headSize.get()).values[0]!.value).toBe(400);

    // A new rule (new version), then a backfill from 0: bob's old entries are found, alice's are not repeated.
    current = { version: '2', rules: { rules: [await ruleFor('alice', alice), await ruleFor('bob', bob)], policies: [] } };
    expect(await indexAtTime(db, ORIGIN, new Date('2026-12-04T11:00:00Z'))).toBe(0n);
    const plan = await startBackfill(db, queue, ORIGIN, await indexAtTime(db, ORIGIN, new Date('2026-12-04T11:00:00Z')), { entriesPerJob: 256, now: new Date(clock.nowMs()) });
    expect(plan).toMatchObject({ from: 0n, to: 400n, ranges: 2 });
    await until(async () => (await backfillProgress(db, ORIGIN, plan.from, plan.to)).done === 400n);
    await queue.idle();
    expect(await keyed()).toEqual(['r:alice@1', 'r:alice@300', 'r:bob@2', 'r:bob@301']);
  });

  it('starts at the head when told to, and a backfill covers the history below it', async () => {
    const log = new EntryLog(ORIGIN).append(Array.from({ length: 300 }, (_, i) => (i === 7 ? leaves[0]! : leaves[5]!)));
    const server = await serveFiles(log.files);
    const { db, drop } = await openTestPg('monmain');
    cleanups.push(drop, () => server.close());
    const config = parseMonitorConfig({ logs: [{ origin: ORIGIN, url: server.url, verifierKeys: [log.key.vkey], startIndex: 'head' }], pollIntervalMs: 50 }, { baseDir: '.' });
    const rules: RuleSource = { current: async () => ({ version: '1', rules: { rules: [{ id: 'a', subscriberId: 's', target: 'key', match: 'exact', pattern: await keyFingerprint(alice) }], policies: [] } }) };
    const queue = createMemoryQueue<RangeJob>({ name: `m-${randomBytes(3).toString('hex')}`, backoffMs: 5 });
    const monitor = await startMonitor(config, { db, queue, elector: localElector(), rules, metrics: newMonitorMetrics(createMetricsRegistry({}, false)), logger: silentLogger(), clock: manualClock(Date.now()) });
    cleanups.push(() => monitor.stop());
    await until(async () => (await monitorCursor(db, ORIGIN)) === 300n);
    expect(await readFindingsAfter(db, 0n, 10)).toEqual([]);
    const plan = await startBackfill(db, queue, ORIGIN, 0n, { entriesPerJob: 256, now: new Date() });
    expect(plan).toMatchObject({ from: 0n, to: 300n, ranges: 2 });
    await until(async () => (await backfillProgress(db, ORIGIN, 0n, 300n)).done === 300n);
    await queue.idle();
    expect((await readFindingsAfter(db, 0n, 10)).map((f) => f.index)).toEqual([7n]);
  });
});

describe('searchDeps: the checkpoint search results are proved into', () => {
  it('is cached for a second, but reloaded at once for a page with entries past it', async () => {
    const { db, drop } = await openTestPglite();
    cleanups.push(drop);
    await migrateMonitor(db, SEARCH_MIGRATIONS);
    const config = parseMonitorConfig({ logs: [{ origin: ORIGIN, url: 'http://127.0.0.1:9', verifierKeys: [generateSignerKey(ORIGIN).vkey] }] }, { baseDir: '.' });
    const verified = (size: bigint) =>
      db.query('INSERT INTO monitor_checkpoints (origin, size, root, note, verified_at) VALUES ($1, $2, $3, $4, $5)', [ORIGIN, size, new Uint8Array(32), `note ${size}`, new Date()]);
    const deps = searchDeps(config, db, silentLogger());
    expect(await deps.checkpointFor(ORIGIN)).toBeUndefined();
    await verified(10n);
    expect((await deps.checkpointFor(ORIGIN))?.size).toBe(10n);
    await verified(20n);
    expect((await deps.checkpointFor(ORIGIN))?.size).toBe(10n); // cached
    expect((await deps.checkpointFor(ORIGIN, 10n))?.size).toBe(10n); // covers the page: cached
    expect((await deps.checkpointFor(ORIGIN, 15n))?.size).toBe(20n); // a hit at 14: reloaded
    expect(await deps.checkpointFor('not.followed/log', 1n)).toBeUndefined();
  });
});
