// Tile coordinates, paths and the tile ↔ tree-node mapping of C2SP tlog-tiles
// (https://c2sp.org/tlog-tiles, "Merkle Tree", "Partial Tiles", "Log entries").
import { TlogError } from './errors.ts';
import {
  EMPTY_ROOT,
  HASH_SIZE,
  MAX_UINT64,
  hashChildren,
  rootFromLeafHashes,
  type Hash,
  type NodeId,
} from './merkle.ts';

/** TILE_HEIGHT is the number of tree levels a tile spans (tlog-tiles fixes it at 8). */
export const TILE_HEIGHT = 8;

/** TILE_WIDTH is the number of hashes in a full tile, and of entries in a full bundle: 2^8. */
export const TILE_WIDTH = 256;

/** MAX_TILE_LEVEL is the highest tile level a path may carry (tlog-tiles: "between 0 and 63"). */
export const MAX_TILE_LEVEL = 63;


/**
 * BundleId names an entry bundle: its index N and width W (1..255 for a partial bundle, 256 for a
 * full one). A Tile is also a BundleId, so a level-0 tile can name its bundle directly.
 */
export interface BundleId {
  index: bigint;
  width: number;
}

/**
 * Tile names a hash tile: level L (0..63), index N and width W (1..255 partial, 256 full). Entry i of
 * tile (L, N) is the tree node at level 8·L, index N·256+i (tlog-tiles "Merkle Tree").
 */
export interface Tile extends BundleId {
  level: number;
}

/** TileSlot says where a tree node lives: `count` consecutive hashes of `tile` from `start`. */
export interface TileSlot {
  tile: Tile;
  start: number;
  count: number;
}

const BIG_HEIGHT = BigInt(TILE_HEIGHT);
const BIG_WIDTH = BigInt(TILE_WIDTH);

function checkSize(size: bigint, what: string): void {
  if (size < 0n || size > MAX_UINT64) {
    throw new TlogError('invalid_argument', `${what} ${size} is not a uint64`);
  }
}

function checkBundleId(b: BundleId, maxWidth = TILE_WIDTH): void {
  if (b.index < 0n || b.index > MAX_UINT64) {
    throw new TlogError('invalid_argument', `tile index ${b.index} is not a uint64`);
  }
  if (!Number.isInteger(b.width) || b.width < 1 || b.width > maxWidth) {
    throw new TlogError('invalid_argument', `tile width ${b.width} is not in 1..${maxWidth}`);
  }
}

/** tileKey returns a short unique string for a tile (its path), for use as a map key. */
export function tileKey(tile: Tile): string {
  return formatTilePath(tile);
}

// formatIndex writes N as 3-digit groups, all but the last prefixed "x": 1234067 → x001/x234/067.
function formatIndex(index: bigint): string {
  const digits = index.toString();
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3) {
    groups.unshift(digits.slice(Math.max(0, end - 3), end).padStart(3, '0'));
  }
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

function formatSuffix(width: number): string {
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** formatTilePath returns `tile/<L>/<N>[.p/<W>]` (tlog-tiles "Merkle Tree"). */
export function formatTilePath(tile: Tile): string {
  if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > MAX_TILE_LEVEL) {
    throw new TlogError('invalid_argument', `tile level ${tile.level} is not in 0..${MAX_TILE_LEVEL}`);
  }
  checkBundleId(tile);
  return `tile/${tile.level}/${formatIndex(tile.index)}${formatSuffix(tile.width)}`;
}

/** formatEntriesPath returns `tile/entries/<N>[.p/<W>]` (tlog-tiles "Log entries"). */
export function formatEntriesPath(bundle: BundleId): string {
  checkBundleId(bundle);
  return `tile/entries/${formatIndex(bundle.index)}${formatSuffix(bundle.width)}`;
}

// The grammar of tlog-tiles "Merkle Tree": L without leading zeroes, N as x-prefixed 3-digit
// groups, W without leading zeroes. Ranges and canonical form are checked after the match.
const INDEX_RE = '((?:x[0-9]{3}/)*[0-9]{3})(?:\\.p/([1-9][0-9]{0,2}))?';
const TILE_PATH_RE = new RegExp(`^tile/(0|[1-9][0-9]?)/${INDEX_RE}$`);
const ENTRIES_PATH_RE = new RegExp(`^tile/entries/${INDEX_RE}$`);

// The longest valid path is about 50 characters ('tile/entries/' or 'tile/63/', seven groups for a
// uint64 index, '.p/255'); refusing long input first keeps BigInt parsing of hostile digits cheap.
const MAX_PATH_LENGTH = 64;

function checkPathLength(path: string): void {
  if (path.length > MAX_PATH_LENGTH) {
    throw new TlogError('malformed_tile', `tile path of ${path.length} characters is too long`);
  }
}

// parseIndexAndWidth checks the ranges the regular expressions cannot: N ≤ 2^64-1, W ≤ 255, and
// the canonical form (no "x000/" leading group), so every tile has exactly one path.
function parseIndexAndWidth(path: string, n: string, w: string | undefined): BundleId {
  const index = BigInt(n.replaceAll('x', '').replaceAll('/', ''));
  if (index > MAX_UINT64) throw new TlogError('malformed_tile', `tile path ${path}: index overflows uint64`);
  if (formatIndex(index) !== n) {
    throw new TlogError('malformed_tile', `tile path ${path}: index is not in canonical form`);
  }
  const width = w === undefined ? TILE_WIDTH : Number(w);
  if (w !== undefined && width > TILE_WIDTH - 1) throw new TlogError('malformed_tile', `tile path ${path}: width ${w} > 255`);
  return { index, width };
}

/**
 * parseTilePath parses `tile/<L>/<N>[.p/<W>]` strictly (tlog-tiles "Merkle Tree"): L in 0..63 with
 * no leading zeroes, N in canonical 3-digit groups within uint64, W in 1..255 with no leading
 * zeroes. Entry-bundle paths and Go sumdb paths (`tile/8/<L>/<N>`, with the height) are refused.
 */
export function parseTilePath(path: string): Tile {
  // path is attacker-controlled (an HTTP request path).
  checkPathLength(path);
  const m = TILE_PATH_RE.exec(path);
  if (m === null) throw new TlogError('malformed_tile', `not a tlog-tiles tile path: ${JSON.stringify(path)}`);
  const level = Number(m[1]);
  if (level > MAX_TILE_LEVEL) throw new TlogError('malformed_tile', `tile path ${path}: level > ${MAX_TILE_LEVEL}`);
  return { level, ...parseIndexAndWidth(path, m[2]!, m[3]) };
}

/** parseEntriesPath parses `tile/entries/<N>[.p/<W>]` with the rules of parseTilePath. */
export function parseEntriesPath(path: string): BundleId {
  // path is attacker-controlled (an HTTP request path).
  checkPathLength(path);
  const m = ENTRIES_PATH_RE.exec(path);
  if (m === null) throw new TlogError('malformed_tile', `not a tlog-tiles entries path: ${JSON.stringify(path)}`);
  return parseIndexAndWidth(path, m[1]!, m[2]);
}

/**
 * partialTileWidth returns the width of the partial tile at `level` for a tree of `size`:
 * floor(size / 256^level) mod 256 (tlog-tiles "Partial Tiles"); 0 means there is none.
 */
export function partialTileWidth(level: number, size: bigint): number {
  return Number((size >> (BigInt(level) * BIG_HEIGHT)) & (BIG_WIDTH - 1n));
}

/**
 * newTilesBetweenAtHeight lists the tiles, level by level, whose content differs between trees of
 * oldSize and newSize when tiles are `height` levels tall: new full tiles, and the new partial tile
 * of each level that gained hashes. Widths run up to 2^height. Vigil uses height 8 through
 * newTilesBetween; other heights exist only to check this arithmetic against Go sumdb's tables.
 */
export function* newTilesBetweenAtHeight(height: number, oldSize: bigint, newSize: bigint): Generator<Tile> {
  checkSize(oldSize, 'old tree size');
  checkSize(newSize, 'new tree size');
  if (oldSize > newSize) throw new TlogError('invalid_argument', `old size ${oldSize} > new size ${newSize}`);
  if (!Number.isInteger(height) || height < 1 || height > 30) {
    throw new TlogError('invalid_argument', `tile height ${height} is not in 1..30`);
  }
  const h = BigInt(height);
  for (let level = 0; newSize >> (BigInt(level) * h) > 0n; level++) {
    const oldNodes = oldSize >> (BigInt(level) * h);
    const newNodes = newSize >> (BigInt(level) * h);
    if (oldNodes === newNodes) continue; // nothing at this level changed
    for (let n = oldNodes >> h; n < newNodes >> h; n++) yield { level, index: n, width: 1 << height };
    const width = Number(newNodes & ((1n << h) - 1n));
    if (width > 0) yield { level, index: newNodes >> h, width };
  }
}

/** newTilesBetween lists the tiles a log writes when it grows from oldSize to newSize. */
export function newTilesBetween(oldSize: bigint, newSize: bigint): Generator<Tile> {
  return newTilesBetweenAtHeight(TILE_HEIGHT, oldSize, newSize);
}

/** tilesForSize lists every tile, full and partial, that exists for a tree of `size`. */
export function tilesForSize(size: bigint): Generator<Tile> {
  return newTilesBetweenAtHeight(TILE_HEIGHT, 0n, size);
}

/**
 * rightEdgeTiles returns the partial tiles of a tree of `size`, lowest level first: at most one per
 * level. Together they hold every subtree hash of the root (see rootFromRightEdge).
 */
export function rightEdgeTiles(size: bigint): Tile[] {
  checkSize(size, 'tree size');
  const tiles: Tile[] = [];
  for (let level = 0; size >> (BigInt(level) * BIG_HEIGHT) > 0n; level++) {
    const width = partialTileWidth(level, size);
    const index = size >> (BigInt(level + 1) * BIG_HEIGHT);
    if (width > 0) tiles.push({ level, index, width });
  }
  return tiles;
}

/**
 * rootFromRightEdge computes the root of a tree of `size` from its partial tiles' hashes, indexed by
 * level (`edge[l]` has exactly partialTileWidth(l, size) hashes; levels without one may be empty).
 * Writing size in base 256 as Σ d_l·256^l, each set bit j of d_l is a perfect subtree of height
 * 8l+j built from 2^j consecutive hashes of the level-l partial tile; every one of those hashes is
 * used, so the result commits to every hash of every edge tile.
 */
export function rootFromRightEdge(size: bigint, edge: readonly (readonly Hash[] | undefined)[]): Hash {
  checkSize(size, 'tree size');
  if (size === 0n) return EMPTY_ROOT;
  let levels = 0;
  while (size >> (BigInt(levels) * BIG_HEIGHT) > 0n) levels++;
  const subtrees: Hash[] = []; // left to right, largest first
  for (let level = levels - 1; level >= 0; level--) {
    const width = partialTileWidth(level, size);
    const hashes = edge[level] ?? [];
    if (hashes.length !== width) {
      throw new TlogError('invalid_argument', `edge level ${level} has ${hashes.length} hashes, want ${width}`);
    }
    let start = 0;
    for (let bit = TILE_HEIGHT - 1; bit >= 0; bit--) {
      if ((width & (1 << bit)) === 0) continue;
      subtrees.push(rootFromLeafHashes(hashes.slice(start, start + (1 << bit))));
      start += 1 << bit;
    }
  }
  // RFC 9162 §2.1.1: MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of two,
  // so the decreasing perfect subtrees fold from the right.
  let root = subtrees.pop()!;
  for (let s = subtrees.pop(); s !== undefined; s = subtrees.pop()) root = hashChildren(s, root);
  return root;
}

/**
 * tileForNode says which tile of a tree of `size` holds, or lets one compute, the node `id`. Node
 * (h, k) lives in tile level floor(h/8): at a multiple of 8 it is one tile hash; otherwise it is the
 * root of 2^(h mod 8) consecutive tile hashes (tlog-tiles: "the Merkle Tree levels between those
 * expressed by the tile hashes are reconstructed by hashing the leaves"). The tile is full if it is
 * complete at `size`, else the partial tile of that size. Throws 'invalid_argument' if the node is
 * not a complete subtree of the tree.
 */
export function tileForNode(id: NodeId, size: bigint): TileSlot {
  checkSize(size, 'tree size');
  if (!Number.isInteger(id.level) || id.level < 0 || id.level > 63 || id.index < 0n) {
    throw new TlogError('invalid_argument', `node (${id.level}, ${id.index}) is not a valid node id`);
  }
  if ((id.index + 1n) << BigInt(id.level) > size) {
    throw new TlogError('invalid_argument', `node (${id.level}, ${id.index}) is not in a tree of size ${size}`);
  }
  const level = Math.floor(id.level / TILE_HEIGHT);
  const shift = BigInt(id.level % TILE_HEIGHT);
  const first = id.index << shift; // index of the first covered node at tree level 8·level
  const index = first >> BIG_HEIGHT;
  const nodes = size >> (BigInt(level) * BIG_HEIGHT);
  const width = (index + 1n) * BIG_WIDTH <= nodes ? TILE_WIDTH : Number(nodes & (BIG_WIDTH - 1n));
  return { tile: { level, index, width }, start: Number(first & (BIG_WIDTH - 1n)), count: 1 << Number(shift) };
}

/** nodeHashFromTile computes the node a TileSlot names from the tile's hashes. */
export function nodeHashFromTile(hashes: readonly Hash[], start: number, count: number): Hash {
  if (start < 0 || count < 1 || start + count > hashes.length) {
    throw new TlogError('invalid_argument', `slot [${start}, ${start + count}) is outside a tile of ${hashes.length}`);
  }
  return count === 1 ? hashes[start]! : rootFromLeafHashes(hashes.slice(start, start + count));
}

/**
 * parseTileData splits a tile's bytes into its hashes. The length must be exactly 32·width
 * ('malformed_tile' otherwise). The hashes are copies, independent of `data`.
 */
export function parseTileData(data: Uint8Array, width: number): Hash[] {
  // data is attacker-controlled when the tile was fetched from a log or mirror.
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new TlogError('invalid_argument', `tile width ${width} is not in 1..${TILE_WIDTH}`);
  }
  if (data.length !== width * HASH_SIZE) {
    throw new TlogError('malformed_tile', `tile of width ${width} has ${data.length} bytes, want ${width * HASH_SIZE}`);
  }
  const hashes: Hash[] = [];
  for (let i = 0; i < width; i++) hashes.push(data.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return hashes;
}

/** formatTileData concatenates 1..256 hashes into a tile's bytes. */
export function formatTileData(hashes: readonly Hash[]): Uint8Array {
  if (hashes.length < 1 || hashes.length > TILE_WIDTH) {
    throw new TlogError('invalid_argument', `a tile holds 1..${TILE_WIDTH} hashes, not ${hashes.length}`);
  }
  const data = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE) throw new TlogError('invalid_argument', `tile hash ${i} is not 32 bytes`);
    data.set(h, i * HASH_SIZE);
  });
  return data;
}
