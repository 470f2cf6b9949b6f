// Wiring of `vigil up`: the whole network in one process on embedded defaults. It opens (or on the
// first run creates) the log and three witnesses in the data folder, each with its own key and its
// own PGlite database, mounts them on one port, and makes the log publish only checkpoints that two
// of the three witnesses cosigned. The log's publisher reaches its witnesses over HTTP on loopback,
// through the same port and the same add-checkpoint handler an outside witness would see: no
// shortcut, so what runs here is what runs on several machines.
//
// Start order: log database and key; witnesses (they need the log's vkey); listen (port 0 is
// resolved now); the log, whose witness policy names the witnesses' URLs on that port; up.json.
// Close order: the reverse (the publisher and the sequencer stop before the server and databases).
import { mkdirSync } from 'node:fs';
import { systemClock, type Clock } from '../platform/clock.ts';
import { openDb } from '../platform/db.ts';
import { listen } from '../platform/http.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_RETRY_AFTER_SECONDS } from '../log/config.ts';
import { DEFAULT_MAX_BATCH_DELAY_MS, DEFAULT_MAX_BATCH_ENTRIES, DEFAULT_MAX_PENDING_BYTES, DEFAULT_MAX_PENDING_ENTRIES } from '../log/log.ts';
import { startLog } from '../log/main.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IN_FLIGHT, DEFAULT_PULL_TIMEOUT_MS } from '../witness/config.ts';
import { startWitness } from '../witness/main.ts';
import {
  UP_PUBLISH_INTERVAL_MS, UP_WITNESS_BACKOFF_MAX_MS, UP_WITNESS_NAMES, UP_WITNESS_QUORUM, defaultOrigin, loadUpConfig, upPaths,
  type UpArgs, type UpConfig, type UpPaths,
} from './config.ts';
import { ensureLog, ensureWitnessKey } from './identity.ts';
import { lockDataDir } from './lock.ts';
import { createUpMounts, type UpComponent, type UpMounts } from './mounts.ts';
import { writeUpJson, type UpJson, type UpWitnessJson } from './up-json.ts';

/** StartUpDeps are the process-level resources. */
export interface StartUpDeps {
  readonly logger: Logger;
  readonly clock: Clock;
}

/** RunningUp is the running network. */
export interface RunningUp {
  readonly url: string;
  readonly upJson: UpJson;
  readonly upJsonFile: string;
  readonly components: readonly UpComponent[];
  /** close stops every component, then the server, then closes the databases. */
  close(): Promise<void>;
}

// Closers run in reverse order of registration, on close and when a start fails half-way.
type Closers = (() => Promise<void>)[];

async function closeAll(closers: Closers): Promise<void> {
  for (const c of closers.splice(0).reverse()) await c();
}

/** startUp starts the network of `config` (see the top of this file) and writes up.json. */
export async function startUp(config: UpConfig, deps: StartUpDeps): Promise<RunningUp> {
  const paths = upPaths(config.dataDir);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(paths.pidFile);
  const closers: Closers = [async () => lock.release()];
  try {
    const logDb = await openDb({ dataDir: paths.logDbDir });
    closers.push(() => logDb.close());
    const logKey = await ensureLog(paths.logKeyFile, { value: defaultOrigin(config), explicit: config.origin !== undefined }, logDb, deps.clock);
    const log = { origin: logKey.signer.name, vkey: logKey.vkey };
    const witnesses: { component: UpComponent; vkey: string }[] = [];
    for (const name of UP_WITNESS_NAMES) witnesses.push(await startUpWitness(name, log, paths, deps, closers));
    const mounts: UpMounts = createUpMounts([...witnesses.map((w) => w.component.mountPath), '/']);
    for (const w of witnesses) mounts.mount(w.component);
    const server = await listen(mounts.app, config.host, config.port);
    closers.push(() => server.close());
    const local = loopbackUrl(server.url);
    const witnessJson: UpWitnessJson[] = witnesses.map((w, i) => ({ name: UP_WITNESS_NAMES[i]!, vkey: w.vkey, url: `${local}${w.component.mountPath}` }));
    const registry = createMetricsRegistry({ log: log.origin });
    const started = await startLog(
      {
        maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES, retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
        maxBatchEntries: DEFAULT_MAX_BATCH_ENTRIES, maxBatchDelayMs: DEFAULT_MAX_BATCH_DELAY_MS,
        maxPendingEntries: DEFAULT_MAX_PENDING_ENTRIES, maxPendingBytes: DEFAULT_MAX_PENDING_BYTES,
        witnessPolicy: formatUpPolicy(witnessJson), publishIntervalMs: UP_PUBLISH_INTERVAL_MS, witnessBackoffMaxMs: UP_WITNESS_BACKOFF_MAX_MS,
      },
      { db: logDb, signer: logKey.signer, trust: null, logger: deps.logger.child({ component: 'log' }), registry, clock: deps.clock },
    );
    closers.push(() => started.close());
    mounts.mount({ name: 'log', mountPath: '/', app: started.app, close: () => started.close() });
    const upJson: UpJson = {
      url: server.url,
      log: { origin: log.origin, vkey: log.vkey, tiles: `${server.url}/api/v2` },
      witnesses: witnessJson,
      witnessPolicy: started.publisher.policy.text,
    };
    writeUpJson(paths.upJson, upJson);
    return { url: server.url, upJson, upJsonFile: paths.upJson, components: mounts.components, close: () => closeAll(closers) };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

// startUpWitness opens (or creates) one witness, following only the log, and registers its closers.
async function startUpWitness(name: string, log: { origin: string; vkey: string }, paths: UpPaths, deps: StartUpDeps, closers: Closers) {
  const key = ensureWitnessKey(paths.witnessDir(name), `${log.origin}/witness/${name}`);
  const db = await openDb({ dataDir: paths.witnessDbDir(name) });
  closers.push(() => db.close());
  const started = await startWitness(
    {
      logs: [{ origin: log.origin, vkeys: [log.vkey], qpd: undefined, pull: undefined }],
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES, maxInFlight: DEFAULT_MAX_IN_FLIGHT, pullTimeoutMs: DEFAULT_PULL_TIMEOUT_MS,
    },
    { db, signer: key.signer, logger: deps.logger.child({ component: 'witness', witness: name }), registry: createMetricsRegistry({ witness: key.name }, false), clock: deps.clock },
  );
  closers.push(() => started.stop());
  const component: UpComponent = { name: `witness ${name}`, mountPath: `/witness/${name}`, app: started.app, close: () => started.stop() };
  return { component, vkey: key.vkey };
}

/** formatUpPolicy is the tlog-policy of `vigil up`: its witnesses, UP_WITNESS_QUORUM of them required. */
export function formatUpPolicy(witnesses: readonly UpWitnessJson[]): string {
  const lines = witnesses.map((w) => `witness ${w.name} ${w.vkey} ${w.url}\n`);
  return `${lines.join('')}group up-witnesses ${UP_WITNESS_QUORUM} ${witnesses.map((w) => w.name).join(' ')}\nquorum up-witnesses\n`;
}

// loopbackUrl is how this process reaches its own server: a wildcard listen address is replaced.
function loopbackUrl(url: string): string {
  return url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}

/**
 * runUp is `vigil up`: validate the flags, start, and print `listening on <url>` (after up.json is
 * written) and the URLs of the parts. Logs go to stdout as JSON at VIGIL_LOG_LEVEL (default warn).
 */
export async function runUp(args: UpArgs, env: NodeJS.ProcessEnv = process.env): Promise<RunningUp> {
  const config = loadUpConfig(args);
  const logger = createLogger('up', env.VIGIL_LOG_LEVEL ?? 'warn');
  const running = await startUp(config, { logger, clock: systemClock });
  const j = running.upJson;
  const out = [
    `listening on ${running.url}`,
    `  log       ${j.log.tiles}  (origin ${j.log.origin}, Rekor v1/v2 writes at ${running.url}/api/v1|v2/log/entries)`,
    `  log vkey  ${j.log.vkey}`,
    ...j.witnesses.map((w) => `  witness   ${w.url}  (${w.vkey})`),
    `  policy    ${running.url}/api/v2/witness-policy  (checkpoints are published once ${UP_WITNESS_QUORUM} of ${j.witnesses.length} witnesses cosign)`,
    `  wrote     ${running.upJsonFile}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return running;
}
