// search-index.ts is the monitor's search index: one row per parsed log entry, keyed by
// (log origin, index), with side tables for the many-valued keys (artifact digests, namespaces).
// Values are stored twice where matching needs it: verbatim for display, and normalised
// (monitor/normalise.ts) for lookup, so a search matches exactly what a watch rule would.
//
// Text keys use COLLATE "C" (byte order) so that btree indexes serve equality, ranges and keyset
// paging the same way on every server locale. The leaf bytes are kept so that every result can be
// re-hashed and re-parsed by whoever reads it (monitor/search-cli.ts does).
import type { Queryable } from '../platform/db.ts';
import type { Migration } from '../platform/migrate.ts';
import { encodeBase64 } from '../tlog/base64.ts';
import { normaliseIdentity, normaliseIssuer, normaliseKeyFingerprint, normaliseNamespace } from './normalise.ts';
import type { SigningEvent } from './signing-event.ts';

/** SEARCH_COMPONENT is the migration component of the search index. */
export const SEARCH_COMPONENT = 'monitor-search';

/** SEARCH_MIGRATIONS create the search index tables; apply with applyMigrations(db, SEARCH_COMPONENT, ...). */
export const SEARCH_MIGRATIONS: Migration[] = [
  {
    id: '0001_search_entries',
    sql: `CREATE TABLE monitor_search_entries (
      log_origin text COLLATE "C" NOT NULL,
      log_index bigint NOT NULL CHECK (log_index >= 0),
      entry_kind text NOT NULL,
      identity_kind text NOT NULL,
      identity text NOT NULL,
      identity_norm text COLLATE "C" NOT NULL,
      issuer text,
      issuer_norm text COLLATE "C",
      key_fingerprint text COLLATE "C" NOT NULL,
      signed_at bigint,
      event jsonb NOT NULL,
      body bytea,
      PRIMARY KEY (log_origin, log_index))`,
  },
  {
    id: '0002_search_digests',
    sql: `CREATE TABLE monitor_search_digests (
      hex text COLLATE "C" NOT NULL,
      algorithm text NOT NULL,
      log_origin text COLLATE "C" NOT NULL,
      log_index bigint NOT NULL,
      PRIMARY KEY (hex, log_origin, log_index))`,
  },
  {
    id: '0003_search_namespaces',
    sql: `CREATE TABLE monitor_search_namespaces (
      value_norm text COLLATE "C" NOT NULL,
      kind text NOT NULL,
      log_origin text COLLATE "C" NOT NULL,
      log_index bigint NOT NULL,
      PRIMARY KEY (value_norm, log_origin, log_index))`,
  },
  { id: '0004_search_identity_idx', sql: 'CREATE INDEX monitor_search_identity_idx ON monitor_search_entries (identity_norm, log_origin, log_index)' },
  { id: '0005_search_issuer_idx', sql: 'CREATE INDEX monitor_search_issuer_idx ON monitor_search_entries (issuer_norm, log_origin, log_index)' },
  { id: '0006_search_key_idx', sql: 'CREATE INDEX monitor_search_key_idx ON monitor_search_entries (key_fingerprint, log_origin, log_index)' },
  { id: '0007_search_time_idx', sql: 'CREATE INDEX monitor_search_time_idx ON monitor_search_entries (signed_at, log_origin, log_index)' },
];

/**
 * MAX_EVENTS_PER_STATEMENT bounds the events sent in one INSERT (one JSON parameter per table):
 * leaves are at most 64 KiB, usually 1–4 KiB, so a statement carries a few MiB at most.
 */
export const MAX_EVENTS_PER_STATEMENT = 500;

/**
 * signedAtSec is the time an event is searched by: the log's integration time where the log
 * states one, else the signing certificate's notBefore (Fulcio issues at signing time; for a
 * precertificate entry, the moment the certificate was issued); undefined
 * for key-signed entries of logs that state no time, which no time-range search returns.
 */
export function signedAtSec(event: SigningEvent): number | undefined {
  return event.integratedTimeSec ?? event.certificateNotBeforeSec;
}

/**
 * indexEvents writes events to the search index with three statements per
 * MAX_EVENTS_PER_STATEMENT events, whatever their number. Idempotent: an event whose (log, index)
 * is already indexed adds nothing (ON CONFLICT DO NOTHING), so a range re-processed after a crash
 * is harmless. Runs on tx, the caller's transaction, so the index commits with the caller's other
 * writes (findings, cursor) or not at all.
 */
export async function indexEvents(tx: Queryable, events: readonly SigningEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += MAX_EVENTS_PER_STATEMENT) {
    const batch = events.slice(i, i + MAX_EVENTS_PER_STATEMENT);
    await tx.query(INSERT_ENTRIES, [toJsonParam(batch.map(entryRow))]);
    const digests = batch.flatMap((e) => e.artifactDigests.map((d) => ({ hex: d.hex, algorithm: d.algorithm, log_origin: e.logOrigin, log_index: String(e.index) })));
    if (digests.length > 0) await tx.query(INSERT_DIGESTS, [toJsonParam(digests)]);
    const namespaces = batch.flatMap((e) => e.namespaces.map((n) => ({ value_norm: normaliseNamespace(n.value), kind: n.kind, log_origin: e.logOrigin, log_index: String(e.index) })));
    if (namespaces.length > 0) await tx.query(INSERT_NAMESPACES, [toJsonParam(namespaces)]);
  }
}

// PostgreSQL text and jsonb hold neither U+0000 nor lone surrogates, and a certificate may carry
// either (attacker-controlled): stored copies get U+FFFD instead, so one crafted entry cannot stop
// indexing. The leaf bytes, kept verbatim in body, still say exactly what was logged.
const NOT_STORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** toPgText replaces what PostgreSQL text cannot hold (U+0000, lone surrogates) with U+FFFD. */
export function toPgText(s: string): string {
  return s.replace(NOT_STORABLE, '\uFFFD');
}

function toJsonParam(rows: unknown): string {
  return JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'string' ? toPgText(value) : value));
}

// jsonb_to_recordset turns one JSON parameter into rows; DISTINCT ON keeps a batch that repeats a
// key from failing ("ON CONFLICT DO UPDATE command cannot affect row a second time" does not
// apply to DO NOTHING, but duplicate keys in one INSERT still conflict with each other).
const INSERT_ENTRIES = `INSERT INTO monitor_search_entries
  (log_origin, log_index, entry_kind, identity_kind, identity, identity_norm, issuer, issuer_norm, key_fingerprint, signed_at, event, body)
  SELECT DISTINCT ON (x.log_origin, x.log_index) x.log_origin, x.log_index, x.entry_kind, x.identity_kind, x.identity, x.identity_norm,
    x.issuer, x.issuer_norm, x.key_fingerprint, x.signed_at, x.event, decode(x.body, 'base64')
  FROM jsonb_to_recordset($1::jsonb) AS x(log_origin text, log_index bigint, entry_kind text, identity_kind text, identity text,
    identity_norm text, issuer text, issuer_norm text, key_fingerprint text, signed_at bigint, event jsonb, body text)
  ON CONFLICT DO NOTHING`;

const INSERT_DIGESTS = `INSERT INTO monitor_search_digests (hex, algorithm, log_origin, log_index)
  SELECT DISTINCT ON (x.hex, x.log_origin, x.log_index) x.hex, x.algorithm, x.log_origin, x.log_index
  FROM jsonb_to_recordset($1::jsonb) AS x(hex text, algorithm text, log_origin text, log_index bigint)
  ON CONFLICT DO NOTHING`;

const INSERT_NAMESPACES = `INSERT INTO monitor_search_namespaces (value_norm, kind, log_origin, log_index)
  SELECT DISTINCT ON (x.value_norm, x.log_origin, x.log_index) x.value_norm, x.kind, x.log_origin, x.log_index
  FROM jsonb_to_recordset($1::jsonb) AS x(value_norm text, kind text, log_origin text, log_index bigint)
  ON CONFLICT DO NOTHING`;

function entryRow(e: SigningEvent): Record<string, unknown> {
  const id = e.identity;
  const issuer = id.kind === 'key' ? null : id.issuer;
  return {
    log_origin: e.logOrigin,
    log_index: String(e.index),
    entry_kind: e.entryKind,
    identity_kind: id.kind,
    identity: id.san,
    identity_norm: normaliseIdentity(id.san),
    issuer,
    issuer_norm: issuer === null ? null : normaliseIssuer(issuer),
    key_fingerprint: normaliseKeyFingerprint(e.keyFingerprint),
    signed_at: signedAtSec(e) ?? null,
    event: storedEvent(e),
    body: e.body === undefined ? null : encodeBase64(e.body),
  };
}

// storedEvent is the event as results show it: everything but the index key and the body.
function storedEvent(e: SigningEvent): Record<string, unknown> {
  return {
    entryKind: e.entryKind,
    identity: e.identity,
    keyFingerprint: e.keyFingerprint,
    artifactDigests: e.artifactDigests,
    namespaces: e.namespaces,
    ...(e.integratedTimeSec !== undefined ? { integratedTimeSec: e.integratedTimeSec } : {}),
    ...(e.certificateNotBeforeSec !== undefined ? { certificateNotBeforeSec: e.certificateNotBeforeSec } : {}),
  };
}
