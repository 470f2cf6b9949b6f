// search-index.ts is the monitor's search index: one row per parsed log entry, keyed by
// (log origin, index), with side tables for the many-valued keys (artifact digests, namespaces).
// An entry's first artifact digest (hashedrekord has exactly one) is a column of its row, and only
// further digests (in-toto subjects) go to the side table: a side-table row per entry cost the
// database ~7 µs of its ~23 µs per entry, an indexed column a fraction of that (bench/monitor).
// Values are stored twice where matching needs it: verbatim for display, and normalised
// (monitor/normalise.ts) for lookup, so a search matches exactly what a watch rule would.
//
// Text keys use COLLATE "C" (byte order) so that btree indexes serve equality, ranges and keyset
// paging the same way on every server locale. The index holds keys and positions, not entries:
// the log holds those, and the search API reads each result's entry from it, proved into the
// verified tree (search-http.ts). Storing the leaf bytes and the parsed event here as well doubled
// the database's work per entry (bench/monitor: ~42 → ~22 µs of PostgreSQL CPU per entry).
import type { Queryable, SqlParam } from '../platform/db.ts';
import type { Migration } from '../platform/migrate.ts';
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
  // Key-signed entries have no issuer, and those of logs that state no time (Rekor v2) no time
  // either; searches by issuer or time never return them (`x = $1`, `x >= $1` imply NOT NULL), so
  // the two indexes skip those rows: two index insertions fewer per such entry.
  { id: '0008_drop_search_issuer_idx', sql: 'DROP INDEX monitor_search_issuer_idx' },
  { id: '0009_search_issuer_idx_partial', sql: 'CREATE INDEX monitor_search_issuer_idx ON monitor_search_entries (issuer_norm, log_origin, log_index) WHERE issuer_norm IS NOT NULL' },
  { id: '0010_drop_search_time_idx', sql: 'DROP INDEX monitor_search_time_idx' },
  { id: '0011_search_time_idx_partial', sql: 'CREATE INDEX monitor_search_time_idx ON monitor_search_entries (signed_at, log_origin, log_index) WHERE signed_at IS NOT NULL' },
  // Results are read from the log (search-http.ts); the copies of the entry and its parse go.
  { id: '0012_search_entries_keys_only', sql: 'ALTER TABLE monitor_search_entries DROP COLUMN event, DROP COLUMN body' },
  // Rows indexed before these two keep all their digests in monitor_search_digests, which searches
  // still read: nothing needs re-indexing.
  { id: '0013_search_entries_digest', sql: 'ALTER TABLE monitor_search_entries ADD COLUMN digest_hex text COLLATE "C"' },
  { id: '0014_search_digest_idx', sql: 'CREATE INDEX monitor_search_digest_idx ON monitor_search_entries (digest_hex, log_origin, log_index) WHERE digest_hex IS NOT NULL' },
];

/**
 * MAX_EVENTS_PER_STATEMENT bounds the events sent in one INSERT (one array per column): an
 * event's keys come from a leaf of at most 64 KiB, usually far less, so a statement stays small.
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
 * indexEvents writes events to the search index with at most three statements per
 * MAX_EVENTS_PER_STATEMENT events, whatever their number. Each statement binds one array per
 * column and inserts `unnest(...)`: typed arrays cost PostgreSQL less to read than one JSON
 * document per batch did, and spare a JSON replacer call on every string (bench/monitor shows the
 * database's CPU per entry).
 * Idempotent: an event whose (log, index) is already indexed adds nothing (ON CONFLICT DO
 * NOTHING), so a range re-processed after a crash is harmless; a key repeated within one call is
 * written once (the first). Runs on tx, the caller's transaction, so the index commits with the
 * caller's other writes (findings, cursor) or not at all.
 */
export async function indexEvents(tx: Queryable, events: readonly SigningEvent[]): Promise<void> {
  const unique = firstPerKey(events, (e) => `${e.logOrigin}\n${e.index}`);
  for (let i = 0; i < unique.length; i += MAX_EVENTS_PER_STATEMENT) {
    const batch = unique.slice(i, i + MAX_EVENTS_PER_STATEMENT);
    await tx.query(INSERT_ENTRIES, entryColumns(batch));
    const digests = sideRows(batch, (e) => e.artifactDigests.filter((d) => d.hex !== e.artifactDigests[0]!.hex).map((d) => ({ key: d.hex, kind: d.algorithm })));
    if (digests.length > 0) await tx.query(INSERT_DIGESTS, sideColumns(digests));
    const namespaces = sideRows(batch, (e) => e.namespaces.map((n) => ({ key: normaliseNamespace(n.value), kind: n.kind })));
    if (namespaces.length > 0) await tx.query(INSERT_NAMESPACES, sideColumns(namespaces));
  }
}

// PostgreSQL text and jsonb hold neither U+0000 nor lone surrogates, and a certificate may carry
// either (attacker-controlled): stored copies get U+FFFD instead, so one crafted entry cannot stop
// indexing. The leaf bytes, in the log, still say exactly what was logged.
const NOT_STORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// Any U+0000 or surrogate at all: the cheap test that lets almost every string skip the replace.
const MAYBE_NOT_STORABLE = /[\u0000\uD800-\uDFFF]/;

/** toPgText replaces what PostgreSQL text cannot hold (U+0000, lone surrogates) with U+FFFD. */
export function toPgText(s: string): string {
  return MAYBE_NOT_STORABLE.test(s) ? s.replace(NOT_STORABLE, '\uFFFD') : s;
}

/** firstPerKey keeps the first item of each key, in order (one INSERT may not repeat a key). */
function firstPerKey<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const INSERT_ENTRIES = `INSERT INTO monitor_search_entries
  (log_origin, log_index, entry_kind, identity_kind, identity, identity_norm, issuer, issuer_norm, key_fingerprint, signed_at, digest_hex)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[], $10::bigint[], $11::text[])
  ON CONFLICT DO NOTHING`;

const INSERT_DIGESTS = `INSERT INTO monitor_search_digests (hex, algorithm, log_origin, log_index)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
  ON CONFLICT DO NOTHING`;

const INSERT_NAMESPACES = `INSERT INTO monitor_search_namespaces (value_norm, kind, log_origin, log_index)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
  ON CONFLICT DO NOTHING`;

/** entryColumns are the eleven column arrays of INSERT_ENTRIES for events. */
function entryColumns(events: readonly SigningEvent[]): SqlParam[] {
  const n = events.length;
  const cols = Array.from({ length: 11 }, () => new Array<string | null>(n));
  for (let r = 0; r < n; r++) {
    const e = events[r]!;
    const id = e.identity;
    const issuer = id.kind === 'key' ? null : id.issuer;
    const signedAt = signedAtSec(e);
    cols[0]![r] = toPgText(e.logOrigin);
    cols[1]![r] = String(e.index);
    cols[2]![r] = e.entryKind;
    cols[3]![r] = id.kind;
    cols[4]![r] = toPgText(id.san);
    cols[5]![r] = toPgText(normaliseIdentity(id.san));
    cols[6]![r] = issuer === null ? null : toPgText(issuer);
    cols[7]![r] = issuer === null ? null : toPgText(normaliseIssuer(issuer));
    cols[8]![r] = toPgText(normaliseKeyFingerprint(e.keyFingerprint));
    cols[9]![r] = signedAt === undefined ? null : String(signedAt);
    const digest = e.artifactDigests[0];
    cols[10]![r] = digest === undefined ? null : toPgText(digest.hex);
  }
  return cols;
}

interface SideRow {
  key: string;
  kind: string;
  e: SigningEvent;
}

/** sideRows are the side-table rows (digests or namespaces) of events, each (key, log, index) once. */
function sideRows(events: readonly SigningEvent[], values: (e: SigningEvent) => { key: string; kind: string }[]): SideRow[] {
  const rows = events.flatMap((e) => values(e).map((v) => ({ ...v, e })));
  return firstPerKey(rows, (r) => `${r.key}\n${r.e.logOrigin}\n${r.e.index}`);
}

/** sideColumns are the four column arrays of INSERT_DIGESTS / INSERT_NAMESPACES. */
function sideColumns(rows: readonly SideRow[]): SqlParam[] {
  return [
    rows.map((r) => toPgText(r.key)),
    rows.map((r) => toPgText(r.kind)),
    rows.map((r) => toPgText(r.e.logOrigin)),
    rows.map((r) => String(r.e.index)),
  ];
}
