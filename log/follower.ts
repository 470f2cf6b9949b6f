// Taking entries in a process that does not sequence: the entry goes to log_pending, where the
// sequencer (another process) picks it up in its next batch, and this process polls log_entries,
// with backoff, until it appears. One query per poll answers every waiting entry.
import type { Db } from '../platform/db.ts';
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import type { Hash } from '../tlog/merkle.ts';
import { leafKey, type AddEntryResult } from './pool.ts';
import { proveEntry, type ReadDeps } from './read.ts';
import { LogError } from './errors.ts';
import { findEntries, insertPending, type EntryRef } from './store.ts';

/** FollowerConfig tunes how a non-sequencing process waits for its entries. */
export interface FollowerConfig {
  /** pendingPollMinMs is the first delay, in ms, between polls for integrated entries (25). */
  pendingPollMinMs: number;
  /** pendingPollMaxMs caps the doubling delay between polls, in ms (1000). */
  pendingPollMaxMs: number;
  /** pendingTimeoutMs is how long, in ms, an entry may wait before 'pending_timeout' (30,000). */
  pendingTimeoutMs: number;
}

interface FollowerWaiter {
  leafHash: Hash;
  deadlineMs: number;
  resolve(r: AddEntryResult): void;
  reject(err: unknown): void;
}

/**
 * PendingSubmitter queues entries for another process's sequencer and waits for them. An entry is
 * acknowledged only once it is in log_entries (so committed, with a checkpoint covering it); a
 * timeout does not withdraw it from log_pending, so it may still be logged later (a retry then finds
 * it as a duplicate).
 */
export class PendingSubmitter {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #config: FollowerConfig;
  readonly #read: ReadDeps;
  readonly #waiting = new Map<string, FollowerWaiter[]>();
  #delayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(config: FollowerConfig, deps: { db: Db; clock: Clock; logger: Logger; read: ReadDeps }) {
    this.#config = config;
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#read = deps.read;
    this.#delayMs = config.pendingPollMinMs;
  }

  /** waiting is the number of distinct entries this process waits for. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** submit queues an entry (or finds it logged already) and resolves once it is integrated. */
  async submit(leafHash: Hash, body: Uint8Array): Promise<AddEntryResult> {
    const [existing] = await findEntries(this.#db, [leafHash]);
    if (existing !== undefined) return this.#result(existing, true);
    await insertPending(this.#db, { leafHash, body }, new Date(this.#clock.nowMs()));
    return new Promise<AddEntryResult>((resolve, reject) => {
      const key = leafKey(leafHash);
      const list = this.#waiting.get(key) ?? [];
      list.push({ leafHash, deadlineMs: this.#clock.nowMs() + this.#config.pendingTimeoutMs, resolve, reject });
      this.#waiting.set(key, list);
      this.#delayMs = this.#config.pendingPollMinMs; // new work: poll soon
      this.#schedule();
    });
  }

  /** poll checks now which waiting entries were integrated, answers them, and expires late ones. */
  poll(): Promise<void> {
    this.#polling ??= this.#pollOnce().finally(() => {
      this.#polling = undefined;
      this.#schedule();
    });
    return this.#polling;
  }

  /** close rejects every waiter ('closed') and stops polling. */
  close(err: unknown = new LogError('closed', 'the log is shutting down')): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const lists = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const list of lists) for (const w of list) w.reject(err);
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#polling !== undefined || this.#waiting.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.poll();
    }, this.#delayMs).unref();
  }

  async #pollOnce(): Promise<void> {
    const waiting = [...this.#waiting.values()];
    if (waiting.length === 0) return;
    let found: EntryRef[];
    try {
      found = await findEntries(this.#db, waiting.map((list) => list[0]!.leafHash));
    } catch (err) {
      this.#logger.warn({ err }, 'could not poll for integrated entries; will retry');
      return;
    }
    this.#delayMs = found.length > 0 ? this.#config.pendingPollMinMs : Math.min(this.#delayMs * 2, this.#config.pendingPollMaxMs);
    if (found.length > 0) {
      // One checkpoint for the whole poll, read after the entries, so it covers all of them.
      const read = await this.#readAtLatest().catch(() => this.#read);
      for (const ref of found) {
        const key = leafKey(ref.leafHash);
        const list = this.#waiting.get(key) ?? [];
        this.#waiting.delete(key);
        list.forEach((w, n) => this.#result(ref, n > 0, read).then(w.resolve, w.reject));
      }
    }
    this.#expire();
  }

  async #readAtLatest(): Promise<ReadDeps> {
    const latest = await this.#read.latest();
    return { ...this.#read, latest: async () => latest };
  }

  #expire(): void {
    const now = this.#clock.nowMs();
    for (const [key, list] of this.#waiting) {
      const late = list.filter((w) => w.deadlineMs <= now);
      if (late.length === 0) continue;
      const rest = list.filter((w) => w.deadlineMs > now);
      if (rest.length === 0) this.#waiting.delete(key);
      else this.#waiting.set(key, rest);
      const err = new LogError('pending_timeout', 'the sequencer did not integrate the entry in time; it may still be logged: retry');
      for (const w of late) w.reject(err);
    }
  }

  async #result(ref: EntryRef, duplicate: boolean, read = this.#read): Promise<AddEntryResult> {
    const proof = await proveEntry(read, ref.index);
    return { index: ref.index, leafHash: ref.leafHash, integratedTime: ref.integratedTime, ...proof, duplicate };
  }
}
