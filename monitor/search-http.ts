// search-http.ts serves the search API: GET /api/v1/search?<criteria> answers JSON, one page of
// results, each with its leaf bytes and an inclusion proof to the latest verified checkpoint of its
// log, so a researcher can check every result without trusting Vigil (monitor/search-cli.ts does).
// The index (search.ts) says where the matching entries are; each entry is then read from its log,
// proved into the verified tree and parsed here, so what a result shows is what the log holds.
// Parsing here, searching in search.ts, proofs from tlog/proof.ts over the log's authenticated
// tiles. Bad input is a 400 with {code, message}.
import express, { type Request, type Response, type Router } from 'express';
import type { Queryable } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { encodeBase64 } from '../tlog/base64.ts';
import { hashLeaf, type HashReader } from '../tlog/merkle.ts';
import { proveInclusion, verifyInclusion } from '../tlog/proof.ts';
import { isMonitorError, MonitorError } from './errors.ts';
import { parseLogEntry } from './entry-parse.ts';
import { formatCursor, parseCursor, searchEntries, type SearchHit, type SearchQuery } from './search.ts';
import type { SigningEvent } from './signing-event.ts';

/** VerifiedCheckpoint is a log's latest checkpoint the monitor verified: the signed note and its tree. */
export interface VerifiedCheckpoint {
  note: string;
  size: bigint;
  rootHash: Uint8Array;
}

/** SearchHttpDeps is what the search router reads: the index and, per log, its verified tree. */
export interface SearchHttpDeps {
  db: Queryable;
  /**
   * checkpointFor returns the latest verified checkpoint of a log, or undefined if there is none.
   * It may be a cached one, but not one smaller than `atLeastSize` while a larger one is verified
   * (the page's results may be newer than the cache).
   */
  checkpointFor(origin: string, atLeastSize?: bigint): Promise<VerifiedCheckpoint | undefined>;
  /** hashReaderFor returns a reader of the log's tree hashes authenticated against that checkpoint. */
  hashReaderFor(origin: string): HashReader;
  /**
   * entryAt returns the leaf bytes of entry `index` as the log serves them in its tree of `size`
   * (the size of the checkpoint checkpointFor returned). Not trusted: every entry is proved into
   * that checkpoint's tree before it is answered.
   */
  entryAt(origin: string, index: bigint, size: bigint): Promise<Uint8Array>;
  logger: Logger;
}

/** SEARCH_PARAMS are the query parameters GET /api/v1/search accepts; any other is refused. */
export const SEARCH_PARAMS = ['digest', 'identity', 'identity_prefix', 'issuer', 'namespace', 'key', 'since', 'until', 'log', 'limit', 'cursor'] as const;

type SearchParam = (typeof SEARCH_PARAMS)[number];

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** parseTimeParam reads Unix seconds or an RFC 3339 date-time (caller input) as Unix seconds. */
export function parseTimeParam(value: string, what: string): number {
  if (/^\d{1,12}$/.test(value)) return Number(value);
  const ms = RFC3339.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms) || ms < 0) throw new MonitorError('invalid_search', `${what} must be Unix seconds or an RFC 3339 date-time`);
  return Math.floor(ms / 1000);
}

// readParams checks the raw query (caller input): known names only, each at most once, strings.
function readParams(query: Request['query']): Partial<Record<SearchParam, string>> {
  const out: Partial<Record<SearchParam, string>> = {};
  for (const [name, value] of Object.entries(query)) {
    if (!(SEARCH_PARAMS as readonly string[]).includes(name)) {
      throw new MonitorError('invalid_search', `unknown parameter ${JSON.stringify(name.slice(0, 64))} (accepted: ${SEARCH_PARAMS.join(', ')})`);
    }
    if (typeof value !== 'string') throw new MonitorError('invalid_search', `parameter ${name} must be given once, as text`);
    out[name as SearchParam] = value;
  }
  return out;
}

/** parseSearchParams turns the query of GET /api/v1/search into a SearchQuery; throws invalid_search. */
export function parseSearchParams(query: Request['query']): SearchQuery {
  const p = readParams(query);
  const q: SearchQuery = {};
  if (p.digest !== undefined) q.digest = p.digest;
  if (p.identity !== undefined) q.identity = p.identity;
  if (p.identity_prefix !== undefined) q.identityPrefix = p.identity_prefix;
  if (p.issuer !== undefined) q.issuer = p.issuer;
  if (p.namespace !== undefined) q.namespace = p.namespace;
  if (p.key !== undefined) q.keyFingerprint = p.key;
  if (p.log !== undefined) q.log = p.log;
  if (p.since !== undefined) q.sinceSec = parseTimeParam(p.since, 'since');
  if (p.until !== undefined) q.untilSec = parseTimeParam(p.until, 'until');
  if (p.limit !== undefined) {
    if (!/^\d{1,4}$/.test(p.limit)) throw new MonitorError('invalid_search', 'limit must be a whole number');
    q.limit = Number(p.limit);
  }
  if (p.cursor !== undefined) q.after = parseCursor(p.cursor);
  return q;
}

/** InclusionProofJson is a result's proof: the checkpoint note and the audit path to its root. */
export interface InclusionProofJson {
  checkpoint: string;
  tree_size: string;
  root_hash: string;
  hashes: string[];
}

/**
 * resultFor reads a hit's entry from its log, proves it into the latest verified checkpoint and
 * parses it. A hit of a log with no verified checkpoint covering it (a log no longer followed) has
 * no entry, proof or fields; an entry that no longer parses (a stricter parser) keeps its bytes and
 * proof, its fields null. A log that serves bytes other than the tree's fails the proof: 503.
 */
async function resultFor(hit: SearchHit, deps: SearchHttpDeps, checkpoints: Map<string, Promise<VerifiedCheckpoint | undefined>>, sizes: Map<string, bigint>): Promise<Record<string, unknown>> {
  let cp = checkpoints.get(hit.logOrigin);
  if (cp === undefined) {
    cp = deps.checkpointFor(hit.logOrigin, sizes.get(hit.logOrigin));
    checkpoints.set(hit.logOrigin, cp);
  }
  const checkpoint = await cp;
  if (checkpoint === undefined || hit.index >= checkpoint.size) return resultJson(hit, undefined, null, null);
  const [body, hashes] = await Promise.all([
    deps.entryAt(hit.logOrigin, hit.index, checkpoint.size),
    proveInclusion(hit.index, checkpoint.size, deps.hashReaderFor(hit.logOrigin)),
  ]);
  verifyInclusion(hashLeaf(body), hit.index, checkpoint.size, hashes, checkpoint.rootHash);
  const proof = { checkpoint: checkpoint.note, tree_size: String(checkpoint.size), root_hash: encodeBase64(checkpoint.rootHash), hashes: hashes.map(encodeBase64) };
  let event: SigningEvent | undefined;
  try {
    event = parseLogEntry(hit.logOrigin, hit.index, body);
  } catch (err) {
    if (!isMonitorError(err)) throw err;
    deps.logger.warn({ origin: hit.logOrigin, index: String(hit.index), err: err.message }, 'an indexed entry does not parse');
  }
  return resultJson(hit, event, body, proof);
}

function resultJson(hit: SearchHit, event: SigningEvent | undefined, body: Uint8Array | null, proof: InclusionProofJson | null): Record<string, unknown> {
  return {
    log_origin: hit.logOrigin,
    index: String(hit.index),
    entry_kind: event?.entryKind ?? null,
    identity: event?.identity ?? null,
    key_fingerprint: event?.keyFingerprint ?? null,
    artifact_digests: event?.artifactDigests ?? null,
    namespaces: event?.namespaces ?? null,
    signed_at: hit.signedAtSec ?? null,
    body: body === null ? null : encodeBase64(body),
    inclusion_proof: proof,
  };
}

function statusFor(err: unknown): number {
  return isMonitorError(err, 'invalid_search') ? 400 : 503;
}

/**
 * createSearchRouter returns the router of GET /api/v1/search. Answers 200 {results, next_cursor},
 * 400 {code: invalid_search} for bad parameters, 503 {code: unavailable} with Retry-After when the
 * index or a log's tiles or entries cannot be read or do not match the verified tree (logged).
 */
export function createSearchRouter(deps: SearchHttpDeps): Router {
  const router = express.Router();
  router.get('/api/v1/search', async (req: Request, res: Response) => {
    try {
      const page = await searchEntries(deps.db, parseSearchParams(req.query));
      const checkpoints = new Map<string, Promise<VerifiedCheckpoint | undefined>>();
      // Per log, the tree size that covers every hit of the page: one checkpoint proves them all.
      const sizes = new Map<string, bigint>();
      for (const h of page.hits) if (h.index + 1n > (sizes.get(h.logOrigin) ?? 0n)) sizes.set(h.logOrigin, h.index + 1n);
      const results = await Promise.all(page.hits.map((h) => resultFor(h, deps, checkpoints, sizes)));
      res.json({ results, next_cursor: page.next === undefined ? null : formatCursor(page.next) });
    } catch (err) {
      const status = statusFor(err);
      if (status === 400) {
        res.status(400).json({ code: 'invalid_search', message: (err as Error).message });
        return;
      }
      deps.logger.error({ err }, 'search failed');
      res.status(503).set('Retry-After', '5').json({ code: 'unavailable', message: 'the search index or a log could not be read; retry later' });
    }
  });
  return router;
}
