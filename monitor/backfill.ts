// Backfill: process a log's entries again from an index (or from a time), for example after new
// watch rules were added, or to cover the history below where a monitor started ("head"). Ranges
// from that index are set back to pending and enqueued; ranges below the first one the monitor
// recorded are added. Findings are keyed, so entries processed before add only what new rules find.
import type { Db, Queryable } from '../platform/db.ts';
import type { JobQueue } from '../platform/queue.ts';
import { MonitorError } from './errors.ts';
import { latestVerifiedCheckpoint, logProgress, rangeJobId, splitRanges, toRangeJob, type RangeJob } from './state.ts';

/** BackfillPlan is what startBackfill enqueued: entries [from, to) in `ranges` ranges. */
export interface BackfillPlan {
  origin: string;
  from: bigint;
  to: bigint;
  ranges: number;
}

/**
 * startBackfill sets every range of `origin` that ends after `from` back to pending, adds ranges
 * for [from, first recorded range), and enqueues them all. Throws 'not_verified' when the tailer
 * has not verified a checkpoint of the log yet.
 */
export async function startBackfill(
  db: Db,
  queue: JobQueue<RangeJob>,
  origin: string,
  from: bigint,
  opts: { entriesPerJob: number; now: Date },
): Promise<BackfillPlan> {
  const head = await latestVerifiedCheckpoint(db, origin);
  const progress = await logProgress(db, origin);
  if (head === undefined || progress === undefined) throw new MonitorError('not_verified', `no verified checkpoint of ${JSON.stringify(origin)} yet: run the tailer first`);
  const to = progress.nextIndex < head.size ? progress.nextIndex : head.size;
  const start = from < to ? from : to;
  const jobs = await db.transaction(async (tx) => {
    const low = await tx.query<{ low: bigint | null }>('SELECT min(start_index) AS low FROM monitor_ranges WHERE origin = $1', [origin]);
    const lowest = low[0]?.low ?? to;
    const added = start < lowest ? splitRanges(start, lowest, opts.entriesPerJob) : [];
    for (const r of added) {
      await tx.query(
        `INSERT INTO monitor_ranges (origin, start_index, end_index, checkpoint_size, state, enqueued_at) VALUES ($1, $2, $3, $4, 'pending', $5)
         ON CONFLICT (origin, start_index) DO NOTHING`,
        [origin, r.start, r.end, head.size, opts.now],
      );
    }
    return tx.query<{ start_index: bigint; end_index: bigint; checkpoint_size: bigint; requeues: number }>(
      `UPDATE monitor_ranges SET state = 'pending', enqueued_at = $3, requeues = requeues + 1
       WHERE origin = $1 AND end_index > $2 RETURNING start_index, end_index, checkpoint_size, requeues`,
      [origin, start, opts.now],
    );
  });
  await queue.add(
    jobs.map((r) => ({
      id: rangeJobId(origin, r.start_index, r.requeues),
      data: toRangeJob(origin, { start: r.start_index, end: r.end_index, checkpointSize: r.checkpoint_size }),
    })),
  );
  return { origin, from: start, to, ranges: jobs.length };
}

/** BackfillProgress is how many entries of [from, to) are processed. */
export interface BackfillProgress {
  done: bigint;
  total: bigint;
}

/** backfillProgress counts the processed entries of [from, to) by their ranges' state. */
export async function backfillProgress(db: Queryable, origin: string, from: bigint, to: bigint): Promise<BackfillProgress> {
  const rows = await db.query<{ remaining: bigint | null }>(
    `SELECT sum(LEAST(end_index, $3) - GREATEST(start_index, $2))::bigint AS remaining FROM monitor_ranges
     WHERE origin = $1 AND state <> 'done' AND end_index > $2 AND start_index < $3`,
    [origin, from, to],
  );
  const total = to > from ? to - from : 0n;
  const remaining = rows[0]?.remaining ?? 0n;
  return { done: total - remaining, total };
}

/**
 * indexAtTime maps a time to an index with the monitor's own record: the size of the last
 * checkpoint it verified at or before `t` (entries from there on were logged after it saw that
 * checkpoint). tlog-tiles entries carry no time, so before the monitor's first checkpoint it is 0.
 */
export async function indexAtTime(db: Queryable, origin: string, t: Date): Promise<bigint> {
  const rows = await db.query<{ size: bigint | null }>(
    'SELECT max(size) AS size FROM monitor_checkpoints WHERE origin = $1 AND verified_at <= $2',
    [origin, t],
  );
  return rows[0]?.size ?? 0n;
}
