// Incremental tile building for the log's sequencer: given the tree's right edge (its partial
// tiles) and the leaf hashes of a new batch, produce every tile to write, without reading or
// rehashing any full tile of history. Amortised cost: about 1 + 1/256 + … hashes per leaf.
import { TlogError } from './errors.ts';
import { HASH_SIZE, MAX_UINT64, rootFromLeafHashes, type Hash } from './merkle.ts';
import {
  TILE_HEIGHT,
  TILE_WIDTH,
  formatTileData,
  partialTileWidth,
  rightEdgeTiles,
  rootFromRightEdge,
  tileKey,
  parseTileData,
  type Tile,
} from './tile.ts';

/**
 * TileEdge is the right edge of a tiled tree of `size`: `levels[l]` holds the hashes of the
 * partial tile at level l, exactly partialTileWidth(l, size) of them (an empty array where that
 * level has no partial tile). It is all the state needed to extend the tiles.
 */
export interface TileEdge {
  readonly size: bigint;
  readonly levels: readonly (readonly Hash[])[];
}

/** TileWrite is one tile to store: its coordinates and its exact bytes. */
export interface TileWrite {
  tile: Tile;
  data: Uint8Array;
}

/** TileAppendResult is what appendLeafHashes returns: the tiles to write and the new edge. */
export interface TileAppendResult {
  tiles: TileWrite[];
  edge: TileEdge;
}

/** EMPTY_TILE_EDGE is the edge of the empty tree. */
export const EMPTY_TILE_EDGE: TileEdge = { size: 0n, levels: [] };

function levelCount(size: bigint): number {
  let levels = 0;
  while (size >> BigInt(levels * TILE_HEIGHT) > 0n) levels++;
  return levels;
}

// checkEdge rejects an edge whose level widths do not match its size: appending to it would
// write tiles at the wrong positions.
function checkEdge(edge: TileEdge): void {
  if (edge.size < 0n || edge.size > MAX_UINT64) {
    throw new TlogError('invalid_argument', `tile edge size ${edge.size} is not a uint64`);
  }
  const levels = Math.max(levelCount(edge.size), edge.levels.length);
  for (let level = 0; level < levels; level++) {
    const got = edge.levels[level]?.length ?? 0;
    const want = partialTileWidth(level, edge.size);
    if (got !== want) {
      throw new TlogError('invalid_argument', `tile edge of size ${edge.size} has ${got} hashes at level ${level}, want ${want}`);
    }
  }
}

/**
 * tileEdgeFromTiles rebuilds the edge of a tree of `size` from stored tiles (for example at
 * start-up): every partial tile rightEdgeTiles(size) names must be among `tiles`; other tiles are
 * ignored. The tiles come from the log's own store; check rootFromTileEdge against the last signed
 * checkpoint before trusting them.
 */
export function tileEdgeFromTiles(size: bigint, tiles: readonly TileWrite[]): TileEdge {
  const byKey = new Map(tiles.map((t) => [tileKey(t.tile), t.data]));
  const levels: Hash[][] = [];
  for (let level = 0; level < levelCount(size); level++) levels.push([]);
  for (const tile of rightEdgeTiles(size)) {
    const data = byKey.get(tileKey(tile));
    if (data === undefined) throw new TlogError('invalid_argument', `edge tile ${tileKey(tile)} of size ${size} is missing`);
    levels[tile.level] = parseTileData(data, tile.width);
  }
  return { size, levels };
}

/** rootFromTileEdge returns the Merkle tree root of the tree an edge describes. */
export function rootFromTileEdge(edge: TileEdge): Hash {
  checkEdge(edge);
  return rootFromRightEdge(edge.size, edge.levels);
}

// appendLevel feeds new hashes into one level's partial tile. Each tile it completes is written
// and its root (the node at the next tile level) carried up; the last incomplete tile, if any, is
// written as a partial tile. It returns the level's new partial hashes and the carried roots.
function appendLevel(
  level: number,
  size: bigint,
  partial: readonly Hash[],
  incoming: readonly Hash[],
  writes: TileWrite[],
): { partial: Hash[]; carried: Hash[] } {
  let index = size >> BigInt((level + 1) * TILE_HEIGHT); // the tile that `partial` belongs to
  let pending = partial.slice();
  const carried: Hash[] = [];
  for (const h of incoming) {
    pending.push(h);
    if (pending.length < TILE_WIDTH) continue;
    writes.push({ tile: { level, index, width: TILE_WIDTH }, data: formatTileData(pending) });
    // tlog-tiles "Merkle Tree": a level-(l+1) hash is the Merkle Tree Hash of a full level-l tile.
    carried.push(rootFromLeafHashes(pending));
    pending = [];
    index++;
  }
  if (pending.length > 0) {
    writes.push({ tile: { level, index, width: pending.length }, data: formatTileData(pending) });
  }
  return { partial: pending, carried };
}

/**
 * appendLeafHashes extends a tiled tree by `leafHashes` (RFC 6962 leaf hashes, in order). It
 * returns every tile that is new or changed between edge.size and the new size, in the order of
 * newTilesBetween (level by level, full tiles then the partial one), and the new edge. It reads no
 * tile besides the edge and is pure: the caller writes the tiles and keeps the edge, typically in
 * the same transaction as the checkpoint of the new size.
 */
export function appendLeafHashes(edge: TileEdge, leafHashes: readonly Hash[]): TileAppendResult {
  checkEdge(edge);
  const newSize = edge.size + BigInt(leafHashes.length);
  if (newSize > MAX_UINT64) throw new TlogError('invalid_argument', `tree size ${newSize} overflows uint64`);
  leafHashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE) throw new TlogError('invalid_argument', `leaf hash ${i} is not 32 bytes`);
  });
  const writes: TileWrite[] = [];
  const levels: Hash[][] = [];
  let incoming: readonly Hash[] = leafHashes;
  for (let level = 0; level < levelCount(newSize); level++) {
    const partial = edge.levels[level] ?? [];
    if (incoming.length === 0) {
      levels.push(partial.slice()); // nothing reached this level: its tiles are unchanged
      continue;
    }
    const out = appendLevel(level, edge.size, partial, incoming, writes);
    levels.push(out.partial);
    incoming = out.carried;
  }
  return { tiles: writes, edge: { size: newSize, levels } };
}
