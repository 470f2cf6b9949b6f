// The WitnessStore over SQL (platform/db.ts): PostgreSQL in production, PGlite in the data folder
// for the embedded default. Each operation is one autocommitted statement, so a call that resolves
// has committed, and the compare-and-swap is a single conditional UPDATE (or INSERT for the first
// contact) that PostgreSQL applies atomically per row.
import type { Db } from '../platform/db.ts';
import { HASH_SIZE, MAX_UINT64 } from '../tlog/merkle.ts';
import { WitnessError } from './errors.ts';
import type { CosignedCheckpoint, WitnessStore, WitnessTreeState } from './store.ts';

interface CheckpointRow {
  size: string;
  root: Uint8Array;
  note: string;
}

/**
 * PgWitnessStore implements WitnessStore on the witness_checkpoints table (witness/schema.ts,
 * migrated by the caller) for the witness named `witness`; rows of other witnesses in the same
 * database are never read or written.
 *
 * compareAndSwap from "no state" is `INSERT ... ON CONFLICT DO NOTHING`; from a state it is
 * `UPDATE ... WHERE witness AND origin AND size AND root`. Under READ COMMITTED, a second UPDATE
 * racing the first waits for it to commit and then re-evaluates its WHERE against the new row,
 * which no longer matches: of two swaps from one state exactly one affects a row. Success is one
 * row RETURNED. A statement that rejects (connection lost around COMMIT) leaves the outcome
 * unknown, as the WitnessStore contract allows; the caller releases nothing.
 */
export class PgWitnessStore implements WitnessStore {
  readonly #db: Db;
  readonly #witness: string;

  constructor(db: Db, witness: string) {
    if (witness === '') throw new WitnessError('invalid_config', 'a witness store needs the witness name');
    this.#db = db;
    this.#witness = witness;
  }

  /** getLatest implements WitnessStore. */
  async getLatest(origin: string): Promise<CosignedCheckpoint | undefined> {
    const rows = await this.#db.query<CheckpointRow>(
      'SELECT size, root, note FROM witness_checkpoints WHERE witness = $1 AND origin = $2',
      [this.#witness, origin],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return { size: BigInt(row.size), root: new Uint8Array(row.root), note: row.note };
  }

  /**
   * compareAndSwap implements WitnessStore. It throws WitnessError 'internal_error' for a `next`
   * that no caller should write (size outside uint64, root not 32 bytes, empty note), before
   * touching the database.
   */
  async compareAndSwap(origin: string, expectedOld: WitnessTreeState | undefined, next: CosignedCheckpoint): Promise<boolean> {
    checkState(next);
    const size = next.size.toString();
    if (expectedOld === undefined) {
      const rows = await this.#db.query(
        `INSERT INTO witness_checkpoints (witness, origin, size, root, note) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (witness, origin) DO NOTHING RETURNING 1 AS ok`,
        [this.#witness, origin, size, next.root, next.note],
      );
      return rows.length === 1;
    }
    const rows = await this.#db.query(
      `UPDATE witness_checkpoints SET size = $5, root = $6, note = $7, updated_at = now()
       WHERE witness = $1 AND origin = $2 AND size = $3 AND root = $4 RETURNING 1 AS ok`,
      [this.#witness, origin, expectedOld.size.toString(), expectedOld.root, size, next.root, next.note],
    );
    return rows.length === 1;
  }

  /** origins lists the origins this witness holds a checkpoint for, sorted (tools and tests). */
  async origins(): Promise<string[]> {
    const rows = await this.#db.query<{ origin: string }>(
      'SELECT origin FROM witness_checkpoints WHERE witness = $1 ORDER BY origin COLLATE "C"',
      [this.#witness],
    );
    return rows.map((r) => r.origin);
  }
}

function checkState(c: CosignedCheckpoint): void {
  if (typeof c.size !== 'bigint' || c.size < 0n || c.size > MAX_UINT64 || c.root.length !== HASH_SIZE || c.note === '') {
    throw new WitnessError('internal_error', 'witness store was asked to store an invalid checkpoint state');
  }
}
