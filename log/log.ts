// One log, ready for the HTTP and CLI layers: createLog opens it, takes part in leader election, and
// returns addEntry and the read functions. The leader sequences its own pool and the entries other
// processes queue in log_pending; any other process queues its entries there and waits for them.
import type { Registry } from 'prom-client';
import type { Db } from '../platform/db.ts';
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import { MAX_ENTRY_SIZE } from '../tlog/entry-bundle.ts';
import { hashLeaf, type Hash } from '../tlog/merkle.ts';
import type { Ed25519Signer } from '../tlog/note-ed25519.ts';
import { PendingSubmitter, type FollowerConfig } from './follower.ts';
import { openLeaderLock, type LeaderLock } from './leader.ts';
import { loadLog, type LogIdentity } from './log-state.ts';
import { countError, createLogMetrics, type LogMetrics } from './metrics.ts';
import type { AddEntryResult } from './pool.ts';
import * as read from './read.ts';
import { applyLogMigrations } from './schema.ts';
import { Sequencer, type SequencerConfig } from './sequencer.ts';
import { LogError, isLogError } from './errors.ts';
import { hasPending, readState } from './store.ts';
import { DEFAULT_MAX_CACHED_TILES, TileCache } from './tile-cache.ts';
import { readTiles } from './tile-store.ts';

/** DEFAULT_MAX_BATCH_ENTRIES is the default of maxBatchEntries. */
export const DEFAULT_MAX_BATCH_ENTRIES = 4096;
/** DEFAULT_MAX_BATCH_DELAY_MS is the default of maxBatchDelayMs (issue 3: every ≤ 250 ms). */
export const DEFAULT_MAX_BATCH_DELAY_MS = 250;
/** DEFAULT_MAX_PENDING_ENTRIES is the default of maxPendingEntries. */
export const DEFAULT_MAX_PENDING_ENTRIES = 32_768;
/** DEFAULT_MAX_PENDING_BYTES is the default of maxPendingBytes (256 MiB). */
export const DEFAULT_MAX_PENDING_BYTES = 256 * 1024 * 1024;
/** DEFAULT_LEADER_CHECK_INTERVAL_MS is the default of leaderCheckIntervalMs. */
export const DEFAULT_LEADER_CHECK_INTERVAL_MS = 2000;
/** DEFAULT_PENDING_CHECK_INTERVAL_MS is the default of pendingCheckIntervalMs. */
export const DEFAULT_PENDING_CHECK_INTERVAL_MS = 250;

/** DEFAULT_PENDING_POLL_MIN_MS is the default of pendingPollMinMs. */
export const DEFAULT_PENDING_POLL_MIN_MS = 25;
/** DEFAULT_PENDING_POLL_MAX_MS is the default of pendingPollMaxMs. */
export const DEFAULT_PENDING_POLL_MAX_MS = 1000;
/** DEFAULT_PENDING_TIMEOUT_MS is the default of pendingTimeoutMs. */
export const DEFAULT_PENDING_TIMEOUT_MS = 30_000;

/** LogConfig is the log core's configuration; every tunable has a named default. */
export interface LogConfig extends Partial<SequencerConfig>, Partial<FollowerConfig> {
  /** origin is the log's origin (checkpoint first line); it must match the stored log. */
  origin: string;
  /** signer is the log's Ed25519 checkpoint key; its name must be the origin. */
  signer: Ed25519Signer;
  /** leaderCheckIntervalMs: how often the leader checks its lock and others try to take it (2000). */
  leaderCheckIntervalMs?: number;
  /** pendingCheckIntervalMs: how often the leader looks for entries in log_pending (250). */
  pendingCheckIntervalMs?: number;
  /** maxCachedTiles bounds the full tiles cached for proofs (2048, ≤ 16 KiB each). */
  maxCachedTiles?: number;
}

/** LogDeps are the process's collaborators. The Db stays the caller's to close. */
export interface LogDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** metrics is the registry the log's vigil_log_* metrics are registered on. */
  metrics: Registry;
}

/**
 * Log is an open log. addEntry resolves once the entry is committed, with its inclusion proof (see
 * AddEntryResult); it rejects with LogError 'entry_too_large', 'overloaded', 'batch_failed',
 * 'pending_timeout', 'sequencer_halted' or 'closed'. The read functions are those of read.ts.
 * flush integrates (or, off the leader, polls for) everything waiting now; checkLeadership runs the
 * periodic leader check now. Both are for tests and shutdown; timers do the same on their own.
 */
export interface Log {
  readonly origin: string;
  addEntry(body: Uint8Array): Promise<AddEntryResult>;
  getCheckpoint(): Promise<read.LatestCheckpoint>;
  getTile(level: number, index: bigint, width: number): Promise<Uint8Array | undefined>;
  getEntryBundle(index: bigint, width: number): Promise<Uint8Array | undefined>;
  getEntryByIndex(index: bigint): Promise<read.EntryWithProof>;
  getEntryByLeafHash(leafHash: Hash): Promise<read.EntryWithProof | undefined>;
  getConsistencyProof(firstSize: bigint, lastSize: bigint): Promise<read.ConsistencyProof>;
  isLeader(): boolean;
  flush(): Promise<void>;
  checkLeadership(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * createLog opens the log in `deps.db` (applying migrations; 'log_missing' if initLog never ran),
 * verifies its stored state (loadLog: 'corrupt_state' or 'config_mismatch' refuse to start), and
 * tries to become the sequencer.
 */
export async function createLog(config: LogConfig, deps: LogDeps): Promise<Log> {
  await applyLogMigrations(deps.db);
  const identity: LogIdentity = { origin: config.origin, signer: config.signer };
  await loadLog(deps.db, identity); // refuse to start over a corrupt state, leader or not
  const stored = await readState(deps.db);
  const metrics = createLogMetrics(deps.metrics);
  const cache = new TileCache((positions) => readTiles(deps.db, positions), config.maxCachedTiles ?? DEFAULT_MAX_CACHED_TILES);
  const core = new LogCore(config, deps, identity, metrics, cache, openLeaderLock(deps.db, stored!.lockKey));
  await core.checkLeadership();
  core.startTimers();
  return core.api();
}

function sequencerConfig(c: LogConfig): SequencerConfig {
  return {
    maxBatchEntries: c.maxBatchEntries ?? DEFAULT_MAX_BATCH_ENTRIES,
    maxBatchDelayMs: c.maxBatchDelayMs ?? DEFAULT_MAX_BATCH_DELAY_MS,
    maxPendingEntries: c.maxPendingEntries ?? DEFAULT_MAX_PENDING_ENTRIES,
    maxPendingBytes: c.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
  };
}

function followerConfig(c: LogConfig): FollowerConfig {
  return {
    pendingPollMinMs: c.pendingPollMinMs ?? DEFAULT_PENDING_POLL_MIN_MS,
    pendingPollMaxMs: c.pendingPollMaxMs ?? DEFAULT_PENDING_POLL_MAX_MS,
    pendingTimeoutMs: c.pendingTimeoutMs ?? DEFAULT_PENDING_TIMEOUT_MS,
  };
}

// LogCore holds the process's role: the sequencer while it leads, the pending submitter always.
class LogCore {
  readonly #config: LogConfig;
  readonly #deps: LogDeps;
  readonly #identity: LogIdentity;
  readonly #metrics: LogMetrics;
  readonly #cache: TileCache;
  readonly #lock: LeaderLock;
  readonly #submitter: PendingSubmitter;
  readonly #read: read.ReadDeps;
  #sequencer: Sequencer | undefined;
  #closed = false;
  #checking: Promise<boolean> | undefined;
  #timers: NodeJS.Timeout[] = [];

  constructor(config: LogConfig, deps: LogDeps, identity: LogIdentity, metrics: LogMetrics, cache: TileCache, lock: LeaderLock) {
    this.#config = config;
    this.#deps = deps;
    this.#identity = identity;
    this.#metrics = metrics;
    this.#cache = cache;
    this.#lock = lock;
    this.#read = { db: deps.db, cache, latest: () => this.#latest() };
    this.#submitter = new PendingSubmitter(followerConfig(config), { ...deps, read: this.#read });
  }

  async #latest(): Promise<read.LatestCheckpoint> {
    const s = this.#sequencer?.state ?? (await readState(this.#deps.db));
    if (s === undefined) throw new LogError('log_missing', 'the log state is gone');
    return { checkpoint: s.checkpoint, size: s.size, root: s.root };
  }

  startTimers(): void {
    const every = (ms: number, fn: () => Promise<unknown>) =>
      this.#timers.push(setInterval(() => void fn().catch((err: unknown) => this.#deps.logger.error({ err }, 'log timer failed')), ms).unref());
    every(this.#config.leaderCheckIntervalMs ?? DEFAULT_LEADER_CHECK_INTERVAL_MS, () => this.checkLeadership());
    every(this.#config.pendingCheckIntervalMs ?? DEFAULT_PENDING_CHECK_INTERVAL_MS, async () => {
      if (this.#sequencer !== undefined && (await hasPending(this.#deps.db))) this.#sequencer.notePending();
    });
  }

  checkLeadership(): Promise<boolean> {
    this.#checking ??= this.#checkLeadership().finally(() => (this.#checking = undefined));
    return this.#checking;
  }

  // checkLeadership keeps the role in line with the lock: a leader that lost it stops sequencing;
  // a process that gets it reloads the state (another leader may have moved it) and starts.
  async #checkLeadership(): Promise<boolean> {
    if (this.#closed) return false;
    if (this.#sequencer !== undefined) {
      if (await this.#lock.isHeld()) return true;
      this.#sequencer.abandon(new LogError('batch_failed', 'this process stopped sequencing the log: retry'));
      this.#sequencer = undefined;
      this.#metrics.leader.set(0);
      this.#deps.logger.warn('lost the sequencer lock; now queueing entries for the new leader');
      return false;
    }
    if (!(await this.#lock.tryAcquire())) return false;
    try {
      const state = await loadLog(this.#deps.db, this.#identity);
      this.#cache.clear();
      this.#sequencer = new Sequencer(sequencerConfig(this.#config), { ...this.#deps, metrics: this.#metrics, identity: this.#identity, cache: this.#cache }, state);
    } catch (err) {
      await this.#lock.release();
      throw err;
    }
    this.#metrics.leader.set(1);
    this.#deps.logger.info({ tree_size: String(this.#sequencer.state.size) }, 'sequencing the log');
    return true;
  }

  async addEntry(body: Uint8Array): Promise<AddEntryResult> {
    try {
      if (this.#closed) throw new LogError('closed', 'the log is shutting down');
      // body is attacker-controlled: its size is checked before it takes any pool space.
      if (!(body instanceof Uint8Array)) throw new LogError('invalid_argument', 'an entry is a byte string');
      if (body.length > MAX_ENTRY_SIZE) {
        throw new LogError('entry_too_large', `entry of ${body.length} bytes is over the ${MAX_ENTRY_SIZE}-byte limit`);
      }
      // A copy: the caller may reuse its buffer, and the bytes must stay those that were hashed.
      const entry = new Uint8Array(body);
      if (this.#sequencer !== undefined) return await this.#sequencer.add(entry);
      if (this.#submitter.waiting >= sequencerConfig(this.#config).maxPendingEntries) {
        throw new LogError('overloaded', 'too many entries wait for the sequencer: retry later');
      }
      return await this.#submitter.submit(hashLeaf(entry), entry);
    } catch (err) {
      // batch_failed and storage_failed are counted where they happen.
      if (isLogError(err) && err.code !== 'batch_failed' && err.code !== 'storage_failed') countError(this.#metrics, err.code);
      throw err;
    }
  }

  async flush(): Promise<void> {
    await this.#sequencer?.flush();
    await this.#submitter.poll();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#checking?.catch(() => false);
    await this.#sequencer?.close();
    this.#submitter.close();
    await this.#lock.release();
    this.#metrics.leader.set(0);
  }

  api(): Log {
    const r = this.#read;
    return {
      origin: this.#identity.origin,
      addEntry: (body) => this.addEntry(body),
      getCheckpoint: () => read.getCheckpoint(r),
      getTile: (level, index, width) => read.getTile(r, level, index, width),
      getEntryBundle: (index, width) => read.getEntryBundle(r, index, width),
      getEntryByIndex: (index) => read.getEntryByIndex(r, index),
      getEntryByLeafHash: (leafHash) => read.getEntryByLeafHash(r, leafHash),
      getConsistencyProof: (first, last) => read.getConsistencyProof(r, first, last),
      isLeader: () => this.#sequencer !== undefined,
      flush: () => this.flush(),
      checkLeadership: () => this.checkLeadership(),
      close: () => this.close(),
    };
  }
}
