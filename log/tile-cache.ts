// An in-memory cache of the log's own tiles that serves HashReaders for proofs, so that building an
// inclusion proof costs no database round trip in the common case and at most one otherwise. The
// tiles come from the log's own store (trusted: loadLog checked the stored state against the signed
// root, and the sequencer writes them), so they are not re-authenticated here.
import { TlogError } from '../tlog/errors.ts';
import { HASH_SIZE, hashChildren, type Hash, type HashReader, type NodeId } from '../tlog/merkle.ts';
import { TILE_HEIGHT, TILE_WIDTH, tileForNode, type TileSlot } from '../tlog/tile.ts';
import type { StoredTile, TilePosition } from './tile-store.ts';

/** FetchTiles reads the stored rows at some tile positions in one query (missing ones left out). */
export type FetchTiles = (positions: TilePosition[]) => Promise<StoredTile[]>;

/** DEFAULT_MAX_CACHED_TILES bounds the full tiles kept (≤ 16 KiB each with their inner nodes). */
export const DEFAULT_MAX_CACHED_TILES = 2048;

// CachedTile is one tile position at its widest known width. inner[j] (1 ≤ j ≤ 8), computed on
// first use, holds the floor(width / 2^j) complete subtree hashes of height j inside the tile, so
// that a proof node in the middle of a tile costs a lookup instead of up to 127 hashes.
interface CachedTile {
  width: number;
  data: Uint8Array;
  inner: Uint8Array[] | undefined;
}

function positionKey(level: number, index: bigint): string {
  return `${level}/${index}`;
}

/**
 * TileCache keeps the right-edge (partial) tiles of every level and, least recently used first
 * out, up to maxTiles full tiles. Since the tree only grows, the widest version of a tile position
 * serves every smaller tree: reader(size) answers for any size up to the largest stored one.
 * Not shared across processes; concurrent readers may fetch the same missing tile twice, which is
 * harmless.
 */
export class TileCache {
  readonly #fetch: FetchTiles;
  readonly #maxTiles: number;
  // Full tiles in LRU order, keyed by position; partial tiles by level, then index.
  readonly #full = new Map<string, CachedTile>();
  #fullByLevel: Map<bigint, CachedTile>[] = [];
  #partial: Map<bigint, CachedTile>[] = [];
  #lastTouched: CachedTile | undefined;

  constructor(fetch: FetchTiles, maxTiles = DEFAULT_MAX_CACHED_TILES) {
    if (!Number.isInteger(maxTiles) || maxTiles < 1) throw new RangeError(`maxTiles ${maxTiles} must be ≥ 1`);
    this.#fetch = fetch;
    this.#maxTiles = maxTiles;
  }

  /** put records a tile just written or read; a narrower tile than the cached one is ignored. */
  put(tile: StoredTile): void {
    this.#store(tile);
  }

  // store caches a tile and returns the entry that now stands for its position (a wider one wins).
  #store(tile: StoredTile): CachedTile {
    if (tile.data.length !== tile.width * HASH_SIZE) throw new RangeError(`tile data of width ${tile.width} has ${tile.data.length} bytes`);
    const entry: CachedTile = { width: tile.width, data: tile.data, inner: undefined };
    const full = (this.#fullByLevel[tile.level] ??= new Map());
    const partial = (this.#partial[tile.level] ??= new Map());
    if (tile.width === TILE_WIDTH) {
      partial.delete(tile.index);
      const key = positionKey(tile.level, tile.index);
      this.#full.delete(key);
      this.#full.set(key, entry);
      full.set(tile.index, entry);
      if (this.#full.size > this.#maxTiles) this.#evictOldest();
      return entry;
    }
    const have = full.get(tile.index) ?? partial.get(tile.index);
    if (have !== undefined && have.width >= tile.width) return have;
    partial.set(tile.index, entry);
    return entry;
  }

  #evictOldest(): void {
    const key = this.#full.keys().next().value!;
    this.#full.delete(key);
    const [level, index] = key.split('/');
    this.#fullByLevel[Number(level)]?.delete(BigInt(index!));
  }

  /** clear forgets every tile (after the state was reloaded from the database). */
  clear(): void {
    this.#full.clear();
    this.#fullByLevel = [];
    this.#partial = [];
  }

  /** size is the number of cached tiles, full and partial. */
  get size(): number {
    return this.#full.size + this.#partial.reduce((n, m) => n + m.size, 0);
  }

  /**
   * reader returns a HashReader over the tree of `size` (any size the store has reached). For the
   * sequencer's checks inside its transaction, tiles in `overlay` (written, not yet committed, so not
   * cached) take precedence, and `fetch` replaces the cache's own: it must read through that
   * transaction (PGlite runs one statement at a time, so a read outside it would wait forever).
   */
  reader(size: bigint, overlay: readonly StoredTile[] = [], fetch: FetchTiles = this.#fetch): HashReader {
    const over = new Map(overlay.map((t) => [positionKey(t.level, t.index), { width: t.width, data: t.data, inner: undefined }]));
    return { readHashes: (ids) => this.#readHashes(ids, size, over, fetch) };
  }

  #get(level: number, index: bigint, minWidth: number, over?: Map<string, CachedTile>): CachedTile | undefined {
    if (over !== undefined && over.size > 0) {
      const o = over.get(positionKey(level, index));
      if (o !== undefined && o.width >= minWidth) return o;
    }
    const full = this.#fullByLevel[level]?.get(index);
    if (full !== undefined) {
      this.#touch(level, index, full);
      return full;
    }
    const partial = this.#partial[level]?.get(index);
    return partial !== undefined && partial.width >= minWidth ? partial : undefined;
  }

  // touch moves a full tile to the recent end of the LRU order, unless it is there already.
  #touch(level: number, index: bigint, t: CachedTile): void {
    if (this.#lastTouched === t) return;
    this.#lastTouched = t;
    const key = positionKey(level, index);
    this.#full.delete(key);
    this.#full.set(key, t);
  }

  async #readHashes(ids: readonly NodeId[], size: bigint, over: Map<string, CachedTile>, fetch: FetchTiles): Promise<Hash[]> {
    const slots = ids.map((id) => tileForNode(id, size));
    // Tiles are resolved once per slot, so evictions while fetching cannot lose one.
    const tiles = slots.map((s) => this.#get(s.tile.level, s.tile.index, s.tile.width, over));
    const missing = new Map<string, TilePosition>();
    slots.forEach((s, i) => {
      if (tiles[i] === undefined) missing.set(positionKey(s.tile.level, s.tile.index), { level: s.tile.level, index: s.tile.index });
    });
    if (missing.size > 0) {
      const fetched = new Map<string, CachedTile>();
      for (const t of await fetch([...missing.values()])) fetched.set(positionKey(t.level, t.index), this.#store(t));
      slots.forEach((s, i) => {
        const t = fetched.get(positionKey(s.tile.level, s.tile.index));
        if (tiles[i] === undefined && t !== undefined && t.width >= s.tile.width) tiles[i] = t;
      });
    }
    return slots.map((slot, i) => nodeFromSlot(tiles[i], slot));
  }
}

function nodeFromSlot(t: CachedTile | undefined, slot: TileSlot): Hash {
  if (t === undefined) {
    throw new TlogError('missing_hash', `tile ${slot.tile.level}/${slot.tile.index} of width ≥ ${slot.tile.width} is not stored`);
  }
  const height = Math.log2(slot.count);
  const at = slot.start >> height;
  const row = height === 0 ? t.data : innerLevels(t)[height - 1]!;
  return row.slice(at * HASH_SIZE, (at + 1) * HASH_SIZE);
}

// innerLevels computes, once per tile version, the complete subtrees of heights 1..8 in the tile.
function innerLevels(t: CachedTile): Uint8Array[] {
  if (t.inner !== undefined) return t.inner;
  const inner: Uint8Array[] = [];
  let below = t.data;
  for (let j = 1; j <= TILE_HEIGHT; j++) {
    const n = below.length / HASH_SIZE >> 1;
    const row = new Uint8Array(n * HASH_SIZE);
    for (let k = 0; k < n; k++) {
      const left = below.subarray(2 * k * HASH_SIZE, (2 * k + 1) * HASH_SIZE);
      const right = below.subarray((2 * k + 1) * HASH_SIZE, (2 * k + 2) * HASH_SIZE);
      row.set(hashChildren(left, right), k * HASH_SIZE);
    }
    inner.push(row);
    below = row;
  }
  t.inner = inner;
  return inner;
}
