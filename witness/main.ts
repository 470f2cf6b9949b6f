// Wiring of the witness node: the only place that reads the environment, opens the database,
// loads the key and starts the HTTP server and the pollers. `vigil witness serve` calls
// runWitnessServe; `vigil up` calls startWitness for each of its witnesses and mounts their apps.
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../platform/clock.ts';
import { openDb, type Db } from '../platform/db.ts';
import { listen, type Listening } from '../platform/http.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import type { CosignatureSigner } from '../tlog/cosignature.ts';
import { loadConfig, type ConfigArgs, type WitnessConfig } from './config.ts';
import { WitnessError } from './errors.ts';
import { createWitnessHandler, type WitnessHandler } from './http.ts';
import { initWitnessKey, loadWitnessKey } from './key.ts';
import { newWitnessMetrics } from './metrics.ts';
import { startPulling, type PullOutcome, type PullTarget, type Pulling } from './pull.ts';
import { LogRateLimiter } from './rate-limit.ts';
import { migrateWitnessDb } from './schema.ts';
import { CachedWitnessStore } from './store-cached.ts';
import { PgWitnessStore } from './store-pg.ts';
import type { WitnessStore } from './store.ts';
import { newFollowedLogs } from './witness-config.ts';
import { WitnessNode } from './witness-node.ts';

/** WitnessRunConfig is the part of WitnessConfig a started witness uses (`vigil up` builds one). */
export type WitnessRunConfig = Pick<WitnessConfig, 'logs' | 'maxBodyBytes' | 'maxInFlight' | 'pullTimeoutMs'>;

/** StartWitnessDeps are the process-level resources a witness runs on. */
export interface StartWitnessDeps {
  /** db holds the state (rows scoped to the signer's name); migrated by startWitness. */
  readonly db: Db;
  readonly signer: CosignatureSigner;
  readonly logger: Logger;
  /** registry is this witness's own metrics registry, served at its /metrics. */
  readonly registry: Registry;
  readonly clock: Clock;
  /** onPoll sees the outcome of every poll of a pulled log (tests, tools). */
  readonly onPoll?: (target: PullTarget, outcome: PullOutcome) => void;
}

/**
 * StartedWitness is a running witness without a listener: `app` is a node:http request listener,
 * served by platform/http.ts listen or mounted in an Express app with `app.use(path, app)`.
 */
export interface StartedWitness {
  readonly node: WitnessNode;
  readonly app: WitnessHandler;
  readonly store: WitnessStore;
  /** stop stops the pollers (the caller closes its server and database). */
  stop(): Promise<void>;
}

/**
 * startWitness applies the witness migrations, builds the node over the SQL store (cached) and starts
 * polling the logs configured with `pull`. Throws WitnessError 'invalid_config' for bad logs.
 */
export async function startWitness(config: WitnessRunConfig, deps: StartWitnessDeps): Promise<StartedWitness> {
  const logs = newFollowedLogs(config.logs);
  await migrateWitnessDb(deps.db);
  // One process per witness identity: the cache saves a read per request (store-cached.ts).
  const store = new CachedWitnessStore(new PgWitnessStore(deps.db, deps.signer.name));
  const metrics = newWitnessMetrics(deps.registry);
  const qpd = new Map(config.logs.flatMap((l) => (l.qpd === undefined ? [] : [[l.origin, l.qpd] as const])));
  const rateLimiter = new LogRateLimiter(qpd, deps.clock);
  const node = new WitnessNode(config, { logs, store, signer: deps.signer, clock: deps.clock, logger: deps.logger, metrics, rateLimiter });
  await node.primeMetrics();
  const app = createWitnessHandler(config, { node, logger: deps.logger, registry: deps.registry });
  const targets: PullTarget[] = config.logs.flatMap((l) => (l.pull === undefined ? [] : [{ log: logs.get(l.origin)!, pull: l.pull }]));
  const pullDeps = { node, store, logger: deps.logger, metrics, timeoutMs: config.pullTimeoutMs, maxCheckpointBytes: config.maxBodyBytes };
  const pulling: Pulling = startPulling(targets, pullDeps, deps.onPoll);
  return { node, app, store, stop: () => pulling.stop() };
}

/** RunningWitness is a witness serving HTTP; close() shuts it down in order. */
export interface RunningWitness {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * runWitnessServe is `vigil witness serve`: load the config (env VIGIL_DATABASE_URL selects
 * PostgreSQL, else PGlite in `<dataDir>/db`), the key, migrate, start, listen, and print
 * `listening on <url>` on stdout once requests are accepted. Throws WitnessError 'invalid_config'.
 */
export async function runWitnessServe(args: ConfigArgs, env: NodeJS.ProcessEnv = process.env): Promise<RunningWitness> {
  const config = loadConfig(env, args);
  const key = loadWitnessKey(config.keyFile);
  if (config.name !== undefined && config.name !== key.name) {
    throw new WitnessError('invalid_config', `the config names the witness ${JSON.stringify(config.name)} but ${config.keyFile} is the key of ${JSON.stringify(key.name)}`);
  }
  const logger = createLogger('witness', env.VIGIL_LOG_LEVEL ?? 'info');
  if (key.groupOrOtherReadable) logger.warn({ key_file: config.keyFile }, 'the witness key file is readable by other users; chmod 600 it');
  const db = await openDb(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: join(config.dataDir, 'db') });
  const registry = createMetricsRegistry({ witness: key.name });
  let witness: StartedWitness | undefined;
  let server: Listening;
  try {
    witness = await startWitness(config, { db, signer: key.signer, logger, registry, clock: systemClock });
    server = await listen(witness.app, config.listenHost, config.listenPort);
  } catch (err) {
    await witness?.stop();
    await db.close();
    throw err;
  }
  logger.info({ url: server.url, name: key.name, vkey: key.vkey, logs: config.logs.length, storage: db.kind }, 'witness started');
  process.stdout.write(`listening on ${server.url}\n`);
  return {
    url: server.url,
    async close() {
      await witness.stop();
      await server.close();
      await db.close();
    },
  };
}

/** runWitnessInit is `vigil witness init`: create the key in the data folder, return the vkey. */
export function runWitnessInit(args: { name: string; dataDir: string }): { keyFile: string; vkey: string } {
  return initWitnessKey(args.dataDir, args.name);
}
