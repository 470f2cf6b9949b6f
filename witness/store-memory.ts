// An in-memory WitnessStore for tests, tools and the embedded mode's throw-away witnesses. It is
// not durable across restarts: a production witness uses the PostgreSQL store.
import { MAX_UINT64 } from '../tlog/merkle.ts';
import { HASH_SIZE, equalBytes } from '../tlog/merkle.ts';
import { WitnessError } from './errors.ts';
import type { CosignedCheckpoint, WitnessStore, WitnessTreeState } from './store.ts';

/**
 * MemoryWitnessStore keeps each origin's latest cosigned checkpoint in a Map. compareAndSwap
 * compares and writes synchronously, within one turn of the event loop, so it is atomic against
 * every other call; results are copies, so callers cannot alter the stored state.
 */
export class MemoryWitnessStore implements WitnessStore {
  readonly #latest = new Map<string, CosignedCheckpoint>();

  /** getLatest implements WitnessStore. */
  async getLatest(origin: string): Promise<CosignedCheckpoint | undefined> {
    const c = this.#latest.get(origin);
    return c === undefined ? undefined : copy(c);
  }

  /**
   * compareAndSwap implements WitnessStore. It throws WitnessError 'internal_error' for a `next`
   * that no caller should write (size outside uint64, root not 32 bytes, empty note).
   */
  async compareAndSwap(origin: string, expectedOld: WitnessTreeState | undefined, next: CosignedCheckpoint): Promise<boolean> {
    checkState(next);
    const cur = this.#latest.get(origin);
    if (!sameTree(cur, expectedOld)) return false;
    this.#latest.set(origin, copy(next));
    return true;
  }

  /** origins lists the origins with a stored checkpoint, sorted (for tests and tools). */
  origins(): string[] {
    return [...this.#latest.keys()].sort();
  }
}

function sameTree(a: WitnessTreeState | undefined, b: WitnessTreeState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.size === b.size && equalBytes(a.root, b.root);
}

function copy(c: CosignedCheckpoint): CosignedCheckpoint {
  return { size: c.size, root: c.root.slice(), note: c.note };
}

function checkState(c: CosignedCheckpoint): void {
  if (typeof c.size !== 'bigint' || c.size < 0n || c.size > MAX_UINT64 || c.root.length !== HASH_SIZE || c.note === '') {
    throw new WitnessError('internal_error', 'witness store was asked to store an invalid checkpoint state');
  }
}
