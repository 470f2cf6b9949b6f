// A process's view of the published checkpoint (log_published): read from the database at most
// once per cacheMs, replaced at once by this process's own publications, and never smaller than
// what it served before. Every process that serves GET /checkpoint holds one (inside its Publisher).
import type { Clock } from '../platform/clock.ts';
import type { Queryable } from '../platform/db.ts';
import { LogError } from './errors.ts';
import { readFirstCheckpoint, readPublished, writePublished, type PublishedCheckpoint } from './published-store.ts';

/**
 * PublishedView caches the published checkpoint. Concurrency: any number of readers; offer is
 * called by one publisher at a time (the database's guard keeps it safe across processes anyway).
 */
export class PublishedView {
  readonly #db: Queryable;
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #onChange: (p: PublishedCheckpoint) => void;
  #current: PublishedCheckpoint | undefined;
  #readAtMs = -Infinity;

  /** onChange sees every checkpoint the view starts serving (the published-size gauge). */
  constructor(db: Queryable, clock: Clock, cacheMs: number, onChange: (p: PublishedCheckpoint) => void) {
    this.#db = db;
    this.#clock = clock;
    this.#cacheMs = cacheMs;
    this.#onChange = onChange;
  }

  /**
   * get returns the published checkpoint; before the first publication, the log's size-0
   * checkpoint (true, vouching for no entry) with quorumMet false. 'log_missing' if there is none.
   */
  async get(): Promise<PublishedCheckpoint> {
    const now = this.#clock.nowMs();
    if (this.#current !== undefined && now - this.#readAtMs < this.#cacheMs) return this.#current;
    const stored = (await readPublished(this.#db)) ?? (await this.#unpublished());
    // Served sizes never go back, even if the database were restored from an older backup.
    if (this.#current === undefined || stored.size >= this.#current.size) this.#set(stored);
    this.#readAtMs = now;
    return this.#current!;
  }

  /**
   * offer publishes `next` if it improves on the published checkpoint (isImprovement) and returns
   * whether it did. It loses, and reads the row again next time, when another process published
   * something at least as good meanwhile.
   */
  async offer(next: PublishedCheckpoint): Promise<boolean> {
    if (!isImprovement(next, await this.get())) return false;
    if (!(await writePublished(this.#db, next, new Date(this.#clock.nowMs())))) {
      this.#readAtMs = -Infinity;
      return false;
    }
    this.#set(next);
    this.#readAtMs = this.#clock.nowMs();
    return true;
  }

  async #unpublished(): Promise<PublishedCheckpoint> {
    const first = await readFirstCheckpoint(this.#db);
    if (first === undefined) throw new LogError('log_missing', 'the log has no signed checkpoint');
    return { size: first.size, note: first.note, quorumMet: false, cosigners: 0 };
  }

  #set(p: PublishedCheckpoint): void {
    this.#current = p;
    this.#onChange(p);
  }
}

/**
 * isImprovement mirrors writePublished's guard: a larger size, or the same size better cosigned
 * (quorum met where it was not, else more cosigners).
 */
export function isImprovement(next: PublishedCheckpoint, current: PublishedCheckpoint): boolean {
  if (next.size !== current.size) return next.size > current.size;
  if (next.quorumMet !== current.quorumMet) return next.quorumMet;
  return next.cosigners > current.cosigners;
}
