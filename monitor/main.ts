// Wiring of the monitor: the only place that reads the environment (runMonitor) and that starts
// tailers and workers (startMonitor). `vigil up` calls startMonitor with its own deps (PGlite, the
// in-process queue, localElector); `vigil monitor tail|work|run` call runMonitor, which also serves /metrics and the search API.
import { join } from 'node:path';
// The process wiring may reach into alerts/: subscribers' rules live in its tables.
import { createSubscriptionRuleSource } from '../alerts/rule-source.ts';
import { migrateAlertsDb } from '../alerts/schema.ts';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../platform/clock.ts';
import { openDb, type Db } from '../platform/db.ts';
import { createHttpApp, finishHttpApp, listen, type Listening } from '../platform/http.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import type { Migration } from '../platform/migrate.ts';
import { bundleForEntry } from '../tlog/entry-bundle.ts';
import type { HashReader } from '../tlog/merkle.ts';
import { TILE_WIDTH } from '../tlog/tile.ts';
import { TileHashReader } from '../tlog/tile-hash-reader.ts';
import { openQueue, type JobQueue, type QueueConsumer } from '../platform/queue.ts';
import { loadConfig, type ConfigArgs, type MonitorConfig } from './config.ts';
import { parseLogEntry } from './entry-parse.ts';
import { MonitorError } from './errors.ts';
import { localElector, redisElector, type LeaderElector, type Lease } from './leader.ts';
import { createLogClient, type LogClient } from './log-client.ts';
import { newMonitorMetrics, type MonitorMetrics } from './metrics.ts';
import { combinedRuleSource, EMPTY_RULE_SOURCE, fileRuleSource, RuleIndexCache, type RuleSource } from './rule-source.ts';
import { migrateMonitor } from './schema.ts';
import { createSearchRouter, type SearchHttpDeps } from './search-http.ts';
import { indexEvents, SEARCH_MIGRATIONS } from './search-index.ts';
import { latestVerifiedCheckpoint, logProgress, type RangeJob } from './state.ts';
import { FencedOut, LogTailer } from './tailer.ts';
import { createRangeHandler, type IndexEvents, type ParseEntry, type WorkerLog } from './worker.ts';

/** MONITOR_QUEUE_NAME is the BullMQ queue of range jobs. */
export const MONITOR_QUEUE_NAME = 'monitor-ranges';

/** MonitorDeps are what startMonitor needs; optional ones have the defaults named. */
export interface MonitorDeps {
  db: Db;
  queue: JobQueue<RangeJob>;
  elector: LeaderElector;
  rules: RuleSource;
  metrics: MonitorMetrics;
  logger: Logger;
  clock: Clock;
  /** parseEntry defaults to monitor/entry-parse.ts parseLogEntry. */
  parseEntry?: ParseEntry;
  /** indexEvents writes search rows in each range's transaction; default search-index.ts indexEvents, null: none. */
  indexEvents?: IndexEvents | null;
  /** searchMigrations are applied under 'monitor-search'; default search-index.ts SEARCH_MIGRATIONS. */
  searchMigrations?: readonly Migration[];
  /** clients overrides the HTTP client per origin (tests); default createLogClient. */
  clients?: ReadonlyMap<string, LogClient>;
}

/** MonitorRoles says what this process runs: tailers (leader-elected per log), workers, or both. */
export interface MonitorRoles {
  tail: boolean;
  work: boolean;
}

/** StartedMonitor is a running monitor; stop() ends polls and jobs in flight, then returns. */
export interface StartedMonitor {
  stop(): Promise<void>;
}

/**
 * startMonitor applies the migrations and starts the roles asked for: one tail loop per followed
 * log (waiting for its lease, then polling every pollIntervalMs), and a queue consumer running
 * range jobs with config.workerConcurrency. It does not close deps (the caller owns them).
 */
export async function startMonitor(config: MonitorConfig, deps: MonitorDeps, roles: MonitorRoles = { tail: true, work: true }): Promise<StartedMonitor> {
  await migrateMonitor(deps.db, deps.searchMigrations ?? SEARCH_MIGRATIONS);
  const clients = new Map(config.logs.map((l) => [l.origin, deps.clients?.get(l.origin) ?? createLogClient(l, config.fetchTimeoutMs)]));
  const stopping = new AbortController();
  const loops: Promise<void>[] = [];
  if (roles.tail) {
    for (const log of config.logs) {
      const tailer = new LogTailer(log, config, { ...deps, client: clients.get(log.origin)! });
      loops.push(tailLoop(tailer, config, deps, stopping.signal));
    }
  }
  let consumer: QueueConsumer | undefined;
  if (roles.work) {
    const logs = new Map<string, WorkerLog>(config.logs.map((l) => [l.origin, { log: l, client: clients.get(l.origin)! }]));
    const handler = createRangeHandler({
      db: deps.db,
      logs,
      rules: new RuleIndexCache(deps.rules),
      parseEntry: deps.parseEntry ?? ((origin, index, body) => parseLogEntry(origin, index, body)),
      indexEvents: deps.indexEvents === null ? undefined : (deps.indexEvents ?? indexEvents),
      metrics: deps.metrics,
      logger: deps.logger,
      clock: deps.clock,
    });
    consumer = deps.queue.consume(handler, { concurrency: config.workerConcurrency });
  }
  return {
    async stop() {
      stopping.abort();
      await Promise.all(loops);
      await consumer?.close();
    },
  };
}

// tailLoop holds the log's lease (waiting while another process holds it) and polls while held.
async function tailLoop(tailer: LogTailer, config: MonitorConfig, deps: MonitorDeps, signal: AbortSignal): Promise<void> {
  const origin = tailer.log.origin;
  let lease: Lease | undefined;
  while (!signal.aborted) {
    try {
      if (lease === undefined || lease.lost) {
        deps.metrics.isLeader.set({ origin }, 0);
        const progress = await logProgress(deps.db, origin);
        lease = await deps.elector.tryAcquire(origin, progress?.fence ?? 0n);
        if (lease === undefined) {
          await sleep(Math.max(10, Math.floor(config.leaseMs / 3)), signal);
          continue;
        }
        deps.metrics.isLeader.set({ origin }, 1);
        deps.logger.info({ origin, fence: lease.fence.toString() }, 'tailing log');
      }
      await tailer.poll(lease.fence);
    } catch (err) {
      if (err instanceof FencedOut) {
        deps.logger.warn({ origin }, 'another tailer took over this log');
        await lease?.release();
        lease = undefined;
      } else {
        deps.logger.error({ origin, err: (err as Error).message }, 'tail loop failed; retrying');
      }
    }
    await sleep(config.pollIntervalMs, signal);
  }
  await lease?.release();
  deps.metrics.isLeader.set({ origin }, 0);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** RunningMonitor is a monitor process started from the command line. */
export interface RunningMonitor {
  config: MonitorConfig;
  db: Db;
  queue: JobQueue<RangeJob>;
  /** url is where /metrics and /api/v1/search are served, when `listen` was given. */
  url: string | undefined;
  close(): Promise<void>;
}

/** MonitorProcessOptions are a process's command-line options. */
export interface MonitorProcessOptions extends ConfigArgs {
  roles: MonitorRoles;
  /** listen is host:port for /metrics and the search API (/api/v1/search); undefined: none. */
  listen?: string;
  /** concurrency overrides config.workerConcurrency. */
  concurrency?: number;
}

/**
 * runMonitor is `vigil monitor tail|work|run`: load the config, open the database
 * (VIGIL_DATABASE_URL or PGlite in `<dataDir>/db`), the queue and the elector (Redis when
 * VIGIL_REDIS_URL is set; else in process, which only `run` allows), and start. Throws
 * MonitorError 'invalid_config' when it cannot start.
 */
export async function runMonitor(opts: MonitorProcessOptions, env: NodeJS.ProcessEnv = process.env): Promise<RunningMonitor> {
  const config = loadConfig(env, opts);
  if (opts.concurrency !== undefined) config.workerConcurrency = opts.concurrency;
  if (config.redisUrl === undefined && !(opts.roles.tail && opts.roles.work)) {
    throw new MonitorError('invalid_config', 'separate tail and work processes need Redis (VIGIL_REDIS_URL); use `vigil monitor run` for one embedded process');
  }
  const logger = createLogger('monitor', env.VIGIL_LOG_LEVEL ?? 'info');
  const registry = createMetricsRegistry({ component: 'monitor' });
  const db = await openMonitorDb(config);
  const queue = await openQueue<RangeJob>({
    name: MONITOR_QUEUE_NAME,
    ...(config.redisUrl ? { redisUrl: config.redisUrl, prefix: config.redisPrefix, lockDurationMs: config.jobLockMs } : {}),
  });
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 3 }) : undefined;
  const elector = redis ? redisElector(redis, { prefix: config.redisPrefix, leaseMs: config.leaseMs }) : localElector();
  const rules = await ruleSourceOf(config, db);
  const metrics = newMonitorMetrics(registry);
  const started = await startMonitor(config, { db, queue, elector, rules, metrics, logger, clock: systemClock }, opts.roles);
  const search = searchDeps(config, db, logger);
  const server = opts.listen ? await serveHttp(opts.listen, registry, search, logger) : undefined;
  return {
    config,
    db,
    queue,
    url: server?.url,
    async close() {
      await started.stop();
      await server?.close();
      await queue.close();
      redis?.disconnect();
      await db.close();
    },
  };
}

/**
 * ruleSourceOf is the process's rules: the rules file, and with `subscriptions` the confirmed alert
 * subscribers' rules from the alerts tables in the monitor's database (created here if the alerts
 * processes have not started yet, so the monitor can start first).
 */
async function ruleSourceOf(config: MonitorConfig, db: Db): Promise<RuleSource> {
  const sources: RuleSource[] = [];
  if (config.rulesFile) sources.push(fileRuleSource(config.rulesFile));
  if (config.subscriptions) {
    await migrateAlertsDb(db);
    sources.push(createSubscriptionRuleSource(db));
  }
  return sources.length === 0 ? EMPTY_RULE_SOURCE : combinedRuleSource(sources);
}

/** openMonitorDb opens the monitor's database from its config. */
export function openMonitorDb(config: MonitorConfig): Promise<Db> {
  const schema = config.databaseSchema === undefined ? {} : { schema: config.databaseSchema };
  return config.databaseUrl ? openDb({ url: config.databaseUrl, ...schema }) : openDb({ dataDir: join(config.dataDir, 'db'), ...schema });
}

async function serveHttp(hostPort: string, registry: Registry, search: SearchHttpDeps, logger: Logger): Promise<Listening> {
  const at = hostPort.lastIndexOf(':');
  const port = Number(hostPort.slice(at + 1));
  if (at < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new MonitorError('invalid_config', `--listen: want host:port, got ${JSON.stringify(hostPort)}`);
  const app = createHttpApp({ component: 'monitor', logger, metrics: registry });
  app.use(createSearchRouter(search));
  finishHttpApp(app, logger);
  return listen(app, hostPort.slice(0, at), port);
}

// SEARCH_CHECKPOINT_REFRESH_MS bounds how often the search API reloads a log's latest checkpoint.
const SEARCH_CHECKPOINT_REFRESH_MS = 1000;

// SEARCH_BUNDLES_CACHED bounds the verified entry bundles the search API keeps per log: the
// results of a page often share bundles, and a researcher pages through neighbouring entries.
const SEARCH_BUNDLES_CACHED = 16;

/**
 * searchDeps serves search results' entries and inclusion proofs from the latest checkpoint the
 * tailer verified: hashes read from the log's tiles authenticated against it, entries from the
 * log's bundles checked against those tiles. The checkpoint is reloaded at most once a second, so
 * the checkpoint and the reader a request uses are the same one (a request that straddles a
 * reload fails its own proof check and answers 503, never a wrong proof). A page with entries
 * past the cached checkpoint reloads it at once.
 */
export function searchDeps(config: MonitorConfig, db: Db, logger: Logger, clients?: ReadonlyMap<string, LogClient>): SearchHttpDeps {
  const state = new Map<string, { atMs: number; note: string; size: bigint; rootHash: Uint8Array; reader: TileHashReader; bundles: Map<string, Promise<Uint8Array[]>> }>();
  const logs = new Map(config.logs.map((l) => [l.origin, clients?.get(l.origin) ?? createLogClient(l, config.fetchTimeoutMs)]));
  return {
    db,
    logger,
    async checkpointFor(origin, atLeastSize) {
      const client = logs.get(origin);
      if (client === undefined) return undefined;
      const cached = state.get(origin);
      const fresh = cached !== undefined && Date.now() - cached.atMs < SEARCH_CHECKPOINT_REFRESH_MS;
      if (fresh && (atLeastSize === undefined || cached.size >= atLeastSize)) return cached;
      const cp = await latestVerifiedCheckpoint(db, origin);
      if (cp === undefined) return undefined;
      const same = cached?.size === cp.size ? cached : undefined;
      const reader = same?.reader ?? new TileHashReader({ size: cp.size, root: cp.root }, client.fetchTile);
      const next = { atMs: Date.now(), note: cp.note, size: cp.size, rootHash: cp.root, reader, bundles: same?.bundles ?? new Map<string, Promise<Uint8Array[]>>() };
      state.set(origin, next);
      return next;
    },
    hashReaderFor(origin): HashReader {
      const reader = state.get(origin)?.reader;
      if (reader === undefined) throw new MonitorError('not_verified', `no verified checkpoint of ${JSON.stringify(origin)} loaded`);
      return reader;
    },
    async entryAt(origin, index, size) {
      const client = logs.get(origin);
      const s = state.get(origin);
      if (client === undefined || s === undefined || s.size !== size) throw new MonitorError('not_verified', `no verified checkpoint of ${JSON.stringify(origin)} of size ${size} loaded`);
      const bundle = bundleForEntry(index, size);
      const key = `${bundle.index}/${bundle.width}`;
      let entries = s.bundles.get(key);
      if (entries === undefined) {
        // The bundle (attacker-controlled bytes) is parsed and every entry checked against the
        // authenticated level-0 tile before it is cached; a failed read is not kept.
        const reading = client.fetchBundle(bundle).then((data) => s.reader.verifyEntryBundle(bundle, data));
        reading.catch(() => {
          if (s.bundles.get(key) === reading) s.bundles.delete(key);
        });
        s.bundles.set(key, reading);
        entries = reading;
        if (s.bundles.size > SEARCH_BUNDLES_CACHED) s.bundles.delete(s.bundles.keys().next().value!);
      }
      return (await entries)[Number(index - bundle.index * BigInt(TILE_WIDTH))]!;
    },
  };
}
