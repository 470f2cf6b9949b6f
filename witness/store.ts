// The witness's durable state: for each log origin, the latest checkpoint it cosigned. This is the
// only state a witness needs (c2sp.org/tlog-witness, Introduction), and the one it must never lose
// or roll back: a rollback would let it cosign a second, inconsistent history.
import type { Hash } from '../tlog/merkle.ts';

/** WitnessTreeState is the tree a witness last cosigned for an origin: its size and root hash. */
export interface WitnessTreeState {
  /** size is the tree size, a uint64 (stored as decimal text in SQL). */
  readonly size: bigint;
  /** root is the 32-byte Merkle tree root (stored as bytes in SQL). */
  readonly root: Hash;
}

/**
 * CosignedCheckpoint is a WitnessTreeState with the full signed checkpoint note the witness
 * cosigned: the checkpoint text, the log signatures that verified, and the witness's own
 * cosignature line(s). It is what the monitoring endpoint serves.
 */
export interface CosignedCheckpoint extends WitnessTreeState {
  readonly note: string;
}

/**
 * WitnessStore persists the latest cosigned checkpoint of each origin. One store holds the state
 * of ONE witness identity: a database shared by several witnesses scopes its rows per witness
 * (Sunlight keys its lock backend by the witness's public key and the origin).
 *
 * Contract:
 * - Durability: a call that resolves has committed (compareAndSwap → true) or observed (getLatest)
 *   durable state; the witness replies to its client only after compareAndSwap resolved true. A
 *   call that rejects leaves the state unknown (committed or not): the caller answers 500 and
 *   releases nothing, and the next request re-reads the state.
 * - Concurrency: operations are linearizable per origin. compareAndSwap is atomic: it compares
 *   the stored (size, root) with `expectedOld` and writes `next` in one step, so of two racing
 *   swaps from the same state at most one succeeds (tlog-witness add-checkpoint: checking the old
 *   size and persisting must be atomic). Only size and root are compared, not the note, so
 *   re-cosigning the same tree (a fresh timestamp) never makes a concurrent append fail.
 * - Retries: the store never retries a failed comparison; compareAndSwap answers false and the
 *   caller (processAddCheckpoint) re-reads and decides again. Transient I/O errors are the
 *   store's own business to retry only if it knows the outcome; otherwise it rejects.
 * - Validation: the store trusts its caller to swap only consistent checkpoints; it does not
 *   verify signatures or proofs. It must return what was written, byte for byte.
 *
 * SQL mapping (store-pg.ts): one row per origin, `size` as canonical decimal text (compare as
 * text: both sides are canonical), `root` as bytea, `note` as text. `expectedOld` undefined is
 * `INSERT ... ON CONFLICT (origin) DO NOTHING`; otherwise `UPDATE ... WHERE origin = $1 AND
 * size = $2 AND root = $3`; success is one affected row.
 */
export interface WitnessStore {
  /** getLatest returns the latest cosigned checkpoint of an origin, or undefined if none. */
  getLatest(origin: string): Promise<CosignedCheckpoint | undefined>;

  /**
   * compareAndSwap replaces the state of `origin` with `next` if and only if the stored state is
   * `expectedOld` (same size and root; undefined = no state yet). It resolves true once `next` is
   * durable, false if the stored state differs (nothing written), and rejects if the outcome is
   * unknown.
   */
  compareAndSwap(origin: string, expectedOld: WitnessTreeState | undefined, next: CosignedCheckpoint): Promise<boolean>;
}
