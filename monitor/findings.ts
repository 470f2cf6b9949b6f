// Findings: what the monitor found, the contract between monitor/ (which writes them) and alerts/
// (which delivers them). The table is a transactional outbox: a monitor worker inserts a range's
// findings in the transaction that moves the range's cursor; the alert worker reads them in `seq`
// order after its own committed cursor, so neither side loses or duplicates one (DESIGN.md
// "Nothing acknowledged is lost"). A BullMQ job may wake the alert worker sooner; it carries no
// data the table does not hold.
import { createHash } from 'node:crypto';
import type { Queryable } from '../platform/db.ts';
import type { Migration } from '../platform/migrate.ts';
import type { MatchKind } from './rule-index.ts';

/** FindingKind is every kind of finding (issue 5): entry findings and log findings. */
export type FindingKind = MatchKind | 'log-misbehaviour' | 'health';

/**
 * Finding is one thing worth telling someone. Entry findings (a MatchKind) name the entry
 * (`logOrigin`, `index`), the rule or policy (`ruleId`, with `subscriberId`) and carry the parsed
 * event in `details`; log findings ('log-misbehaviour', 'health') have no index, rule or
 * subscriber: they go to everyone who follows the log. Every string from a log entry is
 * attacker-controlled; `summary` and `details` hold them quoted, never as markup.
 */
export interface Finding {
  /** key is the idempotency key: findingKey(logOrigin, index, ruleId), or the caller's for log findings. */
  key: string;
  kind: FindingKind;
  logOrigin: string;
  /** index is the entry's index in the log; null for log findings. */
  index: bigint | null;
  /** ruleId is the watch rule's or the policy's id ('r:<id>' / 'p:<id>'); null for log findings. */
  ruleId: string | null;
  /** subscriberId is the rule's owner; null for log findings. */
  subscriberId: string | null;
  /** summary is one line saying what happened. */
  summary: string;
  /**
   * details is JSON-serialisable: for entry findings the SigningEvent fields (index as a decimal
   * string), the matched value and reason; for log-misbehaviour the signed notes as evidence.
   */
  details: Record<string, unknown>;
  /** observedAt is when the monitor found it. */
  observedAt: Date;
}

/** StoredFinding is a Finding with its outbox position. */
export interface StoredFinding extends Finding {
  /** seq orders findings by commit; consumers keep a cursor on it. */
  seq: bigint;
}

/**
 * findingKey is the key of an entry finding: one per (log, entry index, rule), so a range that is
 * processed twice (a worker killed after its commit, a retried job) inserts nothing new.
 */
export function findingKey(logOrigin: string, index: bigint, ruleId: string): string {
  return createHash('sha256').update(`entry\n${logOrigin}\n${index}\n${ruleId}`).digest('hex');
}

/** logFindingKey is the key of a log finding, from the facts that make it one finding. */
export function logFindingKey(kind: 'log-misbehaviour' | 'health', logOrigin: string, facts: string): string {
  return createHash('sha256').update(`${kind}\n${logOrigin}\n${facts}`).digest('hex');
}

/** FINDINGS_MIGRATION creates the findings outbox; monitor/ lists it among its migrations. */
export const FINDINGS_MIGRATION: Migration = {
  id: '0001-monitor-findings',
  sql: `CREATE TABLE monitor_findings (
    seq bigserial PRIMARY KEY,
    key text NOT NULL UNIQUE,
    kind text NOT NULL,
    log_origin text NOT NULL,
    entry_index bigint,
    rule_id text,
    subscriber_id text,
    summary text NOT NULL,
    details jsonb NOT NULL,
    observed_at timestamptz NOT NULL)`,
};

/**
 * insertFindings writes findings that are not there yet (by key) and returns how many were new.
 * Call it inside the transaction (`tx`) that moves the cursor of the range the findings came from.
 */
export async function insertFindings(tx: Queryable, findings: readonly Finding[]): Promise<number> {
  if (findings.length === 0) return 0;
  // bigserial values are handed out at INSERT, not at COMMIT: two concurrent writers could commit
  // seq 8 after a reader has passed seq 9, and the reader would never see 8. Writers of findings
  // take this lock until they commit, so seq order is commit order. Findings are rare; this
  // serialises only the transactions that have some.
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['vigil:monitor_findings']);
  let inserted = 0;
  for (const f of findings) {
    const rows = await tx.query(
      `INSERT INTO monitor_findings (key, kind, log_origin, entry_index, rule_id, subscriber_id, summary, details, observed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING RETURNING seq`,
      [f.key, f.kind, f.logOrigin, f.index, f.ruleId, f.subscriberId, f.summary, JSON.stringify(f.details), f.observedAt],
    );
    inserted += rows.length;
  }
  return inserted;
}

/** FindingRow is a monitor_findings row as the database returns it (details: JSONB, or its text). */
export interface FindingRow {
  seq: bigint;
  key: string;
  kind: FindingKind;
  log_origin: string;
  entry_index: bigint | null;
  rule_id: string | null;
  subscriber_id: string | null;
  summary: string;
  details: Record<string, unknown> | string;
  observed_at: Date;
}

const FINDING_COLUMNS = ['seq', 'key', 'kind', 'log_origin', 'entry_index', 'rule_id', 'subscriber_id', 'summary', 'details', 'observed_at'];

/** findingColumns is the select list findingFromRow reads, each column qualified by `alias` when given. */
export function findingColumns(alias?: string): string {
  return FINDING_COLUMNS.map((c) => (alias === undefined ? c : `${alias}.${c}`)).join(', ');
}

/** findingFromRow maps a monitor_findings row (any query that selects its columns) to a StoredFinding. */
export function findingFromRow(r: FindingRow): StoredFinding {
  return {
    seq: r.seq,
    key: r.key,
    kind: r.kind,
    logOrigin: r.log_origin,
    index: r.entry_index,
    ruleId: r.rule_id,
    subscriberId: r.subscriber_id,
    summary: r.summary,
    details: typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
    observedAt: r.observed_at,
  };
}

/** readFindingsAfter returns up to `limit` findings with seq > `after`, in seq order. */
export async function readFindingsAfter(db: Queryable, after: bigint, limit: number): Promise<StoredFinding[]> {
  const rows = await db.query<FindingRow>(
    `SELECT ${findingColumns()} FROM monitor_findings WHERE seq > $1 ORDER BY seq LIMIT $2`,
    [after, limit],
  );
  return rows.map(findingFromRow);
}
