// Creating a log once (initLog) and opening it (loadLog), which is also the sequencer's recovery:
// after a crash, an unknown commit outcome or a failed compare-and-swap, the in-memory state is
// rebuilt from the database and checked against the signed checkpoint before anything is signed.
import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../platform/db.ts';
import { systemClock, type Clock } from '../platform/clock.ts';
import { formatCheckpoint, openCheckpoint } from '../tlog/checkpoint.ts';
import { CompactRange } from '../tlog/compact-range.ts';
import { parseEntryBundle } from '../tlog/entry-bundle.ts';
import { EMPTY_ROOT, equalBytes, hashLeaf, type Hash } from '../tlog/merkle.ts';
import { signNote } from '../tlog/note.ts';
import { newEd25519Verifier, type Ed25519Signer } from '../tlog/note-ed25519.ts';
import { rangeNodes } from '../tlog/proof.ts';
import { TILE_HEIGHT, TILE_WIDTH, formatTileData, rightEdgeTiles } from '../tlog/tile.ts';
import { EMPTY_TILE_EDGE, rootFromTileEdge, tileEdgeFromTiles, type TileEdge } from '../tlog/tile-writer.ts';
import { applyLogMigrations } from './schema.ts';
import { LogError } from './errors.ts';
import { insertCheckpoint, insertState, readEntry, readIntegratedTime, readState } from './store.ts';
import { TileCache } from './tile-cache.ts';
import { readBundle, readTiles, type StoredTile } from './tile-store.ts';

/** LogIdentity is who a log is: its origin and its checkpoint key, whose name must be the origin. */
export interface LogIdentity {
  origin: string;
  signer: Ed25519Signer;
}

/**
 * LogState is the sequencer's in-memory view of the last committed checkpoint: the tree (size,
 * root, its tile edge and, computed independently, its compact range), the signed note, the
 * entries of the partial entry bundle, and the integration time of the last batch (seconds).
 */
export interface LogState {
  readonly origin: string;
  readonly lockKey: bigint;
  readonly size: bigint;
  readonly root: Hash;
  readonly checkpoint: string;
  readonly edge: TileEdge;
  readonly range: CompactRange;
  readonly bundle: readonly Uint8Array[];
  readonly integratedTime: number;
}

function checkIdentity(id: LogIdentity): void {
  if (id.signer.name !== id.origin) {
    throw new LogError('config_mismatch', `checkpoint key name ${JSON.stringify(id.signer.name)} is not the origin ${JSON.stringify(id.origin)}`);
  }
}

/** signCheckpoint signs the C2SP checkpoint of (size, root) with the log's key. */
export function signCheckpoint(id: LogIdentity, size: bigint, root: Hash): string {
  return signNote(formatCheckpoint({ origin: id.origin, size, root }), [id.signer]);
}

/**
 * initLog creates a log once: the schema, then the state of the empty tree with a signed size-0
 * checkpoint, in one transaction. Throws 'log_exists' if the database holds a log already, and
 * 'config_mismatch' if the key's name is not the origin.
 */
export async function initLog(db: Db, opts: LogIdentity & { clock?: Clock }): Promise<LogState> {
  checkIdentity(opts);
  await applyLogMigrations(db);
  const checkpoint = signCheckpoint(opts, 0n, EMPTY_ROOT);
  // A random key in [2^32, 2^62): distinct from the 32-bit keys of applyMigrations' locks.
  const lockKey = (randomBytes(8).readBigUInt64BE() >> 2n) | (1n << 32n);
  const at = new Date((opts.clock ?? systemClock).nowMs());
  await db.transaction(async (tx) => {
    if (!(await insertState(tx, { origin: opts.origin, lockKey, size: 0n, root: EMPTY_ROOT, checkpoint }, at))) {
      throw new LogError('log_exists', 'refusing to create a log: this database already holds one');
    }
    await insertCheckpoint(tx, { size: 0n, root: EMPTY_ROOT, note: checkpoint }, at);
  });
  const range = new CompactRange();
  return { origin: opts.origin, lockKey, size: 0n, root: EMPTY_ROOT, checkpoint, edge: EMPTY_TILE_EDGE, range, bundle: [], integratedTime: 0 };
}

/**
 * loadLog opens the log and verifies its stored state before anything is signed over it: the
 * checkpoint verifies with the configured key and names the stored (size, root); the right-edge
 * tiles recombine to that root; the compact range read from them gives it too; the partial entry
 * bundle hashes to the level-0 edge tile; entries end exactly at size. Throws 'log_missing',
 * 'config_mismatch' or 'corrupt_state' (the caller must not sequence then).
 */
export async function loadLog(db: Db, id: LogIdentity): Promise<LogState> {
  checkIdentity(id);
  // One snapshot: a sequencer that is still finishing a batch must not be seen half-way.
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return loadFrom(tx, id);
  });
}

async function loadFrom(db: Queryable, id: LogIdentity): Promise<LogState> {
  const stored = await readState(db);
  if (stored === undefined) throw new LogError('log_missing', 'no log in this database: run initLog (vigil log init) first');
  if (stored.origin !== id.origin) {
    throw new LogError('config_mismatch', `the log's origin is ${JSON.stringify(stored.origin)}, not ${JSON.stringify(id.origin)}`);
  }
  const { size, root } = stored;
  checkCheckpoint(id, stored.checkpoint, size, root);
  const edgeRows = await readTiles(db, rightEdgeTiles(size));
  const edge = edgeFromRows(size, edgeRows);
  if (!equalBytes(rootFromTileEdge(edge), root)) {
    throw corrupt(`the right-edge tiles of size ${size} do not recombine to the stored root`);
  }
  const range = await rangeFromEdge(size, edge);
  if (!equalBytes(range.root(), root)) throw corrupt(`the compact range of size ${size} does not give the stored root`);
  const bundle = await loadPartialBundle(db, size, edge);
  await checkEntryCount(db, size);
  const integratedTime = size === 0n ? 0 : await readIntegratedTime(db, size - 1n);
  return { origin: stored.origin, lockKey: stored.lockKey, size, root, checkpoint: stored.checkpoint, edge, range, bundle, integratedTime };
}

function corrupt(message: string, cause?: unknown): LogError {
  return new LogError('corrupt_state', `refusing to sequence: ${message}`, { cause });
}

function checkCheckpoint(id: LogIdentity, note: string, size: bigint, root: Hash): void {
  let opened;
  try {
    opened = openCheckpoint(note, [newEd25519Verifier(id.signer.name, id.signer.publicKey)], { origin: id.origin });
  } catch (err) {
    throw new LogError('config_mismatch', 'the stored checkpoint does not verify with the configured key', { cause: err });
  }
  if (opened.checkpoint.size !== size || !equalBytes(opened.checkpoint.root, root)) {
    throw corrupt(`the stored checkpoint is not of the stored size ${size} and root`);
  }
}

// edgeFromRows builds the tile edge from the stored rows, which must have exactly the widths the
// size implies: a wider row means tiles were written for a size the state does not have.
function edgeFromRows(size: bigint, rows: readonly StoredTile[]): TileEdge {
  for (const t of rightEdgeTiles(size)) {
    const row = rows.find((r) => r.level === t.level && r.index === t.index);
    if (row === undefined) throw corrupt(`edge tile ${t.level}/${t.index} of size ${size} is missing`);
    if (row.width !== t.width) throw corrupt(`edge tile ${t.level}/${t.index} has width ${row.width}, want ${t.width}`);
  }
  try {
    return tileEdgeFromTiles(size, rows.map((r) => ({ tile: { level: r.level, index: r.index, width: r.width }, data: r.data })));
  } catch (err) {
    throw corrupt(`the edge tiles of size ${size} do not parse`, err);
  }
}

/** edgeTiles lists the partial tiles of an edge as tile rows (to seed a TileCache). */
export function edgeTiles(edge: TileEdge): StoredTile[] {
  const tiles: StoredTile[] = [];
  edge.levels.forEach((hashes, level) => {
    if (hashes.length === 0) return;
    const index = edge.size >> BigInt((level + 1) * TILE_HEIGHT);
    tiles.push({ level, index, width: hashes.length, data: formatTileData(hashes) });
  });
  return tiles;
}

// rangeFromEdge reads the compact range's hashes (the root's subtrees, all inside the edge tiles)
// through a TileCache that holds only the edge: a second, independent way to the root.
async function rangeFromEdge(size: bigint, edge: TileEdge): Promise<CompactRange> {
  const cache = new TileCache(async () => []);
  for (const t of edgeTiles(edge)) cache.put(t);
  const nodes = rangeNodes(0n, size);
  try {
    return CompactRange.fromNodes(size, nodes.length === 0 ? [] : await cache.reader(size).readHashes(nodes));
  } catch (err) {
    throw corrupt(`the compact range of size ${size} cannot be read from the edge tiles`, err);
  }
}

async function loadPartialBundle(db: Queryable, size: bigint, edge: TileEdge): Promise<Uint8Array[]> {
  const width = Number(size % BigInt(TILE_WIDTH));
  if (width === 0) return [];
  const index = size / BigInt(TILE_WIDTH);
  const row = await readBundle(db, index);
  if (row === undefined || row.width !== width) throw corrupt(`entry bundle ${index} of width ${width} is missing`);
  let entries: Uint8Array[];
  try {
    entries = parseEntryBundle(row.data, width);
  } catch (err) {
    throw corrupt(`entry bundle ${index} does not parse`, err);
  }
  const leaves = edge.levels[0] ?? [];
  entries.forEach((e, i) => {
    if (!equalBytes(hashLeaf(e), leaves[i]!)) throw corrupt(`entry ${i} of bundle ${index} does not match its level-0 tile`);
  });
  return entries;
}

async function checkEntryCount(db: Queryable, size: bigint): Promise<void> {
  if (size > 0n && (await readEntry(db, size - 1n)) === undefined) throw corrupt(`entry ${size - 1n} is missing`);
  if ((await readEntry(db, size)) !== undefined) throw corrupt(`entry ${size} exists beyond the tree size`);
}
