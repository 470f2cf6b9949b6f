// The log's growth over time, read from log_checkpoints (schema.ts 0005: one row per signed
// checkpoint, its size and when it was signed), for the status page's entries-per-minute chart.
import type { Queryable } from '../platform/db.ts';

/** MAX_HISTORY_CHECKPOINTS bounds one read: the newest checkpoints only (the PK index, backwards). */
export const MAX_HISTORY_CHECKPOINTS = 10_000;

/** CheckpointPoint is one signed checkpoint: the tree size and when it was signed. */
export interface CheckpointPoint {
  size: bigint;
  at: Date;
}

/**
 * readCheckpointHistory returns the checkpoints signed at or after `since`, smallest first, plus
 * the newest one before `since` (the baseline the first minute grows from), reading at most
 * MAX_HISTORY_CHECKPOINTS rows. Sizes and times grow together: the sequencer signs in order.
 */
export async function readCheckpointHistory(q: Queryable, since: Date): Promise<CheckpointPoint[]> {
  const rows = await q.query<{ size: bigint; created_at: Date | string }>(
    'SELECT size, created_at FROM log_checkpoints ORDER BY size DESC LIMIT $1',
    [MAX_HISTORY_CHECKPOINTS],
  );
  const out: CheckpointPoint[] = [];
  for (const r of rows) {
    const point = { size: r.size, at: new Date(r.created_at) };
    out.push(point);
    if (point.at < since) break;
  }
  return out.reverse();
}

/** MinuteBucket is the number of entries the log integrated in the minute starting at `start`. */
export interface MinuteBucket {
  start: Date;
  entries: bigint;
}

/**
 * entriesPerMinute buckets the growth of `points` (smallest first) into the `minutes` whole
 * minutes that end with the one holding `now`: each checkpoint's growth over the previous one is
 * counted in the minute it was signed.
 */
export function entriesPerMinute(points: readonly CheckpointPoint[], now: Date, minutes: number): MinuteBucket[] {
  const lastStart = Math.floor(now.getTime() / 60_000) * 60_000;
  const firstStart = lastStart - (minutes - 1) * 60_000;
  const buckets: MinuteBucket[] = [];
  for (let i = 0; i < minutes; i++) buckets.push({ start: new Date(firstStart + i * 60_000), entries: 0n });
  for (let i = 1; i < points.length; i++) {
    const p = points[i]!;
    const slot = Math.floor((p.at.getTime() - firstStart) / 60_000);
    const grown = p.size - points[i - 1]!.size;
    if (slot >= 0 && slot < minutes && grown > 0n) buckets[slot]!.entries += grown;
  }
  return buckets;
}
