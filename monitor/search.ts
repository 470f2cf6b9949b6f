// search.ts answers researchers' queries over the search index (search-index.ts): by artifact
// digest, identity (exact or prefix), issuer, namespace, key fingerprint and time range, any
// combination (AND), in (log origin, index) order with keyset paging. Values are normalised as the
// index and the watch rules normalise them, so "https://GitHub.com/Org/Repo" finds "org/repo".
import type { Queryable, SqlParam } from '../platform/db.ts';
import { MonitorError } from './errors.ts';
import { normaliseIdentity, normaliseIssuer, normaliseKeyFingerprint, normaliseNamespace } from './normalise.ts';

/** MAX_SEARCH_LIMIT bounds the results of one page (each carries an inclusion proof). */
export const MAX_SEARCH_LIMIT = 100;
/** DEFAULT_SEARCH_LIMIT is the page size when none is asked for. */
export const DEFAULT_SEARCH_LIMIT = 20;
/** MAX_SEARCH_VALUE_LENGTH bounds every text parameter, in UTF-16 units. */
export const MAX_SEARCH_VALUE_LENGTH = 2048;
/** MIN_IDENTITY_PREFIX_LENGTH refuses prefixes so short they would scan most of the index. */
export const MIN_IDENTITY_PREFIX_LENGTH = 4;

/** SearchCursor is the (log origin, index) of the last result of a page; the next page follows it. */
export interface SearchCursor {
  logOrigin: string;
  index: bigint;
}

/** SearchQuery is one search. At least one of the criteria (not log, limit, after) is required. */
export interface SearchQuery {
  /** digest is an artifact digest as hex, optionally "sha256:"-style prefixed. */
  digest?: string;
  identity?: string;
  identityPrefix?: string;
  issuer?: string;
  namespace?: string;
  keyFingerprint?: string;
  /** sinceSec and untilSec bound signedAtSec (search-index.ts), inclusive, in Unix seconds. */
  sinceSec?: number;
  untilSec?: number;
  /** log restricts results to one log origin. */
  log?: string;
  limit?: number;
  after?: SearchCursor;
}

/**
 * SearchHit is one indexed entry: where it is and when it was signed. The index holds keys, not
 * entries: the entry itself is read from its log (search-http.ts), checked against the verified
 * tree, and parsed, as a client re-checks it.
 */
export interface SearchHit {
  logOrigin: string;
  index: bigint;
  signedAtSec: number | undefined;
}

/** SearchPage is one page of hits; `next` is set when more may follow. */
export interface SearchPage {
  hits: SearchHit[];
  next: SearchCursor | undefined;
}

const DIGEST = /^(?:(sha256|sha384|sha512):)?([0-9A-Fa-f]{64}|[0-9A-Fa-f]{96}|[0-9A-Fa-f]{128})$/;
const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

function text(value: string | undefined, what: string, minLength = 1): string | undefined {
  if (value === undefined) return undefined;
  if (value.length < minLength || value.length > MAX_SEARCH_VALUE_LENGTH) {
    throw new MonitorError('invalid_search', `${what} must be ${minLength} to ${MAX_SEARCH_VALUE_LENGTH} characters long`);
  }
  if (/[\u0000-\u001f\u007f]/.test(value) || /\p{Cs}/u.test(value)) throw new MonitorError('invalid_search', `${what} contains control characters or lone surrogates`);
  return value;
}

function checkSeconds(value: number | undefined, what: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) throw new MonitorError('invalid_search', `${what} must be a non-negative whole number of seconds`);
}

interface Where {
  clauses: string[];
  params: SqlParam[];
}

function add(w: Where, clause: (p: string) => string, value: SqlParam): void {
  w.params.push(value);
  w.clauses.push(clause(`$${w.params.length}`));
}

// buildWhere turns a checked query into SQL conditions over `e` (monitor_search_entries).
function buildWhere(q: SearchQuery): Where {
  const w: Where = { clauses: [], params: [] };
  if (q.digest !== undefined) {
    const m = DIGEST.exec(q.digest);
    if (m === null || (m[1] !== undefined && HEX_LENGTH[m[1]] !== m[2]!.length)) {
      throw new MonitorError('invalid_search', 'digest must be hex of a SHA-256, SHA-384 or SHA-512 digest, optionally prefixed "sha256:"');
    }
    // An entry's first digest is in its row, further ones (and all of rows indexed before
    // search-index.ts's 0013) in the side table; each part is served by its index.
    add(w, (p) => `(e.log_origin, e.log_index) IN (SELECT x.log_origin, x.log_index FROM monitor_search_entries x WHERE x.digest_hex = ${p}
      UNION ALL SELECT d.log_origin, d.log_index FROM monitor_search_digests d WHERE d.hex = ${p})`, m[2]!.toLowerCase());
  }
  const identity = text(q.identity, 'identity');
  if (identity !== undefined) add(w, (p) => `e.identity_norm = ${p}`, normaliseIdentity(identity));
  const prefix = text(q.identityPrefix, 'identity prefix', MIN_IDENTITY_PREFIX_LENGTH);
  if (prefix !== undefined) {
    // A range on the C-collated index: every string that starts with the prefix sorts in
    // [prefix, prefix || U+10FFFF); only a value with U+10FFFF right after the prefix is missed.
    const norm = normaliseIdentity(prefix);
    add(w, (p) => `e.identity_norm >= ${p}`, norm);
    add(w, (p) => `e.identity_norm < ${p}`, `${norm}\u{10FFFF}`);
  }
  const issuer = text(q.issuer, 'issuer');
  if (issuer !== undefined) add(w, (p) => `e.issuer_norm = ${p}`, normaliseIssuer(issuer));
  const namespace = text(q.namespace, 'namespace');
  if (namespace !== undefined) {
    add(w, (p) => `(e.log_origin, e.log_index) IN (SELECT n.log_origin, n.log_index FROM monitor_search_namespaces n WHERE n.value_norm = ${p})`, normaliseNamespace(namespace));
  }
  const key = text(q.keyFingerprint, 'key fingerprint');
  if (key !== undefined) {
    if (!/^[0-9A-Fa-f]{64}$/.test(key)) throw new MonitorError('invalid_search', 'key fingerprint must be 64 hex digits (SHA-256 of the DER public key)');
    add(w, (p) => `e.key_fingerprint = ${p}`, normaliseKeyFingerprint(key));
  }
  checkSeconds(q.sinceSec, 'since');
  checkSeconds(q.untilSec, 'until');
  if (q.sinceSec !== undefined) add(w, (p) => `e.signed_at >= ${p}`, q.sinceSec);
  if (q.untilSec !== undefined) add(w, (p) => `e.signed_at <= ${p}`, q.untilSec);
  if (w.clauses.length === 0) {
    throw new MonitorError('invalid_search', 'give at least one of digest, identity, identity prefix, issuer, namespace, key fingerprint, since, until');
  }
  const log = text(q.log, 'log');
  if (log !== undefined) add(w, (p) => `e.log_origin = ${p}`, log);
  return w;
}

interface EntryRow {
  log_origin: string;
  log_index: bigint;
  signed_at: bigint | null;
}

/**
 * searchEntries runs q (caller input, checked here: throws MonitorError 'invalid_search' naming the
 * bad parameter) and returns one page of at most q.limit hits after q.after. Queries are
 * parameterised; every criterion is served by an index.
 */
export async function searchEntries(db: Queryable, q: SearchQuery): Promise<SearchPage> {
  const limit = q.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new MonitorError('invalid_search', `limit must be 1 to ${MAX_SEARCH_LIMIT}`);
  }
  const w = buildWhere(q);
  if (q.after !== undefined) {
    text(q.after.logOrigin, 'cursor origin');
    w.params.push(q.after.logOrigin, q.after.index);
    w.clauses.push(`(e.log_origin, e.log_index) > ($${w.params.length - 1}, $${w.params.length})`);
  }
  w.params.push(limit + 1);
  const rows = await db.query<EntryRow>(
    `SELECT e.log_origin, e.log_index, e.signed_at FROM monitor_search_entries e
     WHERE ${w.clauses.join(' AND ')} ORDER BY e.log_origin, e.log_index LIMIT $${w.params.length}`,
    w.params,
  );
  const hits = rows.slice(0, limit).map(hitOf);
  const last = hits.at(-1);
  return { hits, next: rows.length > limit && last !== undefined ? { logOrigin: last.logOrigin, index: last.index } : undefined };
}

function hitOf(row: EntryRow): SearchHit {
  return { logOrigin: row.log_origin, index: BigInt(row.log_index), signedAtSec: row.signed_at === null ? undefined : Number(row.signed_at) };
}

/** formatCursor encodes a cursor for a URL: base64url of JSON [origin, "index"]. */
export function formatCursor(c: SearchCursor): string {
  return Buffer.from(JSON.stringify([c.logOrigin, String(c.index)])).toString('base64url');
}

/** parseCursor decodes formatCursor's text (caller input); throws MonitorError 'invalid_search'. */
export function parseCursor(s: string): SearchCursor {
  const bad = () => new MonitorError('invalid_search', 'cursor is not one this server returned');
  if (s.length > 4 * MAX_SEARCH_VALUE_LENGTH || !/^[A-Za-z0-9_-]+$/.test(s)) throw bad();
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string' || !/^(?:0|[1-9][0-9]{0,18})$/.test(v[1])) throw bad();
  const index = BigInt(v[1]);
  if (index > (1n << 63n) - 1n) throw bad();
  return { logOrigin: v[0], index };
}
