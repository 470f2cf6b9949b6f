// The range worker's one transaction, with a failure injected at each of its statements (the real
// PostgreSQL underneath, wrapped so that one statement throws): the range stays pending with no
// finding and no index row, and the next run commits everything exactly once. A run after the
// commit (a worker killed before acknowledging its job) changes nothing.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../platform/clock.ts';
import type { Db, Queryable } from '../platform/db.ts';
import { silentLogger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { createMemoryQueue } from '../platform/queue-memory.ts';
import { UnrecoverableJobError } from '../platform/queue.ts';
import { openTestPg } from '../test/db.ts';
import { EntryLog, keyFingerprint, newTestKey, serveFiles, signedLeaves, type FileServer } from '../test/monitor-log.ts';
import { serviceAvailable } from '../test/services.ts';
import { parseFollowedLog } from './config.ts';
import { parseLogEntry } from './entry-parse.ts';
import { readFindingsAfter } from './findings.ts';
import { createLogClient } from './log-client.ts';
import { newMonitorMetrics } from './metrics.ts';
import { RuleIndexCache, staticRuleSource } from './rule-source.ts';
import { migrateMonitor } from './schema.ts';
import { indexEvents, SEARCH_MIGRATIONS } from './search-index.ts';
import { rangeAt, type RangeJob } from './state.ts';
import { LogTailer } from './tailer.ts';
import { processRange, type WorkerDeps } from './worker.ts';

const hasPostgres = await serviceAvailable('postgres');
const ORIGIN = 'log.monitor.test/worker';

// FAIL_POINTS are the statements of the worker's transaction, in order.
const FAIL_POINTS = ['FOR UPDATE', 'INSERT INTO monitor_findings', 'monitor_search_entries', "SET state = 'done'"] as const;

function failingDb(db: Db, point: string): Db & { armed: boolean } {
  const wrapped = {
    armed: true,
    kind: db.kind,
    query: db.query.bind(db),
    close: () => db.close(),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction((tx) =>
        fn({
          query: (sql, params) => {
            if (wrapped.armed && sql.includes(point)) {
              wrapped.armed = false;
              return Promise.reject(new Error(`injected failure at ${point}`));
            }
            return tx.query(sql, params);
          },
        }),
      );
    },
  };
  return wrapped as Db & { armed: boolean };
}

describe.skipIf(!hasPostgres)('range worker transaction', () => {
  let db: Db;
  let drop: () => Promise<void>;
  let server: FileServer;
  let deps: Omit<WorkerDeps, 'db'>;
  let job: RangeJob;

  beforeAll(async () => {
    ({ db, drop } = await openTestPg('monworker'));
    await migrateMonitor(db, SEARCH_MIGRATIONS);
    const watched = newTestKey('P-256');
    const leaves = [...signedLeaves(newTestKey('P-256'), 8), ...signedLeaves(watched, 2)];
    const log = new EntryLog(ORIGIN).append(leaves);
    server = await serveFiles(log.files);
    const problems: string[] = [];
    const followed = parseFollowedLog({ origin: ORIGIN, url: server.url, verifierKeys: [log.key.vkey] }, 'log', '.', problems);
    const client = createLogClient(followed, 5000);
    const metrics = newMonitorMetrics(createMetricsRegistry({}, false));
    const clock = manualClock(Date.now());
    // A queue without consumers: the tailer records and enqueues the range, the test runs it.
    const queue = createMemoryQueue<RangeJob>({ name: `w-${randomBytes(3).toString('hex')}` });
    await new LogTailer(followed, { entriesPerJob: 256, requeueAfterMs: 60_000, unreachableAfterMs: 600_000 }, { db, queue, client, metrics, logger: silentLogger(), clock }).poll(1n);
    const rules = { rules: [{ id: 'w', subscriberId: 's', target: 'key' as const, match: 'exact' as const, pattern: await keyFingerprint(watched) }], policies: [] };
    deps = {
      logs: new Map([[ORIGIN, { log: followed, client }]]),
      rules: new RuleIndexCache(staticRuleSource(rules)),
      parseEntry: (o, i, b) => parseLogEntry(o, i, b),
      indexEvents,
      metrics,
      logger: silentLogger(),
      clock,
    };
    job = { origin: ORIGIN, start: '0', end: '10', size: '10' };
  });

  afterAll(async () => {
    await server?.close();
    await drop?.();
  });

  const state = async () => ({
    range: (await rangeAt(db, ORIGIN, 0n))!.state,
    findings: (await readFindingsAfter(db, 0n, 100)).map((f) => f.index),
    indexed: (await db.query<{ n: bigint }>('SELECT count(*) AS n FROM monitor_search_entries'))[0]!.n,
  });

  for (const point of FAIL_POINTS) {
    it(`a failure at "${point}" leaves the range pending with nothing written`, async () => {
      await expect(processRange(job, { ...deps, db: failingDb(db, point) })).rejects.toThrow(/injected/);
      expect(await state()).toEqual({ range: 'pending', findings: [], indexed: 0n });
    });
  }

  it('the next run commits the findings, the index rows and the range once; a run after the commit adds nothing', async () => {
    expect(await processRange(job, { ...deps, db })).toMatchObject({ result: 'done', entries: 10, unparsed: 0, newFindings: 2 });
    expect(await state()).toEqual({ range: 'done', findings: [8n, 9n], indexed: 10n });
    await db.query("UPDATE monitor_ranges SET state = 'pending'"); // as if a second job raced the first
    expect(await processRange(job, { ...deps, db })).toMatchObject({ result: 'done', newFindings: 0 });
    expect(await processRange(job, { ...deps, db })).toMatchObject({ result: 'already_done' });
    expect(await state()).toEqual({ range: 'done', findings: [8n, 9n], indexed: 10n });
  });

  it('refuses jobs it can never run', async () => {
    await expect(processRange({ ...job, origin: 'other.log' }, { ...deps, db })).rejects.toBeInstanceOf(UnrecoverableJobError);
    await expect(processRange({ ...job, start: '-1' }, { ...deps, db })).rejects.toBeInstanceOf(UnrecoverableJobError);
    await expect(processRange({ ...job, start: '5' }, { ...deps, db })).rejects.toBeInstanceOf(UnrecoverableJobError);
  });
});
