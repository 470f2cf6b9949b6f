// A monitor wired for in-process tests: real PostgreSQL (fresh schema) or PGlite, the real HTTP
// client against a loopback log, the in-process queue running the real range handler. poll() runs
// one tailer poll and waits until every job it enqueued has run.
import { randomBytes } from 'node:crypto';
import { manualClock } from '../platform/clock.ts';
import type { Db } from '../platform/db.ts';
import { silentLogger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { createMemoryQueue, type MemoryQueue } from '../platform/queue-memory.ts';
import { parseFollowedLog, type FollowedLog } from '../monitor/config.ts';
import { parseLogEntry } from '../monitor/entry-parse.ts';
import { readFindingsAfter, type StoredFinding } from '../monitor/findings.ts';
import { createLogClient } from '../monitor/log-client.ts';
import { newMonitorMetrics, type MonitorMetrics } from '../monitor/metrics.ts';
import { RuleIndexCache, staticRuleSource } from '../monitor/rule-source.ts';
import type { RuleSet } from '../monitor/rules.ts';
import { migrateMonitor } from '../monitor/schema.ts';
import { indexEvents, SEARCH_MIGRATIONS } from '../monitor/search-index.ts';
import { latestVerifiedCheckpoint, monitorCursor, type RangeJob } from '../monitor/state.ts';
import { LogTailer, type PollOutcome } from '../monitor/tailer.ts';
import { createRangeHandler, type IndexEvents } from '../monitor/worker.ts';
import { openTestPg, openTestPglite } from './db.ts';

/** HarnessOptions describe the followed log as its config would. */
export interface HarnessOptions {
  origin: string;
  url: string;
  verifierKeys: string[];
  witnessPolicy?: string;
  witnessUrls?: string[];
  entryFormat?: 'rekor' | 'opaque';
  rules?: RuleSet;
  database?: 'pg' | 'pglite';
  indexEvents?: IndexEvents;
  /** concurrency is how many range jobs run at once (default 2). */
  concurrency?: number;
  /** entriesPerJob is the size of a range job (default 256). */
  entriesPerJob?: number;
}

/** MonitorHarness is a monitor under test. */
export interface MonitorHarness {
  db: Db;
  log: FollowedLog;
  queue: MemoryQueue<RangeJob>;
  tailer: LogTailer;
  metrics: MonitorMetrics;
  clock: ReturnType<typeof manualClock>;
  poll(): Promise<PollOutcome>;
  findings(): Promise<StoredFinding[]>;
  cursor(): Promise<bigint | undefined>;
  head(): Promise<bigint | undefined>;
  close(): Promise<void>;
}

/** startHarness opens a fresh database and wires a tailer and a worker for one log. */
export async function startHarness(o: HarnessOptions): Promise<MonitorHarness> {
  const opened = o.database === 'pglite' ? await openTestPglite() : await openTestPg('monitor');
  const db = opened.db;
  await migrateMonitor(db, SEARCH_MIGRATIONS);
  const problems: string[] = [];
  const log = parseFollowedLog(
    { origin: o.origin, url: o.url, verifierKeys: o.verifierKeys, witnessPolicy: o.witnessPolicy, witnessUrls: o.witnessUrls ?? [], entryFormat: o.entryFormat ?? 'rekor' },
    'log',
    '.',
    problems,
  );
  if (problems.length > 0) throw new Error(problems.join('; '));
  const queue = createMemoryQueue<RangeJob>({ name: `t-${randomBytes(3).toString('hex')}`, attempts: 2, backoffMs: 5 });
  const metrics = newMonitorMetrics(createMetricsRegistry({}, false));
  const clock = manualClock(Date.now());
  const logger = silentLogger();
  const client = createLogClient(log, 5000);
  const tailer = new LogTailer(log, { entriesPerJob: o.entriesPerJob ?? 256, requeueAfterMs: 60_000, unreachableAfterMs: 600_000 }, { db, queue, client, metrics, logger, clock });
  const rules = new RuleIndexCache(staticRuleSource(o.rules ?? { rules: [], policies: [] }));
  await rules.current(); // build the index now, not inside the first job
  const handler = createRangeHandler({
    db,
    logs: new Map([[log.origin, { log, client }]]),
    rules,
    parseEntry: (origin, index, body) => parseLogEntry(origin, index, body),
    indexEvents: o.indexEvents ?? indexEvents,
    metrics,
    logger,
    clock,
  });
  const consumer = queue.consume(handler, { concurrency: o.concurrency ?? 2 });
  return {
    db,
    log,
    queue,
    tailer,
    metrics,
    clock,
    async poll() {
      const out = await tailer.poll(1n);
      await queue.idle();
      return out;
    },
    findings: () => readFindingsAfter(db, 0n, 10_000),
    cursor: () => monitorCursor(db, log.origin),
    head: async () => (await latestVerifiedCheckpoint(db, log.origin))?.size,
    async close() {
      await consumer.close();
      await queue.close();
      await opened.drop();
    },
  };
}
