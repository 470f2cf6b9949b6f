// A read-through cache in front of a durable WitnessStore, so that an add-checkpoint costs one
// database round trip (the compare-and-swap) instead of two. The cache is only an optimisation:
// every write is still a compare-and-swap in the database, which stays the only judge, so a stale
// cache can cost a retry or a spurious 409 but can never let two inconsistent checkpoints through.
import type { CosignedCheckpoint, WitnessStore, WitnessTreeState } from './store.ts';

/**
 * CachedWitnessStore keeps the latest state per origin in memory, filled by reads and by
 * successful swaps, and dropped after a failed swap (someone else moved the state).
 *
 * It assumes this process is the only writer for its witness identity (one process per witness,
 * as operators run it). If another process writes the same rows, this one answers from a stale
 * state until its next swap fails, then re-reads: safety holds because the database compares.
 * Races inside the process are handled with a per-origin generation: a read that started before
 * a swap began or ended does not fill the cache with what it read.
 */
export class CachedWitnessStore implements WitnessStore {
  readonly #inner: WitnessStore;
  readonly #latest = new Map<string, CosignedCheckpoint>();
  readonly #generation = new Map<string, number>();

  constructor(inner: WitnessStore) {
    this.#inner = inner;
  }

  /** getLatest implements WitnessStore, from memory when it can. */
  async getLatest(origin: string): Promise<CosignedCheckpoint | undefined> {
    const hit = this.#latest.get(origin);
    if (hit !== undefined) return copy(hit);
    const gen = this.#generation.get(origin) ?? 0;
    const read = await this.#inner.getLatest(origin);
    // Cache only if no swap started or finished meanwhile; "no state" is not cached, so the
    // first contact always reads the database.
    if (read !== undefined && (this.#generation.get(origin) ?? 0) === gen) this.#latest.set(origin, copy(read));
    return read;
  }

  /** compareAndSwap implements WitnessStore: the inner store decides; the cache follows. */
  async compareAndSwap(origin: string, expectedOld: WitnessTreeState | undefined, next: CosignedCheckpoint): Promise<boolean> {
    this.#bump(origin);
    let ok = false;
    try {
      ok = await this.#inner.compareAndSwap(origin, expectedOld, next);
      return ok;
    } finally {
      this.#bump(origin);
      // A success sets the state it committed, unless a later swap (necessarily of a size at least
      // as large: committed states only grow) resolved first. A failure or an unknown outcome drops
      // the entry: the next read asks the database.
      const cur = this.#latest.get(origin);
      if (!ok) this.#latest.delete(origin);
      else if (cur === undefined || cur.size <= next.size) this.#latest.set(origin, copy(next));
    }
  }

  #bump(origin: string): void {
    this.#generation.set(origin, (this.#generation.get(origin) ?? 0) + 1);
  }
}

function copy(c: CosignedCheckpoint): CosignedCheckpoint {
  return { size: c.size, root: c.root.slice(), note: c.note };
}
