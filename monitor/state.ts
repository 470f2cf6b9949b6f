// The monitor's durable state in SQL (tables in monitor/schema.ts): verified checkpoints, each
// log's progress and its ranges. The tailer writes checkpoints and ranges in one transaction,
// fenced by its leader token; workers mark ranges done in the transaction that commits the
// range's findings and index rows.
import type { Queryable } from '../platform/db.ts';
import { MonitorError } from './errors.ts';

/** VerifiedCheckpoint is a checkpoint the tailer verified: signature, quorum and consistency. */
export interface VerifiedCheckpoint {
  origin: string;
  size: bigint;
  root: Uint8Array;
  /** note is the signed note exactly as fetched (evidence, and what a researcher re-verifies). */
  note: string;
  verifiedAt: Date;
}

/** RangeJob is a range job's data: entries [start, end) verified against the checkpoint of `size`. Decimal strings. */
export interface RangeJob {
  origin: string;
  start: string;
  end: string;
  size: string;
}

/** RangeRow is one row of monitor_ranges. */
export interface RangeRow {
  start: bigint;
  end: bigint;
  checkpointSize: bigint;
  state: 'pending' | 'done' | 'failed';
  requeues: number;
}

interface CheckpointRow {
  origin: string;
  size: bigint;
  root: Uint8Array;
  note: string;
  verified_at: Date;
}

const toCheckpoint = (r: CheckpointRow): VerifiedCheckpoint => ({
  origin: r.origin,
  size: r.size,
  root: r.root,
  note: r.note,
  verifiedAt: r.verified_at,
});

/** latestVerifiedCheckpoint returns the largest checkpoint of `origin` the tailer verified, if any. */
export async function latestVerifiedCheckpoint(db: Queryable, origin: string): Promise<VerifiedCheckpoint | undefined> {
  const rows = await db.query<CheckpointRow>(
    'SELECT origin, size, root, note, verified_at FROM monitor_checkpoints WHERE origin = $1 ORDER BY size DESC LIMIT 1',
    [origin],
  );
  return rows[0] && toCheckpoint(rows[0]);
}

/** verifiedCheckpointAt returns the verified checkpoint of one size; 'not_verified' if there is none. */
export async function verifiedCheckpointAt(db: Queryable, origin: string, size: bigint): Promise<VerifiedCheckpoint> {
  const rows = await db.query<CheckpointRow>(
    'SELECT origin, size, root, note, verified_at FROM monitor_checkpoints WHERE origin = $1 AND size = $2',
    [origin, size],
  );
  if (!rows[0]) throw new MonitorError('not_verified', `no verified checkpoint of size ${size} for ${JSON.stringify(origin)}`);
  return toCheckpoint(rows[0]);
}

/** LogProgress is a log's row of monitor_logs. */
export interface LogProgress {
  nextIndex: bigint;
  fence: bigint;
  lastVerifiedAt: Date;
}

/** logProgress reads a log's progress; undefined before its first verified checkpoint. */
export async function logProgress(db: Queryable, origin: string, forUpdate = false): Promise<LogProgress | undefined> {
  const rows = await db.query<{ next_index: bigint; fence: bigint; last_verified_at: Date }>(
    `SELECT next_index, fence, last_verified_at FROM monitor_logs WHERE origin = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [origin],
  );
  const r = rows[0];
  return r && { nextIndex: r.next_index, fence: r.fence, lastVerifiedAt: r.last_verified_at };
}

/**
 * monitorCursor is how far a log is processed: every entry below it is verified, indexed and
 * matched, its findings committed. It is the start of the first range not done, else next_index.
 */
export async function monitorCursor(db: Queryable, origin: string): Promise<bigint | undefined> {
  const rows = await db.query<{ cursor: bigint | null }>(
    `SELECT COALESCE(
       (SELECT min(start_index) FROM monitor_ranges WHERE origin = $1 AND state <> 'done'),
       (SELECT next_index FROM monitor_logs WHERE origin = $1)) AS cursor`,
    [origin],
  );
  return rows[0]?.cursor ?? undefined;
}

/** rangeAt reads one range by its start. */
export async function rangeAt(db: Queryable, origin: string, start: bigint, forUpdate = false): Promise<RangeRow | undefined> {
  const rows = await db.query<{ end_index: bigint; checkpoint_size: bigint; state: RangeRow['state']; requeues: number }>(
    `SELECT end_index, checkpoint_size, state, requeues FROM monitor_ranges WHERE origin = $1 AND start_index = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [origin, start],
  );
  const r = rows[0];
  return r && { start, end: r.end_index, checkpointSize: r.checkpoint_size, state: r.state, requeues: r.requeues };
}

/** rangeJobId names a range's job; `requeues` makes a requeued job a new job. No ':' (BullMQ). */
export function rangeJobId(origin: string, start: bigint, requeues: number): string {
  return `range-${Buffer.from(origin).toString('base64url')}-${start}-${requeues}`;
}

/** toRangeJob is a range's job data. */
export function toRangeJob(origin: string, r: Pick<RangeRow, 'start' | 'end' | 'checkpointSize'>): RangeJob {
  return { origin, start: r.start.toString(), end: r.end.toString(), size: r.checkpointSize.toString() };
}

/**
 * claimStaleRanges returns the ranges of `origin` that are not done and were enqueued before
 * `before`, after moving their enqueued_at to `now` and counting a requeue, so that the caller
 * enqueues each again under a new job id. At most `limit` ranges, lowest first.
 */
export async function claimStaleRanges(db: Queryable, origin: string, before: Date, now: Date, limit: number): Promise<RangeRow[]> {
  const rows = await db.query<{ start_index: bigint; end_index: bigint; checkpoint_size: bigint; state: RangeRow['state']; requeues: number }>(
    `UPDATE monitor_ranges SET enqueued_at = $3, requeues = requeues + 1
     WHERE origin = $1 AND start_index IN (
       SELECT start_index FROM monitor_ranges WHERE origin = $1 AND state <> 'done' AND enqueued_at < $2
       ORDER BY start_index LIMIT $4)
     RETURNING start_index, end_index, checkpoint_size, state, requeues`,
    [origin, before, now, limit],
  );
  return rows
    .map((r) => ({ start: r.start_index, end: r.end_index, checkpointSize: r.checkpoint_size, state: r.state, requeues: r.requeues }))
    .sort((a, b) => (a.start < b.start ? -1 : 1));
}

/** splitRanges cuts [from, to) into ranges that end on multiples of `perJob` (bundle-aligned). */
export function splitRanges(from: bigint, to: bigint, perJob: number): { start: bigint; end: bigint }[] {
  const out: { start: bigint; end: bigint }[] = [];
  const step = BigInt(perJob);
  for (let s = from; s < to; ) {
    const e = (s / step + 1n) * step;
    out.push({ start: s, end: e < to ? e : to });
    s = e;
  }
  return out;
}

// MAX_RANGES_PER_INSERT bounds one multi-row INSERT (5 parameters a row).
const MAX_RANGES_PER_INSERT = 500;

/** insertRanges records new pending ranges verified against the checkpoint of `size` (existing starts are kept). */
export async function insertRanges(tx: Queryable, origin: string, size: bigint, ranges: { start: bigint; end: bigint }[], now: Date): Promise<void> {
  for (let i = 0; i < ranges.length; i += MAX_RANGES_PER_INSERT) {
    const chunk = ranges.slice(i, i + MAX_RANGES_PER_INSERT);
    const params: (string | bigint | Date)[] = [];
    const values = chunk.map((r, j) => {
      params.push(origin, r.start, r.end, size, now);
      const b = j * 5;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, 'pending', $${b + 5})`;
    });
    await tx.query(
      `INSERT INTO monitor_ranges (origin, start_index, end_index, checkpoint_size, state, enqueued_at) VALUES ${values.join(', ')}
       ON CONFLICT (origin, start_index) DO NOTHING`,
      params,
    );
  }
}
