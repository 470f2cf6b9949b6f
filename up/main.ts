// Wiring of `vigil up`: the whole network in one process on embedded defaults. It opens (or on the
// first run creates) the log and three witnesses in the data folder, each with its own key and its
// own PGlite database, mounts them on one port, and makes the log publish only checkpoints that two
// of the three witnesses cosigned. The log's publisher reaches its witnesses over HTTP on loopback,
// through the same port and the same add-checkpoint handler an outside witness would see: no
// shortcut, so what runs here is what runs on several machines.
//
// Beside the log: its CA, TSA and development OIDC issuer (log/front-end.ts; keys in DIR/log/ca
// and DIR/log/tsa, made on the first run), the monitor, search API and alerts (up/watch.ts, one
// PGlite in DIR/monitor/db, mail to DIR/outbox), the web pages (up/pages.ts) and, with --demo, the
// traffic generator (up/demo.ts).
//
// Start order: log database, key, CA and TSA; witnesses (they need the log's vkey); listen (port 0
// is resolved now); the log, whose witness policy names the witnesses' URLs on that port, trusting
// the CA's chain; the front end (its issuer URL names the port); the monitor and alerts (they
// read the log over that port); DIR/trusted_root.json and up.json; the demo. Close order: the
// reverse (the publisher and the sequencer stop before the server and databases).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import express, { Router, type Express } from 'express';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../platform/clock.ts';
import { openDb, type Db } from '../platform/db.ts';
import { listen } from '../platform/http.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_RETRY_AFTER_SECONDS } from '../log/config.ts';
import { DEFAULT_MAX_BATCH_DELAY_MS, DEFAULT_MAX_BATCH_ENTRIES, DEFAULT_MAX_PENDING_BYTES, DEFAULT_MAX_PENDING_ENTRIES } from '../log/log.ts';
import { certificateTrustOf, createFrontEnd, ensureFrontEnd, type FrontEndKeys } from '../log/front-end.ts';
import { loadCertificateTrust } from '../log/kinds/certificate-chain.ts';
import { startLog } from '../log/main.ts';
import type { Ed25519Signer } from '../tlog/note-ed25519.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IN_FLIGHT, DEFAULT_PULL_TIMEOUT_MS } from '../witness/config.ts';
import { startWitness } from '../witness/main.ts';
import {
  UP_PUBLISH_INTERVAL_MS, UP_WITNESS_BACKOFF_MAX_MS, UP_WITNESS_NAMES, UP_WITNESS_QUORUM, defaultOrigin, loadUpConfig, upPaths,
  type UpArgs, type UpConfig, type UpPaths,
} from './config.ts';
import { demoIssuer, startDemo } from './demo.ts';
import { ensureLog, ensureWitnessKey } from './identity.ts';
import { lockDataDir } from './lock.ts';
import { createUpPagesApp } from './pages.ts';
import { createUpMounts, type UpComponent, type UpMounts } from './mounts.ts';
import { writeUpJson, type UpJson, type UpWitnessJson } from './up-json.ts';
import { startUpWatch } from './watch.ts';

/** StartUpDeps are the process-level resources; print writes a line for people (the demo's progress). */
export interface StartUpDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly print?: (line: string) => void;
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
    const { keys } = await ensureFrontEnd(paths.logDir, { devOidc: true });
    const log = { origin: logKey.signer.name, vkey: logKey.vkey };
    const witnesses: { component: UpComponent; vkey: string }[] = [];
    for (const name of UP_WITNESS_NAMES) witnesses.push(await startUpWitness(name, log, paths, deps, closers));
    const mounts: UpMounts = createUpMounts([...witnesses.map((w) => w.component.mountPath), '/alerts', '/']);
    for (const w of witnesses) mounts.mount(w.component);
    const server = await listen(mounts.app, config.host, config.port);
    closers.push(() => server.close());
    const local = loopbackUrl(server.url);
    const witnessJson: UpWitnessJson[] = witnesses.map((w, i) => ({ name: UP_WITNESS_NAMES[i]!, vkey: w.vkey, url: `${local}${w.component.mountPath}` }));
    const started = await startUpLog(formatUpPolicy(witnessJson), logDb, logKey.signer, keys, deps, closers);
    // --demo adds a GitHub-style development issuer at /oidc-ci (up/demo.ts).
    const extra = config.demo ? demoIssuer(local, keys, deps.clock) : undefined;
    const frontEnd = createFrontEnd(
      { url: local, issuers: [], extraIssuers: extra === undefined ? [] : [extra.issuer] },
      { keys, log: started.log, signer: logKey.signer, clock: deps.clock, logger: deps.logger, metrics: started.registry },
    );
    const watch = await startUpWatch(
      { dataDir: config.dataDir, dbDir: paths.monitorDbDir, url: local, publicUrl: server.url, log: { ...log, witnessPolicy: started.publisher.policy.text, witnessUrls: witnessJson.map((w) => w.url) }, logSize: async () => (await started.log.getCheckpoint()).size },
      deps,
    );
    closers.push(() => watch.close());
    mounts.mount({ name: 'alerts', mountPath: '/alerts', app: watch.alertsApp, close: () => watch.alerts.stop() });
    // The root: the CA, TSA and dev issuer, the search API, then the pages (status at GET / for
    // browsers, /search) in front of the log's API, which ends in a JSON 404 (up/pages.ts).
    const pagesApp = createUpPagesApp(started, { db: logDb, logVkey: log.vkey, searchUrl: `${local}/api/v1/search`, logger: deps.logger, clock: deps.clock, monitorStatus: watch.monitorStatus });
    const metrics = metricsRouter([started.registry, ...watch.registries]);
    const root = rootApp([metrics, ...(extra === undefined ? [] : [extra.router]), frontEnd.router, watch.searchRouter, pagesApp]);
    mounts.mount({ name: 'log', mountPath: '/', app: root, close: () => started.close() });
    writeTrustedRoot(paths.trustedRoot, frontEnd.trustedRoot());
    const upJson = formatUpJson(server.url, paths, { ...log, witnesses: witnessJson, witnessPolicy: started.publisher.policy.text, devIssuerUrl: frontEnd.devIssuerUrl! });
    writeUpJson(paths.upJson, upJson);
    const demo = config.demo ? startDemo({ url: local, ciIssuer: extra!.issuer.issuerUrl, outboxDir: paths.outboxDir, subscribedFile: paths.demoSubscribed }, { logger: deps.logger, print: deps.print }) : undefined;
    if (demo !== undefined) closers.push(() => demo.stop());
    return { url: server.url, upJson, upJsonFile: paths.upJson, components: mounts.components, close: () => closeAll(closers) };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

// startUpLog starts the log (trusting the CA's chain) behind its witness policy, and registers its closer.
async function startUpLog(policy: string, db: Db, signer: Ed25519Signer, keys: FrontEndKeys, deps: StartUpDeps, closers: Closers) {
  const registry = createMetricsRegistry({ log: signer.name });
  const started = await startLog(
    {
      maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES, retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
      maxBatchEntries: DEFAULT_MAX_BATCH_ENTRIES, maxBatchDelayMs: DEFAULT_MAX_BATCH_DELAY_MS,
      maxPendingEntries: DEFAULT_MAX_PENDING_ENTRIES, maxPendingBytes: DEFAULT_MAX_PENDING_BYTES,
      witnessPolicy: policy, publishIntervalMs: UP_PUBLISH_INTERVAL_MS, witnessBackoffMaxMs: UP_WITNESS_BACKOFF_MAX_MS,
    },
    { db, signer, trust: loadCertificateTrust(certificateTrustOf(keys.ca)), logger: deps.logger.child({ component: 'log' }), registry, clock: deps.clock },
  );
  closers.push(() => started.close());
  return { ...started, registry };
}

// rootApp is the app at '/': the handlers in order, the last one (the log's) ending in a JSON 404.
function rootApp(handlers: readonly (Router | Express)[]): Express {
  const root = express();
  root.disable('x-powered-by');
  for (const h of handlers) root.use(h);
  return root;
}

// formatUpJson is up.json's content (up-json.ts) for the server at `url`.
function formatUpJson(url: string, paths: UpPaths, p: { origin: string; vkey: string; witnesses: UpWitnessJson[]; witnessPolicy: string; devIssuerUrl: string }): UpJson {
  return {
    url,
    log: { origin: p.origin, vkey: p.vkey, tiles: `${url}/api/v2` },
    witnesses: p.witnesses,
    witnessPolicy: p.witnessPolicy,
    trustedRoot: { file: paths.trustedRoot, url: `${url}/api/v1/trusted_root.json` },
    oidc: { issuer: p.devIssuerUrl, token: `${p.devIssuerUrl}/token` },
    search: `${url}/api/v1/search`,
    alerts: { url: `${url}/alerts`, outbox: paths.outboxDir },
  };
}

// writeTrustedRoot writes DIR/trusted_root.json atomically (public material, mode 0644).
function writeTrustedRoot(file: string, root: unknown): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(root, null, 2)}\n`, { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
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
  const print = (line: string) => void process.stdout.write(`${line}\n`);
  const running = await startUp(config, { logger, clock: systemClock, print });
  const j = running.upJson;
  const oidc = j.oidc as { issuer: string; token: string };
  const alerts = j.alerts as { url: string; outbox: string };
  const out = [
    `listening on ${running.url}`,
    `  log       ${j.log.tiles}  (origin ${j.log.origin}, Rekor v1/v2 writes at ${running.url}/api/v1|v2/log/entries)`,
    `  log vkey  ${j.log.vkey}`,
    ...j.witnesses.map((w) => `  witness   ${w.url}  (${w.vkey})`),
    `  policy    ${running.url}/api/v2/witness-policy  (checkpoints are published once ${UP_WITNESS_QUORUM} of ${j.witnesses.length} witnesses cosign)`,
    `  CA        ${running.url}/api/v2/signingCert  (trusted root ${running.url}/api/v1/trusted_root.json, TSA ${running.url}/api/v1/timestamp)`,
    `  dev OIDC  ${oidc.issuer}  (development only: POST {"email": ...} to ${oidc.token} for a token)`,
    `  monitor   following the log; search ${String(j.search)}`,
    `  alerts    ${alerts.url}  (mail to ${alerts.outbox})`,
    `  pages     ${running.url}/  (status), ${running.url}/search`,
    `  wrote     ${running.upJsonFile}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return running;
}

/**
 * metricsRouter serves GET /metrics for the one process: the log's registry (with the process
 * defaults) followed by the monitor's and alerts', whose metric names are disjoint, so the
 * concatenated exposition is valid. Witnesses serve their own under /witness/<name>/metrics.
 */
function metricsRouter(registries: readonly Registry[]): Router {
  const router = Router();
  router.get('/metrics', async (_req, res, next) => {
    try {
      const texts = await Promise.all(registries.map((r) => r.metrics()));
      res.setHeader('Content-Type', registries[0]!.contentType);
      res.end(texts.join('\n'));
    } catch (err) {
      next(err);
    }
  });
  return router;
}
