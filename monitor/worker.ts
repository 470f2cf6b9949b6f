// The range worker: for one range of entries of a followed log, fetch the entry bundle(s), check
// every entry's leaf hash against the level-0 tile authenticated for the verified checkpoint
// (TileHashReader), parse the entries, match them against the watch rules, and commit the
// findings, the search index rows and "range done" in ONE transaction. A worker killed at any
// point before that commit leaves the range pending (another run redoes it); killed after it, a
// second run finds the range done and does nothing. Findings are keyed (log, index, rule), so even
// two runs racing to commit insert each finding once.
import type { Clock } from '../platform/clock.ts';
import type { Db, Queryable } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { UnrecoverableJobError, type JobHandler } from '../platform/queue.ts';
import { bundlesForRange } from '../tlog/entry-bundle.ts';
import { isTlogError } from '../tlog/errors.ts';
import { formatEntriesPath } from '../tlog/tile.ts';
import { TileHashReader } from '../tlog/tile-hash-reader.ts';
import type { FollowedLog } from './config.ts';
import { isMonitorError } from './errors.ts';
import { findingKey, insertFindings, type Finding } from './findings.ts';
import type { LogClient } from './log-client.ts';
import { badTreeFinding } from './log-findings.ts';
import { countFindings, type MonitorMetrics } from './metrics.ts';
import type { RuleMatch } from './rule-index.ts';
import type { RuleIndexCache } from './rule-source.ts';
import type { SigningEvent } from './signing-event.ts';
import { rangeAt, verifiedCheckpointAt, type RangeJob, type RangeRow, type VerifiedCheckpoint } from './state.ts';

/** ParseEntry parses one verified entry (monitor/entry-parse.ts parseLogEntry); throws MonitorError when it cannot. */
export type ParseEntry = (logOrigin: string, index: bigint, body: Uint8Array) => SigningEvent;

/** IndexEvents writes search index rows inside the range's transaction (monitor/search-index.ts indexEvents); idempotent. */
export type IndexEvents = (tx: Queryable, events: readonly SigningEvent[]) => Promise<void>;

/** WorkerLog is a followed log with its HTTP client. */
export interface WorkerLog {
  log: FollowedLog;
  client: LogClient;
}

/** WorkerDeps are what range jobs need; main.ts wires them. */
export interface WorkerDeps {
  db: Db;
  logs: ReadonlyMap<string, WorkerLog>;
  rules: RuleIndexCache;
  parseEntry: ParseEntry;
  /** indexEvents is undefined when the search index is not part of this deployment. */
  indexEvents: IndexEvents | undefined;
  metrics: MonitorMetrics;
  logger: Logger;
  clock: Clock;
}

/** RangeResult is what processing one range did. */
export interface RangeResult {
  result: 'done' | 'already_done' | 'bad_entries';
  entries: number;
  unparsed: number;
  newFindings: number;
}

// MAX_CACHED_READERS bounds the per-checkpoint tile readers kept by one worker process, and
// TILES_PER_READER the full tiles each keeps (8 KiB each): a range needs a few of them.
const MAX_CACHED_READERS = 16;
const TILES_PER_READER = 64;

/** createRangeHandler returns the queue handler of range jobs; errors count and rethrow (retry). */
export function createRangeHandler(deps: WorkerDeps): JobHandler<RangeJob> {
  const readers = new Map<string, TileHashReader>();
  return async (job) => {
    try {
      await processRange(job.data, deps, readers);
    } catch (err) {
      const code = err instanceof UnrecoverableJobError ? 'unrecoverable' : isMonitorError(err) || isTlogError(err) ? err.code : 'error';
      deps.metrics.jobErrors.inc({ origin: deps.logs.has(job.data.origin) ? job.data.origin : '', code });
      deps.logger.warn({ job_id: job.id, attempt: job.attemptsMade, err: (err as Error).message }, 'range job failed');
      throw err;
    }
  };
}

/**
 * processRange processes the range that `job` names (its bounds and checkpoint are read from the
 * database, not trusted from the job). Throws UnrecoverableJobError for a job that can never run
 * (unknown log or range), other errors for a retry (fetch failures, database).
 */
export async function processRange(job: RangeJob, deps: WorkerDeps, readers = new Map<string, TileHashReader>()): Promise<RangeResult> {
  const followed = deps.logs.get(job.origin);
  if (followed === undefined) throw new UnrecoverableJobError(`range job for unknown log ${JSON.stringify(job.origin)}`);
  if (!/^(0|[1-9][0-9]{0,19})$/.test(job.start)) throw new UnrecoverableJobError(`range job start ${JSON.stringify(job.start)} is not an index`);
  const origin = job.origin;
  const range = await rangeAt(deps.db, origin, BigInt(job.start));
  if (range === undefined) throw new UnrecoverableJobError(`no range at ${job.start} of ${JSON.stringify(origin)}`);
  if (range.state === 'done') return { result: 'already_done', entries: 0, unparsed: 0, newFindings: 0 };
  const cp = await verifiedCheckpointAt(deps.db, origin, range.checkpointSize);
  const reader = readerFor(readers, followed, cp);
  let entries: Uint8Array[];
  try {
    entries = await fetchVerifiedEntries(followed.client, reader, range);
  } catch (err) {
    if (!isTlogError(err)) throw err;
    return recordBadEntries(deps, range, cp, err.message);
  }
  deps.metrics.entriesVerified.inc({ origin }, entries.length);
  const { events, unparsed } = parseEntries(deps, followed.log, range.start, entries);
  const index = await deps.rules.current();
  const now = new Date(deps.clock.nowMs());
  const findings = events.flatMap((ev) => index.match(ev).map((m) => matchFinding(ev, m, now)));
  const committed = await deps.db.transaction(async (tx) => {
    const row = await rangeAt(tx, origin, range.start, true);
    if (row === undefined || row.state === 'done') return undefined;
    const n = await insertFindings(tx, findings);
    if (deps.indexEvents !== undefined && events.length > 0) await deps.indexEvents(tx, events);
    await tx.query(
      `UPDATE monitor_ranges SET state = 'done', done_at = $3, entries = $4, unparsed = $5 WHERE origin = $1 AND start_index = $2`,
      [origin, range.start, now, entries.length, unparsed],
    );
    return n;
  });
  if (committed === undefined) return { result: 'already_done', entries: 0, unparsed: 0, newFindings: 0 };
  deps.metrics.rangesDone.inc({ origin });
  if (unparsed > 0) deps.metrics.entriesUnparsed.inc({ origin }, unparsed);
  if (committed === findings.length) countFindings(deps.metrics, origin, findings.map((f) => f.kind));
  return { result: 'done', entries: entries.length, unparsed, newFindings: committed };
}

function readerFor(readers: Map<string, TileHashReader>, followed: WorkerLog, cp: VerifiedCheckpoint): TileHashReader {
  const key = `${cp.origin}\n${cp.size}`;
  let reader = readers.get(key);
  if (reader === undefined) {
    reader = new TileHashReader({ size: cp.size, root: cp.root }, followed.client.fetchTile, { maxCachedTiles: TILES_PER_READER });
    readers.set(key, reader);
    if (readers.size > MAX_CACHED_READERS) readers.delete(readers.keys().next().value!);
  }
  return reader;
}

// fetchVerifiedEntries returns entries [start, end) of the range, each checked against the
// authenticated level-0 tile of the checkpoint's tree. TlogError when the log's data is wrong.
async function fetchVerifiedEntries(client: LogClient, reader: TileHashReader, range: RangeRow): Promise<Uint8Array[]> {
  const slices = bundlesForRange(range.start, range.end - range.start, range.checkpointSize);
  const parts = await Promise.all(
    slices.map(async (s) => {
      const data = await client.fetchBundle(s);
      // data is attacker-controlled; verifyEntryBundle parses it and checks every leaf hash.
      const all = await reader.verifyEntryBundle(s, data);
      return all.slice(s.first, s.first + s.count);
    }),
  );
  return parts.flat();
}

function parseEntries(deps: WorkerDeps, log: FollowedLog, start: bigint, entries: Uint8Array[]): { events: SigningEvent[]; unparsed: number } {
  if (log.entryFormat === 'opaque') return { events: [], unparsed: 0 };
  const events: SigningEvent[] = [];
  let unparsed = 0;
  entries.forEach((body, i) => {
    try {
      events.push(deps.parseEntry(log.origin, start + BigInt(i), body));
    } catch (err) {
      // A verified entry we cannot read is logged and counted, not fatal: the log accepted it, and
      // stopping here would let anyone who logs an odd entry stall every monitor.
      if (!isMonitorError(err)) throw err;
      unparsed++;
      deps.logger.debug({ origin: log.origin, index: (start + BigInt(i)).toString(), err: err.message }, 'unparsed entry');
    }
  });
  return { events, unparsed };
}

// recordBadEntries stores the evidence that the log's bundle does not match its own verified
// tree, and marks the range failed: the cursor stops at it. The tailer retries failed ranges
// later (a corrupted cache may heal); the finding is recorded once.
async function recordBadEntries(deps: WorkerDeps, range: RangeRow, cp: VerifiedCheckpoint, reason: string): Promise<RangeResult> {
  const origin = cp.origin;
  const now = new Date(deps.clock.nowMs());
  const where = `entries [${range.start}, ${range.end}) (${formatEntriesPath({ index: range.start / 256n, width: 256 })} of size ${cp.size})`;
  const finding = badTreeFinding(origin, 'bad_entries', where, { source: 'verified checkpoint', note: cp.note }, reason, now);
  const n = await deps.db.transaction(async (tx) => {
    const inserted = await insertFindings(tx, [finding]);
    await tx.query(`UPDATE monitor_ranges SET state = 'failed' WHERE origin = $1 AND start_index = $2 AND state <> 'done'`, [origin, range.start]);
    return inserted;
  });
  deps.metrics.verificationFailures.inc({ origin, check: 'bad_entries' });
  if (n > 0) countFindings(deps.metrics, origin, ['log-misbehaviour']);
  deps.logger.error({ origin, start: range.start.toString(), reason }, 'entries do not match the verified tree');
  return { result: 'bad_entries', entries: 0, unparsed: 0, newFindings: n };
}

/** matchFinding turns one rule match on an event into its finding, keyed (log, index, rule). */
export function matchFinding(ev: SigningEvent, m: RuleMatch, now: Date): Finding {
  const ruleId = m.kind === 'unexpected-signer' ? `p:${m.policyId}` : `r:${m.ruleId}`;
  return {
    key: findingKey(ev.logOrigin, ev.index, ruleId),
    kind: m.kind,
    logOrigin: ev.logOrigin,
    index: ev.index,
    ruleId,
    subscriberId: m.subscriberId,
    summary: m.reason,
    details: { event: eventDetails(ev), value: m.value, reason: m.reason },
    observedAt: now,
  };
}

function eventDetails(ev: SigningEvent): Record<string, unknown> {
  return JSON.parse(JSON.stringify(ev, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
}
