// What one batch adds to the tree, computed in memory before anything is written: the new tiles,
// entry bundles and root, with the root computed twice, independently (tiles and compact range), and
// the new tree checked to extend the old one by a consistency proof over the tiles to be written.
import type { Queryable } from '../platform/db.ts';
import { encodeEntryBundle } from '../tlog/entry-bundle.ts';
import { equalBytes, hashLeaf, type Hash } from '../tlog/merkle.ts';
import { proveConsistency, verifyConsistency } from '../tlog/proof.ts';
import { TILE_WIDTH } from '../tlog/tile.ts';
import { appendLeafHashes, rootFromTileEdge } from '../tlog/tile-writer.ts';
import type { LogState } from './log-state.ts';
import { leafKey } from './pool.ts';
import { LogError } from './errors.ts';
import type { PendingEntry } from './store.ts';
import type { TileCache } from './tile-cache.ts';
import { readTiles, type StoredBundle, type StoredTile } from './tile-store.ts';

/** TreeExtension is a batch's effect on the tree, ready to be written with its checkpoint. */
export interface TreeExtension {
  /** state is the state after the batch, except `checkpoint` (signed later) and `integratedTime`. */
  state: Omit<LogState, 'checkpoint' | 'integratedTime'>;
  tiles: StoredTile[];
  bundles: StoredBundle[];
}

/**
 * extendTree appends entries (leaf hashes already computed and checked by the caller) to the tree of
 * `old`. It throws 'root_mismatch' if the tile edge and the compact range disagree on the new root:
 * a bug that must stop the sequencer before anything is signed.
 */
export function extendTree(old: LogState, entries: readonly PendingEntry[]): TreeExtension {
  const leafHashes = entries.map((e) => e.leafHash);
  const appended = appendLeafHashes(old.edge, leafHashes);
  const root = rootFromTileEdge(appended.edge);
  const range = old.range.clone();
  for (const h of leafHashes) range.append(h);
  if (range.size !== appended.edge.size || !equalBytes(range.root(), root)) {
    throw new LogError('root_mismatch', `tiles and compact range disagree on the root of size ${appended.edge.size}`);
  }
  const { bundles, partial } = newBundles(old.size, old.bundle, entries.map((e) => e.body));
  return {
    state: { origin: old.origin, lockKey: old.lockKey, size: appended.edge.size, root, edge: appended.edge, range, bundle: partial },
    tiles: appended.tiles.map((t) => ({ level: t.tile.level, index: t.tile.index, width: t.tile.width, data: t.data })),
    bundles,
  };
}

// newBundles re-encodes the partial bundle of oldSize with the new bodies appended, cut at every
// multiple of 256 entries: full bundles, then the new partial one (also returned as entries).
function newBundles(oldSize: bigint, partial: readonly Uint8Array[], bodies: readonly Uint8Array[]) {
  const all = [...partial, ...bodies];
  const first = oldSize / BigInt(TILE_WIDTH);
  const bundles: StoredBundle[] = [];
  for (let i = 0; i < all.length; i += TILE_WIDTH) {
    const chunk = all.slice(i, i + TILE_WIDTH);
    bundles.push({ index: first + BigInt(i / TILE_WIDTH), width: chunk.length, data: encodeEntryBundle(chunk) });
  }
  const rest = all.length % TILE_WIDTH;
  return { bundles, partial: rest === 0 ? [] : all.slice(all.length - rest) };
}

/**
 * verifyExtension checks, inside the integration transaction `tx`, that the new tree extends the
 * old checkpoint's tree, with a consistency proof read from the stored tiles overlaid with the new
 * ones (DESIGN.md: the sequencer checks the consistency of every checkpoint it signs). Throws
 * 'root_mismatch' if it does not.
 */
export async function verifyExtension(tx: Queryable, old: LogState, ext: TreeExtension, cache: TileCache): Promise<void> {
  if (old.size === 0n) return;
  const { size, root } = ext.state;
  // Reading may fail like any storage read (the batch then fails and the state is reloaded); a
  // proof that does not verify is fatal. Tiles not cached are read through the transaction.
  const reader = cache.reader(size, ext.tiles, (positions) => readTiles(tx, positions));
  const proof: Hash[] = await proveConsistency(old.size, size, reader);
  try {
    verifyConsistency(old.size, size, old.root, root, proof);
  } catch (err) {
    throw new LogError('root_mismatch', `the new tiles of size ${size} are not consistent with size ${old.size}`, { cause: err });
  }
}

/**
 * distinctEntries lists the pool's entries, then the pending ones, each leaf hash once, in order.
 * Pending entries come from the database: their leaf hash is recomputed, not trusted.
 */
export function distinctEntries(batch: readonly PendingEntry[], pending: readonly PendingEntry[]): PendingEntry[] {
  const seen = new Set<string>();
  const out: PendingEntry[] = [];
  const add = (e: PendingEntry) => {
    const key = leafKey(e.leafHash);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(e);
  };
  for (const e of batch) add(e);
  for (const p of pending) add({ leafHash: hashLeaf(p.body), body: p.body });
  return out;
}
