// The sequencer: entries wait in the pool; one batch at a time (every maxBatchDelayMs, or as soon as
// maxBatchEntries wait) is integrated in ONE transaction that also signs and stores the new
// checkpoint; only after COMMIT is each waiter answered, with its inclusion proof. Ideas from
// sunlight's sequencePool (a batch either commits with its checkpoint or fails as a whole, and
// whatever leaves durable state unknown sends the sequencer back through start-up recovery) and
// tessera's integrate (tiles built from the right edge, never re-reading history).
import type { Db } from '../platform/db.ts';
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import { equalBytes, hashLeaf } from '../tlog/merkle.ts';
import { proveInclusion } from '../tlog/proof.ts';
import { distinctEntries, extendTree, verifyExtension } from './batch.ts';
import { edgeTiles, loadLog, signCheckpoint, type LogIdentity, type LogState } from './log-state.ts';
import { countError, type LogMetrics } from './metrics.ts';
import { Pool, leafKey, type AddEntryResult, type PoolEntry } from './pool.ts';
import { LogError, isLogError } from './errors.ts';
import {
  findEntries, insertCheckpoint, insertEntries, readState, takePending, updateState, type EntryRef,
} from './store.ts';
import type { TileCache } from './tile-cache.ts';
import { writeBundles, writeTiles, type StoredTile } from './tile-store.ts';

/** SequencerConfig tunes batching and the pool. */
export interface SequencerConfig {
  /** maxBatchEntries is the most distinct entries per batch; a full batch starts at once (4096). */
  maxBatchEntries: number;
  /** maxBatchDelayMs is the longest, in ms, an entry waits before its batch starts (250). */
  maxBatchDelayMs: number;
  /** maxPendingEntries bounds the waiting entries; beyond it addEntry fails 'overloaded' (32,768). */
  maxPendingEntries: number;
  /** maxPendingBytes bounds the waiting entries' bodies, in bytes, likewise (256 MiB). */
  maxPendingBytes: number;
}

/** SequencerDeps are the sequencer's collaborators. */
export interface SequencerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: LogMetrics;
  identity: LogIdentity;
  /** cache serves proofs; the sequencer adds every tile it commits. */
  cache: TileCache;
}

// BatchOutcome is what a committed integration transaction produced.
interface BatchOutcome {
  state: LogState;
  /** refs maps each leaf key of the batch to its entry, and whether it existed before the batch. */
  refs: Map<string, EntryRef & { existed: boolean }>;
  newEntries: number;
  pendingTaken: number;
  /** tiles are the tiles the batch wrote, to cache once committed. */
  tiles: StoredTile[];
}

/**
 * Sequencer integrates the pool of one log. Contract: at most one batch is in flight; a waiter is
 * resolved only after its batch's transaction committed, and rejected ('batch_failed') if anything
 * failed, in which case the entry may or may not have been committed (a retry finds it as a
 * duplicate). A failed batch reloads the state from the database before the next one (loadLog, the
 * start-up recovery); a fatal error ('corrupt_state', 'root_mismatch') halts it for good. Only the
 * leader may run a Sequencer (see leader.ts); the compare-and-swap on log_state protects the log if
 * two do.
 */
export class Sequencer {
  readonly #config: SequencerConfig;
  readonly #deps: SequencerDeps;
  readonly #pool: Pool;
  #state: LogState;
  #status: 'running' | 'halted' | 'closed' = 'running';
  #haltedBy: unknown;
  #needsReload = false;
  #pendingDue = true; // look at log_pending in the first batch
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(config: SequencerConfig, deps: SequencerDeps, state: LogState) {
    this.#config = config;
    this.#deps = deps;
    this.#state = state;
    this.#pool = new Pool({ maxEntries: config.maxPendingEntries, maxBytes: config.maxPendingBytes });
    for (const t of edgeTiles(state.edge)) deps.cache.put(t);
    deps.metrics.treeSize.set(Number(state.size));
  }

  /** state is the last committed state (checkpoint, size, root). */
  get state(): LogState {
    return this.#state;
  }

  /** halted reports whether a fatal error stopped the sequencer. */
  get halted(): boolean {
    return this.#status === 'halted';
  }

  /**
   * add pools an entry (at most MAX_ENTRY_SIZE bytes; the caller checks) and resolves once it is
   * committed. Throws 'overloaded', 'sequencer_halted' or 'closed' without pooling.
   */
  add(body: Uint8Array): Promise<AddEntryResult> {
    if (this.#status === 'halted') throw new LogError('sequencer_halted', 'the sequencer stopped after a fatal error', { cause: this.#haltedBy });
    if (this.#status === 'closed') throw new LogError('closed', 'the log is shutting down');
    const result = this.#pool.add(hashLeaf(body), body);
    this.#deps.metrics.poolEntries.set(this.#pool.length);
    if (this.#pool.length >= this.#config.maxBatchEntries) void this.#run();
    else this.#timer ??= setTimeout(() => void this.#run(), this.#config.maxBatchDelayMs).unref();
    return result;
  }

  /** notePending tells the sequencer that log_pending may hold entries (another process took them). */
  notePending(): void {
    this.#pendingDue = true;
    void this.#run();
  }

  /** flush integrates everything waiting, in the pool and in log_pending, and resolves when done. */
  flush(): Promise<void> {
    this.#pendingDue = true;
    return this.#run();
  }

  /**
   * close stops taking entries, integrates what waits (unless halted) and resolves when the last
   * batch is done. Waiters of entries it cannot integrate are rejected with 'closed'.
   */
  async close(): Promise<void> {
    if (this.#status === 'running') await this.flush();
    if (this.#status !== 'halted') this.#status = 'closed';
    clearTimeout(this.#timer);
    this.#pool.failWaiting(new LogError('closed', 'the log is shutting down'));
  }

  /** abandon rejects everything waiting (leadership lost) and stops taking entries. */
  abandon(err: unknown): void {
    if (this.#status === 'running') this.#status = 'closed';
    clearTimeout(this.#timer);
    this.#pool.failWaiting(err);
  }

  #run(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#drain();
        } while (this.#again && this.#status === 'running');
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  // drain integrates batches until the pool and log_pending are empty, one at a time.
  async #drain(): Promise<void> {
    while (this.#status === 'running') {
      if (this.#needsReload && !(await this.#reload())) return;
      const batch = this.#pool.take(this.#config.maxBatchEntries);
      this.#deps.metrics.poolEntries.set(this.#pool.length);
      if (batch.length === 0 && !this.#pendingDue) return;
      this.#pendingDue = false;
      const room = this.#config.maxBatchEntries - batch.length;
      const taken = await this.#integrate(batch, room);
      if (room > 0 && taken === room) this.#pendingDue = true; // log_pending may hold more
    }
  }

  // integrate commits one batch, then answers its waiters. It returns how many pending entries it
  // took from log_pending, and never throws: a failure rejects the batch's waiters.
  async #integrate(batch: PoolEntry[], room: number): Promise<number> {
    const started = performance.now();
    let outcome: BatchOutcome;
    try {
      outcome = await this.#commitBatch(batch, room);
    } catch (err) {
      this.#failBatch(batch, err);
      return 0;
    }
    // Committed: from here on the new state is durable, so it becomes ours before anything else.
    this.#state = outcome.state;
    for (const t of outcome.tiles) this.#deps.cache.put(t);
    const m = this.#deps.metrics;
    m.treeSize.set(Number(outcome.state.size));
    m.entriesIntegrated.inc(outcome.newEntries);
    if (outcome.newEntries > 0) m.batchEntries.observe(outcome.newEntries);
    await this.#acknowledge(batch, outcome);
    m.integrationSeconds.observe((performance.now() - started) / 1000);
    return outcome.pendingTaken;
  }

  // commitBatch is the ordered durable sequence of one batch, kept in one function so the order is
  // visible. Everything happens in one transaction; if we crash anywhere before COMMIT, nothing of
  // the batch exists, and if COMMIT's outcome is unknown, loadLog finds out which state is real.
  async #commitBatch(batch: readonly PoolEntry[], room: number): Promise<BatchOutcome> {
    const { db, clock, identity, cache } = this.#deps;
    const old = this.#state;
    const nowMs = clock.nowMs();
    // Integration times never go backwards, whatever the clock does.
    const integratedTime = Math.max(Math.floor(nowMs / 1000), old.integratedTime);
    return db.transaction(async (tx) => {
      // 1. Compare-and-swap: the stored state must be the one we extend.
      const stored = await readState(tx, true);
      if (stored === undefined || stored.size !== old.size || !equalBytes(stored.root, old.root)) {
        throw new LogError('state_conflict', `log_state is at size ${stored?.size}, not ${old.size}: another writer?`);
      }
      // 2. Entries other processes queued; deleted here, so they commit with their integration.
      const pending = await takePending(tx, room);
      // 3. Deduplicate: within the batch, and against the log.
      const candidates = distinctEntries(batch, pending);
      const existing = await findEntries(tx, candidates.map((c) => c.leafHash));
      const refs = new Map<string, EntryRef & { existed: boolean }>();
      for (const e of existing) refs.set(leafKey(e.leafHash), { ...e, existed: true });
      const fresh = candidates.filter((c) => !refs.has(leafKey(c.leafHash)));
      fresh.forEach((c, i) => refs.set(leafKey(c.leafHash), { index: old.size + BigInt(i), leafHash: c.leafHash, integratedTime, existed: false }));
      if (fresh.length === 0) return { state: old, refs, newEntries: 0, pendingTaken: pending.length, tiles: [] };
      // 4. Entries, tiles and bundles, the new root computed twice and checked to extend the old tree.
      await insertEntries(tx, old.size, fresh, integratedTime);
      const ext = extendTree(old, fresh);
      await writeTiles(tx, ext.tiles);
      await writeBundles(tx, ext.bundles);
      await verifyExtension(tx, old, ext, cache);
      // 5. The checkpoint: signed, recorded, and made the state.
      const checkpoint = signCheckpoint(identity, ext.state.size, ext.state.root);
      await insertCheckpoint(tx, { size: ext.state.size, root: ext.state.root, note: checkpoint }, new Date(nowMs));
      await updateState(tx, { size: ext.state.size, root: ext.state.root, checkpoint }, new Date(nowMs));
      const state: LogState = { ...ext.state, checkpoint, integratedTime };
      return { state, refs, newEntries: fresh.length, pendingTaken: pending.length, tiles: ext.tiles };
    });
  }

  // acknowledge answers every waiter of a committed batch with its inclusion proof. Proofs are built
  // first; then, in one synchronous step, the batch leaves the pool and every waiter (including
  // twins that joined while proofs were built) is answered.
  async #acknowledge(batch: readonly PoolEntry[], outcome: BatchOutcome): Promise<void> {
    const { state } = outcome;
    const reader = this.#deps.cache.reader(state.size);
    const proofs = await Promise.allSettled(
      batch.map((e) => proveInclusion(outcome.refs.get(e.key)!.index, state.size, reader)),
    );
    this.#pool.finish(batch);
    batch.forEach((e, i) => {
      const ref = outcome.refs.get(e.key)!;
      const proof = proofs[i]!;
      e.waiters.forEach((w, n) => {
        if (proof.status === 'rejected') {
          countError(this.#deps.metrics, 'storage_failed');
          w.reject(new LogError('storage_failed', `entry ${ref.index} is logged but its inclusion proof could not be read: retry`, { cause: proof.reason }));
          return;
        }
        const duplicate = ref.existed || n > 0;
        if (duplicate) this.#deps.metrics.duplicates.inc();
        w.resolve({
          index: ref.index, leafHash: ref.leafHash, integratedTime: ref.integratedTime, checkpoint: state.checkpoint,
          size: state.size, root: state.root, inclusionProof: proof.value, duplicate,
        });
      });
    });
  }

  // failBatch rejects every waiter of a failed batch and sends the sequencer through recovery (or
  // halts it on a fatal error). Nothing of the batch was acknowledged.
  #failBatch(batch: readonly PoolEntry[], err: unknown): void {
    const code = isLogError(err) ? err.code : 'storage_failed';
    countError(this.#deps.metrics, 'batch_failed');
    if (code !== 'batch_failed') countError(this.#deps.metrics, code);
    this.#deps.logger.error({ err, code, tree_size: String(this.#state.size), entries: batch.length }, 'batch integration failed');
    const reason = new LogError('batch_failed', 'the batch holding this entry was not committed (or its commit is unknown): retry', { cause: err });
    this.#pool.finish(batch);
    for (const e of batch) for (const w of e.waiters) w.reject(reason);
    if (isFatalError(err)) this.#halt(err);
    else this.#needsReload = true;
  }

  // reload is start-up recovery: the state is read back from the database and verified.
  async #reload(): Promise<boolean> {
    try {
      const state = await loadLog(this.#deps.db, this.#deps.identity);
      this.#deps.cache.clear();
      for (const t of edgeTiles(state.edge)) this.#deps.cache.put(t);
      this.#state = state;
      this.#needsReload = false;
      this.#deps.metrics.treeSize.set(Number(state.size));
      this.#deps.logger.warn({ tree_size: String(state.size) }, 'sequencer state reloaded from the database');
      return true;
    } catch (err) {
      if (isFatalError(err)) {
        this.#halt(err);
        return false;
      }
      countError(this.#deps.metrics, 'storage_failed');
      this.#deps.logger.error({ err }, 'could not reload the sequencer state; failing waiting entries');
      this.#pool.failWaiting(new LogError('batch_failed', 'the sequencer is recovering: retry', { cause: err }));
      return false;
    }
  }

  #halt(err: unknown): void {
    this.#status = 'halted';
    this.#haltedBy = err;
    countError(this.#deps.metrics, 'sequencer_halted');
    this.#deps.logger.fatal({ err }, 'sequencer halted: refusing to sign over an unverified state');
    this.#pool.failWaiting(new LogError('sequencer_halted', 'the sequencer stopped after a fatal error', { cause: err }));
  }
}

/**
 * isFatalError reports whether err must stop the sequencer for good (until an operator restarts
 * it): the stored state does not verify, is not this configuration's, or two computations of one
 * root disagree. Anything else is recovered by reloading the state from the database, which is
 * start-up recovery (sunlight's errFatal restarts the process for the same purpose).
 */
export function isFatalError(err: unknown): boolean {
  return isLogError(err) && (err.code === 'corrupt_state' || err.code === 'root_mismatch' || err.code === 'config_mismatch');
}
