// The WitnessStore over SQL (platform/db.ts): PostgreSQL in production, PGlite in the data folder
// for the embedded default. Each operation is one autocommitted statement, so a call that resolves
// has committed. Compare-and-swaps are group-committed: those that arrive while one statement is in
// flight are sent together as the next statement, one round trip and one commit (one WAL flush)
// for the whole batch, a conditional UPDATE per row that PostgreSQL applies atomically.
import type { Db } from '../platform/db.ts';
import { HASH_SIZE, MAX_UINT64 } from '../tlog/merkle.ts';
import { WitnessError } from './errors.ts';
import type { CosignedCheckpoint, WitnessStore, WitnessTreeState } from './store.ts';

/**
 * MAX_BATCH_SWAPS bounds the compare-and-swaps sent in one statement. At 2,000 requests/s and a
 * ~1 ms statement a batch holds a few swaps; the bound only caps the statement under a burst.
 */
export const MAX_BATCH_SWAPS = 256;

// One statement for a batch of swaps, all atomic per row under READ COMMITTED:
// - `input` is the batch, one row per origin (never two for one origin), passed as one JSON
//   parameter so that the same SQL runs on pg and PGlite; roots travel as hex.
// - `updated` swaps from a state: the WHERE compares the stored size and root with the expected
//   ones. A row that another transaction updates concurrently is re-checked against its new
//   version (EvalPlanQual), which no longer matches: of two swaps from one state one wins.
// - `inserted` is the first contact: ON CONFLICT DO NOTHING, so of two first contacts one wins.
// The origins returned are the swaps that won; the others found a different state.
const BATCH_SWAP_SQL = `WITH input AS (
    SELECT t.origin, t.old_size, decode(t.old_root, 'hex') AS old_root, t.size, decode(t.root, 'hex') AS root, t.note
    FROM json_to_recordset($2::json) AS t(origin text, old_size text, old_root text, size text, root text, note text)
  ), updated AS (
    UPDATE witness_checkpoints w SET size = i.size, root = i.root, note = i.note, updated_at = now()
    FROM input i
    WHERE i.old_size IS NOT NULL AND w.witness = $1 AND w.origin = i.origin AND w.size = i.old_size AND w.root = i.old_root
    RETURNING w.origin
  ), inserted AS (
    INSERT INTO witness_checkpoints (witness, origin, size, root, note)
    SELECT $1, i.origin, i.size, i.root, i.note FROM input i WHERE i.old_size IS NULL
    ON CONFLICT (witness, origin) DO NOTHING
    RETURNING origin
  )
  SELECT origin FROM updated UNION ALL SELECT origin FROM inserted`;

/** SwapRow is one swap as the statement reads it; null old_* is "no state yet". */
interface SwapRow {
  origin: string;
  old_size: string | null;
  old_root: string | null;
  size: string;
  root: string;
  note: string;
}

interface PendingSwap {
  readonly row: SwapRow;
  readonly resolve: (won: boolean) => void;
  readonly reject: (err: unknown) => void;
}

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
 * which no longer matches: of two swaps from one state exactly one affects a row. Success is the
 * origin RETURNED.
 *
 * Group commit: at most one swap statement is in flight per store. Swaps that arrive meanwhile
 * (on PGlite: also those of the same event-loop turn) queue, and the next statement carries up to MAX_BATCH_SWAPS of them, in arrival order, at most
 * one per origin (a second swap of an origin waits for the next statement, so swaps of one origin
 * apply in the order they were called). Every swap of a batch resolves once its statement has
 * committed. A statement that rejects (connection lost around COMMIT) rejects every swap of its
 * batch: their outcome is unknown, as the WitnessStore contract allows; callers release nothing.
 */
export class PgWitnessStore implements WitnessStore {
  readonly #db: Db;
  readonly #witness: string;
  #queue: PendingSwap[] = [];
  #swapping = false;

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
    // Encoded now: the caller may reuse its arrays once the call returns.
    const row: SwapRow = {
      origin,
      old_size: expectedOld === undefined ? null : expectedOld.size.toString(),
      old_root: expectedOld === undefined ? null : Buffer.from(expectedOld.root).toString('hex'),
      size: next.size.toString(),
      root: Buffer.from(next.root).toString('hex'),
      note: next.note,
    };
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ row, resolve, reject });
      if (this.#swapping) return;
      this.#swapping = true;
      // On PostgreSQL the round trip of one statement is the window in which the next batch
      // gathers. PGlite runs a statement within the turn that sends it, so nothing would ever
      // queue behind it: there, wait for the end of this event-loop turn, and every swap of the
      // requests read in the same turn goes in the first statement.
      if (this.#db.kind === 'pglite') setImmediate(() => this.#sendBatches());
      else this.#sendBatches();
    });
  }

  /** #sendBatches sends queued swaps, one statement at a time, until the queue is empty. */
  #sendBatches(): void {
    const batch = this.#takeBatch();
    if (batch.length === 0) {
      this.#swapping = false;
      return;
    }
    const rows = batch.map((p) => p.row);
    this.#db.query<{ origin: string }>(BATCH_SWAP_SQL, [this.#witness, JSON.stringify(rows)]).then(
      (won) => {
        const winners = new Set(won.map((r) => r.origin));
        for (const p of batch) p.resolve(winners.has(p.row.origin));
      },
      // If the connection dropped around COMMIT, any of these swaps may have committed.
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    ).finally(() => this.#sendBatches());
  }

  /** #takeBatch removes up to MAX_BATCH_SWAPS queued swaps, the first of each origin, in order. */
  #takeBatch(): PendingSwap[] {
    const batch: PendingSwap[] = [];
    const origins = new Set<string>();
    const rest: PendingSwap[] = [];
    for (const p of this.#queue) {
      if (batch.length < MAX_BATCH_SWAPS && !origins.has(p.row.origin)) {
        origins.add(p.row.origin);
        batch.push(p);
      } else {
        rest.push(p);
      }
    }
    this.#queue = rest;
    return batch;
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
