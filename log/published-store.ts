// SQL access to the publisher's tables (schema.ts 0007, 0008): the published checkpoint and the
// per-witness size hints. Shapes only; the publisher verifies what it writes and what it serves.
import type { Queryable } from '../platform/db.ts';

/** PublishedCheckpoint is the checkpoint served at /checkpoint. */
export interface PublishedCheckpoint {
  readonly size: bigint;
  /** note is the log's signed checkpoint followed by the witnesses' cosignature lines. */
  readonly note: string;
  /** quorumMet is false only for a checkpoint published fail-open (or the unpublished size-0 one). */
  readonly quorumMet: boolean;
  /** cosigners is the number of verified witness cosignatures the note carries. */
  readonly cosigners: number;
}

interface PublishedRow {
  size: bigint;
  note: string;
  quorum_met: boolean;
  cosigners: number;
}

/** readPublished returns the log_published row, or undefined before the first publication. */
export async function readPublished(q: Queryable): Promise<PublishedCheckpoint | undefined> {
  const [r] = await q.query<PublishedRow>('SELECT size, note, quorum_met, cosigners FROM log_published');
  return r === undefined ? undefined : { size: r.size, note: r.note, quorumMet: r.quorum_met, cosigners: r.cosigners };
}

/**
 * writePublished publishes `p` unless that would take the published checkpoint back: it replaces
 * the row only with a larger size, or with the same size and a better cosigning (quorum met where
 * it was not, or more cosigners). Returns whether it wrote. Atomic: one statement.
 */
export async function writePublished(q: Queryable, p: PublishedCheckpoint, at: Date): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO log_published (singleton, size, note, quorum_met, cosigners, published_at) VALUES (true, $1, $2, $3, $4, $5)
     ON CONFLICT (singleton) DO UPDATE SET
       size = EXCLUDED.size, note = EXCLUDED.note, quorum_met = EXCLUDED.quorum_met,
       cosigners = EXCLUDED.cosigners, published_at = EXCLUDED.published_at
     WHERE log_published.size < EXCLUDED.size
        OR (log_published.size = EXCLUDED.size
            AND (EXCLUDED.quorum_met, EXCLUDED.cosigners) > (log_published.quorum_met, log_published.cosigners))
     RETURNING size`,
    [p.size, p.note, p.quorumMet, p.cosigners, at],
  );
  return rows.length === 1;
}

/** readFirstCheckpoint returns the note of the smallest signed checkpoint (size 0 after initLog). */
export async function readFirstCheckpoint(q: Queryable): Promise<{ size: bigint; note: string } | undefined> {
  const [r] = await q.query<{ size: bigint; note: string }>('SELECT size, note FROM log_checkpoints ORDER BY size LIMIT 1');
  return r;
}

/** readWitnessSizes returns the size hint of every witness that has one, by witness key. */
export async function readWitnessSizes(q: Queryable): Promise<Map<string, bigint>> {
  const rows = await q.query<{ witness_key: string; size: bigint }>('SELECT witness_key, size FROM log_witness_sizes');
  return new Map(rows.map((r) => [r.witness_key, r.size]));
}

/** writeWitnessSize records the size a witness last cosigned or named in a 409. */
export async function writeWitnessSize(q: Queryable, witnessKey: string, size: bigint, at: Date): Promise<void> {
  await q.query(
    `INSERT INTO log_witness_sizes (witness_key, size, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (witness_key) DO UPDATE SET size = EXCLUDED.size, updated_at = EXCLUDED.updated_at`,
    [witnessKey, size, at],
  );
}
