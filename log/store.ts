// SQL access to the log's state, entries, checkpoints and pending entries (schema.ts). Functions take
// a Queryable so that the sequencer runs them inside its one integration transaction. They check
// shapes, not meaning: the sequencer and loadLog verify what they read.
import type { Queryable } from '../platform/db.ts';
import type { Hash } from '../tlog/merkle.ts';
import { HASH_LIST_SQL, concatHashes, packBytes } from './sql-batch.ts';

/** StoredState is the log_state row. */
export interface StoredState {
  origin: string;
  /** lockKey is the advisory-lock key of this log's sequencer (random, chosen by initLog). */
  lockKey: bigint;
  size: bigint;
  root: Hash;
  /** checkpoint is the signed checkpoint note of (size, root). */
  checkpoint: string;
}

/** EntryRef locates a stored entry without its body. */
export interface EntryRef {
  index: bigint;
  leafHash: Hash;
  /** integratedTime is the Unix time, in seconds, of the batch that integrated the entry. */
  integratedTime: number;
}

/** StoredEntry is an entry with its body (the exact leaf bytes). */
export interface StoredEntry extends EntryRef {
  body: Uint8Array;
}

/** PendingEntry is an entry waiting in log_pending. */
export interface PendingEntry {
  leafHash: Hash;
  body: Uint8Array;
}

interface StateRow {
  origin: string;
  lock_key: bigint;
  size: bigint;
  root: Uint8Array;
  checkpoint: string;
}

/**
 * readState returns the log_state row, or undefined before initLog. With forUpdate it locks the
 * row until the transaction ends: the compare-and-swap of the sequencer.
 */
export async function readState(q: Queryable, forUpdate = false): Promise<StoredState | undefined> {
  const rows = await q.query<StateRow>(
    `SELECT origin, lock_key, size, root, checkpoint FROM log_state${forUpdate ? ' FOR UPDATE' : ''}`,
  );
  const r = rows[0];
  if (r === undefined) return undefined;
  return { origin: r.origin, lockKey: r.lock_key, size: r.size, root: r.root, checkpoint: r.checkpoint };
}

/** insertState creates the log_state row; it returns false (and writes nothing) if one exists. */
export async function insertState(q: Queryable, s: StoredState, at: Date): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO log_state (origin, lock_key, size, root, checkpoint, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (singleton) DO NOTHING RETURNING 1`,
    [s.origin, s.lockKey, s.size, s.root, s.checkpoint, at],
  );
  return rows.length === 1;
}

/** updateState moves log_state to a new size; call it after readState(q, true) in one transaction. */
export async function updateState(q: Queryable, s: { size: bigint; root: Hash; checkpoint: string }, at: Date): Promise<void> {
  await q.query('UPDATE log_state SET size = $1, root = $2, checkpoint = $3, updated_at = $4', [s.size, s.root, s.checkpoint, at]);
}

/** insertCheckpoint records a signed checkpoint; a second checkpoint of one size is refused (PK). */
export async function insertCheckpoint(q: Queryable, c: { size: bigint; root: Hash; note: string }, at: Date): Promise<void> {
  await q.query('INSERT INTO log_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)', [c.size, c.root, c.note, at]);
}

/** hasCheckpointBetween reports whether a checkpoint was signed for a size in [from, to). */
export async function hasCheckpointBetween(q: Queryable, from: bigint, to: bigint): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM log_checkpoints WHERE size >= $1 AND size < $2 LIMIT 1', [from, to]);
  return rows.length > 0;
}

/** readCheckpoints returns every signed checkpoint, smallest size first (tests and tools). */
export async function readCheckpoints(q: Queryable): Promise<Array<{ size: bigint; root: Hash; note: string }>> {
  return q.query('SELECT size, root, note FROM log_checkpoints ORDER BY size');
}

interface EntryRow {
  idx: bigint;
  leaf_hash: Uint8Array;
  integrated_time: bigint;
  body?: Uint8Array;
}

function toEntry(r: EntryRow): StoredEntry {
  return { index: r.idx, leafHash: r.leaf_hash, integratedTime: Number(r.integrated_time), body: r.body ?? new Uint8Array(0) };
}

/** findEntries returns the stored entries among the given leaf hashes (any order, no bodies). */
export async function findEntries(q: Queryable, leafHashes: readonly Hash[]): Promise<EntryRef[]> {
  if (leafHashes.length === 0) return [];
  const rows = await q.query<EntryRow>(
    `SELECT idx, leaf_hash, integrated_time FROM log_entries WHERE leaf_hash IN (${HASH_LIST_SQL})`,
    [concatHashes(leafHashes), leafHashes.length],
  );
  return rows.map((r) => ({ index: r.idx, leafHash: r.leaf_hash, integratedTime: Number(r.integrated_time) }));
}

/** readEntry returns the entry at index, with its body, or undefined. */
export async function readEntry(q: Queryable, index: bigint): Promise<StoredEntry | undefined> {
  const rows = await q.query<EntryRow>('SELECT idx, leaf_hash, integrated_time, body FROM log_entries WHERE idx = $1', [index]);
  return rows[0] && toEntry(rows[0]);
}

/** readEntryByLeafHash returns the entry with this leaf hash, with its body, or undefined. */
export async function readEntryByLeafHash(q: Queryable, leafHash: Hash): Promise<StoredEntry | undefined> {
  const rows = await q.query<EntryRow>(
    'SELECT idx, leaf_hash, integrated_time, body FROM log_entries WHERE leaf_hash = $1',
    [leafHash],
  );
  return rows[0] && toEntry(rows[0]);
}

/** readEntryRange returns the entries [from, to), in order, with their bodies (tests and tools). */
export async function readEntryRange(q: Queryable, from: bigint, to: bigint): Promise<StoredEntry[]> {
  const rows = await q.query<EntryRow>(
    'SELECT idx, leaf_hash, integrated_time, body FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx',
    [from, to],
  );
  return rows.map(toEntry);
}

/**
 * insertEntries stores entries firstIndex, firstIndex+1, … in one statement. A leaf hash or index
 * that exists already fails the statement (and so the transaction).
 */
export async function insertEntries(
  q: Queryable,
  firstIndex: bigint,
  entries: readonly PendingEntry[],
  integratedTime: number,
): Promise<void> {
  if (entries.length === 0) return;
  const bodies = packBytes(entries.map((e) => e.body));
  await q.query(
    `INSERT INTO log_entries (idx, leaf_hash, body, integrated_time)
     SELECT $1::bigint + o.i - 1, substring($2::bytea FROM ((o.i - 1) * 32 + 1)::int FOR 32),
            substring($3::bytea FROM o.off + 1 FOR o.len), $6::bigint
     FROM unnest($4::int[], $5::int[]) WITH ORDINALITY AS o(off, len, i)`,
    [firstIndex, concatHashes(entries.map((e) => e.leafHash)), bodies.blob, bodies.offsets, bodies.lengths, BigInt(integratedTime)],
  );
}

/** readIntegratedTime returns the integration time of entry index, or 0 if there is none. */
export async function readIntegratedTime(q: Queryable, index: bigint): Promise<number> {
  const rows = await q.query<{ integrated_time: bigint }>('SELECT integrated_time FROM log_entries WHERE idx = $1', [index]);
  return Number(rows[0]?.integrated_time ?? 0n);
}

/**
 * insertPending queues an entry for the sequencer. An entry already pending is left as it is (the
 * unique leaf hash), so repeated submissions queue it once.
 */
export async function insertPending(q: Queryable, e: PendingEntry, at: Date): Promise<void> {
  await q.query(
    'INSERT INTO log_pending (leaf_hash, body, created_at) VALUES ($1, $2, $3) ON CONFLICT (leaf_hash) DO NOTHING',
    [e.leafHash, e.body, at],
  );
}

/**
 * takePending deletes and returns up to `limit` pending entries, oldest first. Inside the
 * integration transaction, the deletion commits with the entries' integration or not at all;
 * SKIP LOCKED keeps a second (mistaken) sequencer from blocking on the same rows.
 */
export async function takePending(q: Queryable, limit: number): Promise<PendingEntry[]> {
  if (limit <= 0) return [];
  const rows = await q.query<{ id: bigint; leaf_hash: Uint8Array; body: Uint8Array }>(
    `DELETE FROM log_pending WHERE id IN (SELECT id FROM log_pending ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING id, leaf_hash, body`,
    [limit],
  );
  rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return rows.map((r) => ({ leafHash: r.leaf_hash, body: r.body }));
}

/** hasPending reports whether any entry waits in log_pending. */
export async function hasPending(q: Queryable): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM log_pending LIMIT 1');
  return rows.length > 0;
}
