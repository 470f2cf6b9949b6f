// The sequencer's in-memory pool: entries waiting for the next batch, deduplicated by leaf hash, and
// the entries of the batch being integrated (so that a twin arriving meanwhile waits for it, as in
// sunlight's inSequencing map). Bounded by entries and bytes; beyond that, 'overloaded'.
import type { Hash } from '../tlog/merkle.ts';
import { LogError } from './errors.ts';

/**
 * AddEntryResult is what addEntry resolves to once the entry's batch has committed: where the entry
 * is, when it was integrated, and its inclusion proof against the signed checkpoint of `size`.
 * `duplicate` is true when the entry was already in the log (or submitted twice), in which case
 * index and integratedTime are those of the existing entry.
 */
export interface AddEntryResult {
  index: bigint;
  leafHash: Hash;
  /** integratedTime is the Unix time in seconds at which the entry's batch was integrated. */
  integratedTime: number;
  /** checkpoint is the signed checkpoint note (C2SP tlog-checkpoint) the proof is against. */
  checkpoint: string;
  size: bigint;
  root: Hash;
  inclusionProof: Hash[];
  duplicate: boolean;
}

/** Waiter is one addEntry call waiting for its entry's batch. */
export interface Waiter {
  resolve(result: AddEntryResult): void;
  reject(err: unknown): void;
}

/** PoolEntry is one distinct entry and everyone waiting for it (the first waiter submitted it). */
export interface PoolEntry {
  readonly key: string;
  readonly leafHash: Hash;
  readonly body: Uint8Array;
  readonly waiters: Waiter[];
}

/** PoolLimits bounds the waiting entries (not counting the batch in flight). */
export interface PoolLimits {
  maxEntries: number;
  maxBytes: number;
}

/** leafKey turns a leaf hash into a map key. */
export function leafKey(leafHash: Hash): string {
  return Buffer.from(leafHash.buffer, leafHash.byteOffset, leafHash.byteLength).toString('base64');
}

/** Pool holds waiting entries in arrival order. Not safe across processes (it is memory). */
export class Pool {
  readonly #limits: PoolLimits;
  #waiting = new Map<string, PoolEntry>();
  #bytes = 0;
  readonly #inFlight = new Map<string, PoolEntry>();

  constructor(limits: PoolLimits) {
    this.#limits = limits;
  }

  /** length is the number of distinct entries waiting for a batch. */
  get length(): number {
    return this.#waiting.size;
  }

  /** bytes is the total size of the waiting entries' bodies. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * add queues an entry, or joins the waiting or in-flight entry with the same leaf hash. It
   * throws 'overloaded' when a new entry would exceed the limits; nothing is queued then.
   */
  add(leafHash: Hash, body: Uint8Array): Promise<AddEntryResult> {
    const key = leafKey(leafHash);
    const existing = this.#waiting.get(key) ?? this.#inFlight.get(key);
    if (existing === undefined) {
      if (this.#waiting.size >= this.#limits.maxEntries || this.#bytes + body.length > this.#limits.maxBytes) {
        throw new LogError('overloaded', `the pool is full (${this.#waiting.size} entries, ${this.#bytes} bytes): retry later`);
      }
    }
    return new Promise<AddEntryResult>((resolve, reject) => {
      if (existing !== undefined) {
        existing.waiters.push({ resolve, reject });
        return;
      }
      this.#waiting.set(key, { key, leafHash, body, waiters: [{ resolve, reject }] });
      this.#bytes += body.length;
    });
  }

  /** take moves up to max waiting entries, oldest first, into the in-flight batch. */
  take(max: number): PoolEntry[] {
    const batch: PoolEntry[] = [];
    for (const [key, e] of this.#waiting) {
      if (batch.length >= max) break;
      this.#waiting.delete(key);
      this.#bytes -= e.body.length;
      this.#inFlight.set(key, e);
      batch.push(e);
    }
    return batch;
  }

  /** finish forgets the in-flight batch once each of its waiters has been resolved or rejected. */
  finish(batch: readonly PoolEntry[]): void {
    for (const e of batch) this.#inFlight.delete(e.key);
  }

  /** failWaiting rejects and drops every waiting entry (shutdown, halt, lost leadership). */
  failWaiting(err: unknown): void {
    const entries = [...this.#waiting.values()];
    this.#waiting = new Map();
    this.#bytes = 0;
    for (const e of entries) for (const w of e.waiters) w.reject(err);
  }
}
