// Wiring of the log: the only place that reads the environment, opens the database, loads the key,
// the CA, the TSA and the CA file, and starts the HTTP server. `vigil log init` calls runLogInit,
// `vigil log init-ca` runLogInitCa, `vigil log serve` runLogServe; `vigil up` calls startLog and
// mounts its app behind the front end (front-end.ts).
import { join } from 'node:path';
import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../platform/clock.ts';
import { openDb, type Db } from '../platform/db.ts';
import { listen, type Listening } from '../platform/http.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import type { Ed25519Signer } from '../tlog/note-ed25519.ts';
import { readCaFile } from './ca-file.ts';
import { loadIssuersFile } from './ca/config.ts';
import { DEFAULT_PUBLISH_INTERVAL_MS, DEFAULT_WITNESS_POLICY, loadConfig, type ConfigArgs, type LogServeConfig } from './config.ts';
import { certificateTrustOf, createFrontEnd, ensureFrontEnd, loadFrontEnd } from './front-end.ts';
import { createLogApp } from './http.ts';
import { loadCertificateTrust, type CertificateTrust } from './kinds/certificate-chain.ts';
import { initLogKey, loadLogKey, removeLogKey } from './key.ts';
import { initLog } from './log-state.ts';
import { createLog, type Log } from './log.ts';
import { createPublisher, type Publisher } from './publisher.ts';
import { startEntryVerifierPool, type EntryVerifier } from './verify-pool.ts';

/**
 * LogRunConfig is the part of LogServeConfig a started log uses (`vigil up` builds one). The
 * publishing fields are optional: no witnessPolicy is DEFAULT_WITNESS_POLICY (`quorum none`).
 */
export type LogRunConfig = Pick<
  LogServeConfig,
  'maxRequestBytes' | 'retryAfterSeconds' | 'maxBatchEntries' | 'maxBatchDelayMs' | 'maxPendingEntries' | 'maxPendingBytes'
> &
  Partial<Pick<LogServeConfig, 'witnessPolicy' | 'failOpenAfterMs' | 'publishIntervalMs' | 'witnessBackoffMaxMs'>>;

/** StartLogDeps are the process-level resources a log runs on. */
export interface StartLogDeps {
  /** db holds the log (initLog ran on it); the caller closes it after close(). */
  readonly db: Db;
  /** signer is the checkpoint key; its name is the origin. */
  readonly signer: Ed25519Signer;
  /** trust is the CA material; null accepts public-key entries only. */
  readonly trust: CertificateTrust | null;
  /** verifier checks write requests off the event loop; default: inline with `trust`. */
  readonly verifier?: EntryVerifier;
  readonly logger: Logger;
  /** registry is the log's own metrics registry, served at its /metrics. */
  readonly registry: Registry;
  readonly clock: Clock;
}

/** StartedLog is a running log without a listener: mount `app` anywhere. */
export interface StartedLog {
  readonly log: Log;
  readonly app: Express;
  /** publisher witnesses the log's checkpoints and holds the one GET /api/v2/checkpoint serves. */
  readonly publisher: Publisher;
  /** close stops publishing, then sequencing: waiting entries are refused 'closed', the batch in flight finishes. */
  close(): Promise<void>;
}

/**
 * startLog opens the log (createLog: migrations, recovery, leader election), creates and starts its
 * publisher (the witness policy is checked against the log's key: LogError 'invalid_config') and
 * builds its app.
 */
export async function startLog(config: LogRunConfig, deps: StartLogDeps): Promise<StartedLog> {
  const log = await createLog(
    {
      origin: deps.signer.name,
      signer: deps.signer,
      maxBatchEntries: config.maxBatchEntries,
      maxBatchDelayMs: config.maxBatchDelayMs,
      maxPendingEntries: config.maxPendingEntries,
      maxPendingBytes: config.maxPendingBytes,
    },
    { db: deps.db, clock: deps.clock, logger: deps.logger, metrics: deps.registry },
  );
  let publisher: Publisher;
  try {
    publisher = await createPublisher(
      {
        policyText: config.witnessPolicy ?? DEFAULT_WITNESS_POLICY,
        logKey: deps.signer,
        intervalMs: config.publishIntervalMs ?? DEFAULT_PUBLISH_INTERVAL_MS,
        ...(config.witnessBackoffMaxMs === undefined ? {} : { witnessBackoffMaxMs: config.witnessBackoffMaxMs }),
        ...(config.failOpenAfterMs === undefined ? {} : { failOpenAfterMs: config.failOpenAfterMs }),
      },
      { log, db: deps.db, clock: deps.clock, logger: deps.logger, metrics: deps.registry },
    );
  } catch (err) {
    await log.close();
    throw err;
  }
  publisher.start();
  const verifier = deps.verifier === undefined ? {} : { verifier: deps.verifier };
  const app = createLogApp(config, { log, publisher, signer: deps.signer, trust: deps.trust, ...verifier, clock: deps.clock, logger: deps.logger, metrics: deps.registry });
  return {
    log,
    app,
    publisher,
    async close() {
      await publisher.close();
      await log.close();
    },
  };
}

function openLogDb(config: LogServeConfig): Promise<Db> {
  const schema = config.databaseSchema === undefined ? {} : { schema: config.databaseSchema };
  return config.databaseUrl
    ? openDb({ url: config.databaseUrl, maxConnections: config.maxDbConnections, ...schema })
    : openDb({ dataDir: join(config.dataDir, 'db'), ...schema });
}

/** RunningLog is a log serving HTTP; close() shuts it down in order. */
export interface RunningLog {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * runLogServe is `vigil log serve`: load the config, the key, the CA and TSA (front-end.ts; never
 * created here) and the CA file, open the database (VIGIL_DATABASE_URL: PostgreSQL, else PGlite in
 * `<dataDir>/db`), start, listen, mount the front end before the log's app, and print
 * `listening on <url>` on stdout once requests are accepted. Throws LogError 'invalid_config'
 * (also when the CA or TSA is missing, saying how to create them), 'log_missing',
 * 'config_mismatch' or 'corrupt_state' when it cannot start.
 */
export async function runLogServe(args: ConfigArgs, env: NodeJS.ProcessEnv = process.env): Promise<RunningLog> {
  const config = loadConfig(env, args);
  const key = loadLogKey(config.keyFile);
  const keys = await loadFrontEnd(config.dataDir, { devOidc: config.devOidc });
  const issuers = config.oidcIssuersFile === undefined ? [] : loadIssuersFile(config.oidcIssuersFile);
  const trustConfig = certificateTrustOf(keys.ca, config.caRootsFile === undefined ? null : readCaFile(config.caRootsFile));
  const trust = loadCertificateTrust(trustConfig);
  const logger = createLogger('log', env.VIGIL_LOG_LEVEL ?? 'info');
  if (key.groupOrOtherReadable) logger.warn({ key_file: config.keyFile }, 'the checkpoint key file is readable by other users; chmod 600 it');
  if (keys.ca.keysReadableByOthers) logger.warn({ ca_dir: keys.caDir }, 'a CA key file is readable by other users; chmod 600 it');
  const db = await openLogDb(config);
  const registry = createMetricsRegistry({ log: key.signer.name });
  let started: StartedLog | undefined;
  let server: Listening | undefined;
  let pool: EntryVerifier | undefined;
  try {
    if (config.verifyWorkers > 0) pool = await startEntryVerifierPool(config.verifyWorkers, { trust: trustConfig, maxRequestBytes: config.maxRequestBytes });
    const verifier = pool === undefined ? {} : { verifier: pool };
    started = await startLog(config, { db, signer: key.signer, trust, ...verifier, logger, registry, clock: systemClock });
    const outer = express();
    outer.disable('x-powered-by');
    server = await listen(outer, config.listenHost, config.listenPort);
    // The issuer URL of the dev issuer names the address actually bound (port 0 is resolved now).
    const frontEnd = createFrontEnd({ url: server.url, issuers }, { keys, log: started.log, signer: key.signer, clock: systemClock, logger, metrics: registry });
    outer.use(frontEnd.router);
    outer.use(started.app);
  } catch (err) {
    await server?.close();
    await started?.close();
    await pool?.close();
    await db.close();
    throw err;
  }
  const certificates = `${trust.roots.length} roots, ${trust.intermediates.length} intermediates`;
  const witnesses = started.publisher.policy.witnesses.map((w) => w.name);
  logger.info({ url: server.url, origin: key.signer.name, vkey: key.vkey, storage: db.kind, ca: certificates, issuers: issuers.length, dev_oidc: config.devOidc, verify_workers: config.verifyWorkers, witnesses }, 'log started');
  process.stdout.write(`listening on ${server.url}\n`);
  const listening = server;
  return {
    url: server.url,
    async close() {
      // Sequencing stops first, so that the batch in flight is answered before connections close.
      await started.close();
      await listening.close();
      await pool?.close();
      await db.close();
    },
  };
}

/**
 * runLogInit is `vigil log init`: create the checkpoint key for `origin` and the log (initLog) in
 * the configured database, then the CA, the TSA and (with devOidc) the development issuer key in
 * the data folder (front-end.ts; a CA or TSA already there is kept, not replaced), and return the
 * vkey. It refuses, with LogError 'invalid_config' or 'log_exists', when the key file or the log
 * exists already; a key it made for a log it could not create is removed again.
 */
export async function runLogInit(args: { origin: string; dataDir?: string; devOidc?: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<{ keyFile: string; vkey: string; created: string[] }> {
  const config = loadConfig(env, args.dataDir === undefined ? {} : { dataDir: args.dataDir });
  const key = initLogKey(config.keyFile, args.origin);
  try {
    const db = await openLogDb(config);
    try {
      await initLog(db, { origin: key.signer.name, signer: key.signer, clock: systemClock });
    } finally {
      await db.close();
    }
  } catch (err) {
    removeLogKey(config.keyFile);
    throw err;
  }
  const { created } = await ensureFrontEnd(config.dataDir, { devOidc: args.devOidc === true });
  return { keyFile: config.keyFile, vkey: key.vkey, created };
}

/**
 * runLogInitCa is `vigil log init-ca`: create whichever of the CA, the TSA and (with devOidc) the
 * development issuer key is missing in the data folder of an existing log, and say what it made.
 */
export async function runLogInitCa(args: { dataDir?: string; devOidc?: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const config = loadConfig(env, args.dataDir === undefined ? {} : { dataDir: args.dataDir });
  loadLogKey(config.keyFile);
  return (await ensureFrontEnd(config.dataDir, { devOidc: args.devOidc === true })).created;
}
