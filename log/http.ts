// The log's HTTP surface, thin: read a bounded body, call one function, write its answer. Mounted
// alone by `vigil log serve` (main.ts) or under a prefix by `vigil up`; paths are relative to the
// mount point.
//
//   POST /api/v1/log/entries              Rekor v1 ProposedEntry → 201 {<uuid>: LogEntry} (+ SET)
//   POST /api/v2/log/entries              rekor-tiles CreateEntryRequest → 201 TransparencyLogEntry
//   GET  /api/v2/checkpoint               C2SP checkpoint the witness policy's quorum cosigned (no-cache)
//   GET  /api/v2/witness-policy           the witness policy, tlog-policy text (trusted-root material)
//   GET  /api/v2/tile/<L>/<N>[.p/<W>]     C2SP tlog-tiles Merkle tile (immutable)
//   GET  /api/v2/tile/entries/<N>[.p/<W>] C2SP entry bundle (immutable, gzip when accepted)
//   GET  /api/v1/log                      Rekor LogInfo
//   GET  /api/v1/log/entries?logIndex=N   Rekor LogEntry by index
//   GET  /api/v1/log/entries/<uuid>       Rekor LogEntry by 64- or 80-hex UUID
//   GET  /api/v1/log/proof?firstSize=&lastSize=   Rekor ConsistencyProof
//   GET  /api/v1/log/publicKey            PEM of the log's Ed25519 key
//   GET  /metrics                         Prometheus
//
// Published vs latest. /api/v2/checkpoint is the publisher's checkpoint: the log's note with the
// cosignatures of its witnesses, once the policy's quorum is met (fail-closed: it stays at the
// last such checkpoint while the log grows). Write answers and the v1 read endpoints (/api/v1/log,
// inclusion proofs) use the log's own latest checkpoint, which may be ahead of the published one;
// its tiles are served as well (a partial tile exists for every signed size), so a client can prove
// anything between the two.
//
// Caching. The checkpoint and the policy are no-cache. Tiles and bundles, full AND partial, are immutable: a path
// names its width, the bytes at a width never change, and the read side keeps serving the partial
// tiles of every checkpointed size (tlog-tiles: "This endpoint is immutable"). A 404 is no-cache,
// since a partial tile appears once a checkpoint of its size is signed.
//
// Duplicates. v1 answers 409 with the existing entry's Location, as Rekor does (sigstore-js's
// fetchOnConflict follows it). v2 answers 200 (not 201: the entry is not new) with the existing
// entry's TransparencyLogEntry and rekor-tiles' `X-Log-Index` header. rekor-tiles itself answers
// 409 AlreadyExists with only that header (rekor-tiles #621), but stock sigstore-js's v2 client
// fails on any non-2xx answer, and DESIGN.md says a duplicate returns the existing entry.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import express, { type Express, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import type { Clock } from '../platform/clock.ts';
import { createHttpApp, finishHttpApp, type ErrorBody } from '../platform/http.ts';
import type { Logger } from '../platform/logger.ts';
import { isTlogError } from '../tlog/errors.ts';
import { MAX_UINT64 } from '../tlog/merkle.ts';
import type { Ed25519Signer } from '../tlog/note-ed25519.ts';
import { parseEntriesPath, parseTilePath } from '../tlog/tile.ts';
import { errorMessage, isLogError, LogError, type LogErrorCode } from './errors.ts';
import type { CertificateTrust } from './kinds/certificate-chain.ts';
import { formatPem } from './kinds/pem.ts';
import type { Log } from './log.ts';
import { createLogHttpMetrics, type LogHttpMetrics } from './metrics.ts';
import type { Publisher } from './publisher.ts';
import {
  formatConsistencyProof, formatEntryUuid, formatLogInfo, formatTransparencyLogEntry, formatV1LogEntry, parseEntryUuid,
  rekorLogIds, type ProvenEntry, type RekorLogIds,
} from './rekor-json.ts';
import { computeLogId, signEntryTimestamp } from './set.ts';
import { inlineEntryVerifier, type CheckedEntry, type EntryVerifier } from './verify-pool.ts';

/** LogAppConfig is what the HTTP layer needs from the log's configuration. */
export interface LogAppConfig {
  /** maxRequestBytes bounds a write request body, in bytes (larger: 413 request_too_large). */
  readonly maxRequestBytes: number;
  /** retryAfterSeconds is the Retry-After of 503 answers (overloaded, batch failed, shutting down). */
  readonly retryAfterSeconds: number;
}

/**
 * LogAppDeps are the app's collaborators. `metrics` gets the HTTP histogram and the request
 * counters and is served at /metrics; give each app its own registry.
 */
export interface LogAppDeps {
  readonly log: Log;
  /** publisher holds the published checkpoint and the witness policy (publisher.ts). */
  readonly publisher: Pick<Publisher, 'publishedCheckpoint' | 'policy'>;
  /** signer is the log's checkpoint key; it also signs v1 SETs. Never logged. */
  readonly signer: Ed25519Signer;
  /** trust is the CA material certificates chain to; null accepts public-key entries only. */
  readonly trust: CertificateTrust | null;
  /** verifier checks write requests (a worker pool); default: inline with `trust`. */
  readonly verifier?: EntryVerifier;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Registry;
}

type Api = 'v1' | 'v2' | 'read';

/** STATUS is the one status table: every LogError code to its HTTP status. */
const STATUS: Readonly<Record<LogErrorCode, number>> = {
  request_too_large: 413, entry_too_large: 413,
  malformed_request: 400, malformed_entry: 400, unsupported_kind: 400, unsupported_algorithm: 400,
  malformed_public_key: 400, malformed_certificate: 400, invalid_signature: 400, untrusted_certificate: 400,
  invalid_argument: 400, not_found: 404,
  overloaded: 503, batch_failed: 503, pending_timeout: 503, sequencer_halted: 503, closed: 503, storage_failed: 503,
  invalid_config: 500, log_exists: 500, log_missing: 500, config_mismatch: 500, corrupt_state: 500,
  root_mismatch: 500, state_conflict: 500,
};

/** statusFor maps an error to its HTTP status: the table for LogErrors, 500 for anything else. */
export function statusFor(err: unknown): number {
  return isLogError(err) ? STATUS[err.code] : 500;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;
const gzipAsync = promisify(gzip);

/** createLogApp returns the log's Express app (see the route table at the top of this file). */
export function createLogApp(config: LogAppConfig, deps: LogAppDeps): Express {
  const { log, logger } = deps;
  const ids = rekorLogIds(computeLogId(deps.signer.name, deps.signer.publicKey));
  const metrics = createLogHttpMetrics(deps.metrics);
  const app = createHttpApp({ component: 'log', logger, metrics: deps.metrics });
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  const fail = failer(config, logger, metrics);
  const route = (api: Api, fn: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      await fn(req, res);
    } catch (err) {
      fail(res, api, err);
    }
  };
  const readBody = bodyReader(config.maxRequestBytes);
  const verifier = deps.verifier ?? inlineEntryVerifier(deps.trust, config.maxRequestBytes);
  // Certificates must be valid at the integration time: now, as the entry is accepted.
  const readEntry = async (api: 'v1' | 'v2', req: Request, res: Response) => verifier.verify(api, await readBody(req, res), new Date(deps.clock.nowMs()));
  const submit = async (api: 'v1' | 'v2', entry: CheckedEntry) => {
    metrics.submitted.inc({ api, kind: entry.kind });
    return { ...(await log.addEntry(entry.canonicalBody)), body: entry.canonicalBody };
  };

  app.post('/api/v1/log/entries', route('v1', async (req, res) => {
    const result = await submit('v1', await readEntry('v1', req, res));
    const uuid = formatEntryUuid(ids, result.leafHash);
    res.setHeader('Location', `${req.baseUrl}/api/v1/log/entries/${uuid}`);
    if (result.duplicate) {
      const message = `an equivalent entry already exists in the transparency log with UUID ${uuid}`;
      res.status(409).json({ code: 'entry_exists', message } satisfies ErrorBody);
      return;
    }
    res.setHeader('ETag', uuid);
    res.status(201).json(v1Entry(ids, deps.signer, uuid, result));
  }));

  app.post('/api/v2/log/entries', route('v2', async (req, res) => {
    const entry = await readEntry('v2', req, res);
    const result = await submit('v2', entry);
    if (result.duplicate) res.setHeader('X-Log-Index', result.index.toString());
    res.status(result.duplicate ? 200 : 201).json(formatTransparencyLogEntry(ids, entry, result));
  }));

  app.get('/api/v2/checkpoint', route('read', async (_req, res) => {
    const checkpoint = await deps.publisher.publishedCheckpoint();
    res.setHeader('Cache-Control', 'no-cache');
    sendBytes(res, 'text/plain; charset=utf-8', Buffer.from(checkpoint, 'utf8'));
  }));

  app.get('/api/v2/witness-policy', route('read', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    sendBytes(res, 'text/plain; charset=utf-8', Buffer.from(deps.publisher.policy.text, 'utf8'));
  }));

  app.get(/^\/api\/v2\/tile\/.+$/, route('read', async (req, res) => {
    // The path is attacker-controlled; tlog/tile.ts parses it strictly (no leading zeroes, ...).
    const path = req.path.slice('/api/v2/'.length);
    const entries = path.startsWith('tile/entries/');
    const data = entries ? await readBundle(log, path) : await readTile(log, path);
    if (data === undefined) {
      // Not (yet) published: a partial tile appears when a checkpoint of its size is signed.
      res.setHeader('Cache-Control', 'no-cache');
      throw new LogError('not_found', `${path} is not published`);
    }
    res.setHeader('Cache-Control', IMMUTABLE);
    if (entries && req.headers['accept-encoding'] !== undefined && req.acceptsEncodings('gzip', 'identity') === 'gzip') {
      res.setHeader('Vary', 'Accept-Encoding');
      res.setHeader('Content-Encoding', 'gzip');
      sendBytes(res, 'application/octet-stream', await gzipAsync(data, { level: 1 }));
      return;
    }
    sendBytes(res, 'application/octet-stream', data);
  }));

  app.get('/api/v1/log', route('read', async (_req, res) => {
    res.json(formatLogInfo(ids, await log.getCheckpoint()));
  }));

  app.get('/api/v1/log/publicKey', route('read', async (_req, res) => {
    const spki = Buffer.concat([ED25519_SPKI_PREFIX, deps.signer.publicKey]);
    sendBytes(res, 'application/x-pem-file', Buffer.from(formatPem('PUBLIC KEY', spki), 'utf8'));
  }));

  app.get('/api/v1/log/proof', route('read', async (req, res) => {
    const firstSize = req.query.firstSize === undefined ? 1n : parseDecimal(req.query.firstSize, 'firstSize');
    const lastSize = parseDecimal(req.query.lastSize, 'lastSize');
    res.json(formatConsistencyProof(await log.getConsistencyProof(firstSize, lastSize)));
  }));

  app.get('/api/v1/log/entries', route('read', async (req, res) => {
    const index = parseDecimal(req.query.logIndex, 'logIndex');
    const entry = await log.getEntryByIndex(index);
    res.json(v1Entry(ids, deps.signer, formatEntryUuid(ids, entry.leafHash), entry));
  }));

  app.get('/api/v1/log/entries/:uuid', route('read', async (req, res) => {
    const uuid = String(req.params.uuid);
    const leafHash = parseEntryUuid(ids, uuid);
    const entry = leafHash === undefined ? undefined : await log.getEntryByLeafHash(leafHash);
    if (entry === undefined) throw new LogError('not_found', `no entry with UUID ${uuid}`);
    res.json(v1Entry(ids, deps.signer, formatEntryUuid(ids, entry.leafHash), entry));
  }));

  finishHttpApp(app, logger);
  return app;
}

// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID
// 1.3.101.112 }, BIT STRING (32 bytes) }.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function v1Entry(ids: RekorLogIds, signer: Ed25519Signer, uuid: string, e: ProvenEntry) {
  const set = signEntryTimestamp(signer, { body: e.body, integratedTime: e.integratedTime, logId: ids.logId, logIndex: e.index });
  return formatV1LogEntry(ids, uuid, e, set);
}

async function readTile(log: Log, path: string): Promise<Uint8Array | undefined> {
  const t = parsePath(() => parseTilePath(path));
  return log.getTile(t.level, t.index, t.width);
}

async function readBundle(log: Log, path: string): Promise<Uint8Array | undefined> {
  const b = parsePath(() => parseEntriesPath(path));
  return log.getEntryBundle(b.index, b.width);
}

function parsePath<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (isTlogError(err)) throw new LogError('invalid_argument', err.message, { cause: err });
    throw err;
  }
}

/** parseDecimal reads a uint64 query parameter (attacker-controlled): decimal, no leading zeroes. */
function parseDecimal(v: unknown, name: string): bigint {
  if (typeof v !== 'string' || !DECIMAL.test(v) || BigInt(v) > MAX_UINT64) {
    throw new LogError('invalid_argument', `query parameter ${name} must be one decimal uint64 without leading zeroes`);
  }
  return BigInt(v);
}

function sendBytes(res: Response, contentType: string, data: Uint8Array): void {
  // setHeader, not res.type(): that rewrites the value.
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', data.length);
  res.end(data);
}

/**
 * bodyReader reads a write request's body as bytes, whatever its Content-Type, up to the limit.
 * No inflation: a compressed body could expand far past the limit before it is refused.
 */
function bodyReader(limit: number): (req: Request, res: Response) => Promise<Uint8Array> {
  const raw = express.raw({ type: () => true, limit, inflate: false });
  return (req, res) =>
    new Promise((resolve, reject) => {
      raw(req, res, (err?: unknown) => {
        if (err === undefined) return resolve(Buffer.isBuffer(req.body) ? req.body : new Uint8Array(0));
        const type = (err as { type?: string }).type;
        if (type === 'entity.too.large') reject(new LogError('request_too_large', `request body is over the limit of ${limit} bytes`));
        else reject(new LogError('malformed_request', `couldn't read the request body: ${errorMessage(err)}`, { cause: err }));
      });
    });
}

/** failer returns the one error path: LogErrors by the table, anything else logged and 500. */
function failer(config: LogAppConfig, logger: Logger, metrics: LogHttpMetrics) {
  return (res: Response, api: Api, err: unknown): void => {
    const code = isLogError(err) ? err.code : 'internal';
    const status = statusFor(err);
    metrics.rejected.inc({ api, code });
    if (status >= 500) logger.error({ err, api, code }, 'request failed');
    if (res.headersSent) return void res.destroy();
    if (status === 503) res.setHeader('Retry-After', String(config.retryAfterSeconds));
    // 500s say nothing of the internals; every other answer names its reason.
    const message = status === 500 ? 'internal error' : errorMessage(err);
    res.status(status).json({ code, message } satisfies ErrorBody);
  };
}
