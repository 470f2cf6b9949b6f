// An authenticated HashReader over tiles fetched from an untrusted log or mirror (DESIGN.md,
// "Reading tiles safely"). Every tile is checked before any of its hashes is used:
//  - the right-edge (partial) tiles of the checkpoint's size must recombine to the signed root
//    (rootFromRightEdge uses every hash they hold, so one changed bit changes the root);
//  - a full tile at level l must hash to its parent, the node at tree level 8(l+1), which is read,
//    and therefore authenticated, the same way, up to the right edge.
// Go's x/mod TileHashReader is deliberately not ported: its loop skips some tiles when several of
// the root's subtree hashes sit in one tile, so a flipped byte in such a tile went unnoticed.
import { parseEntryBundle } from './entry-bundle.ts';
import { TlogError } from './errors.ts';
import {
  equalBytes,
  hashLeaf,
  isHash,
  MAX_UINT64,
  rootFromLeafHashes,
  type Hash,
  type HashReader,
  type NodeId,
} from './merkle.ts';
import {
  TILE_HEIGHT,
  TILE_WIDTH,
  formatEntriesPath,
  nodeHashFromTile,
  parseTileData,
  rightEdgeTiles,
  rootFromRightEdge,
  tileForNode,
  tileKey,
  type BundleId,
  type Tile,
} from './tile.ts';

/**
 * FetchTile returns the bytes of one tile, exactly as served at formatTilePath(tile). Contract: it
 * may return anything (the reader authenticates it), and its errors (network, 404) propagate
 * unchanged to the reader's caller, who decides whether to retry. A fetcher that falls back to
 * the full tile when a partial one is gone (tlog-tiles "Partial Tiles") must cut it to 32·width
 * bytes itself; the reader refuses any other length.
 */
export type FetchTile = (tile: Tile) => Promise<Uint8Array>;

/** TileHashReaderOptions tunes the reader's cache. */
export interface TileHashReaderOptions {
  /** maxCachedTiles bounds the authenticated full tiles kept in memory (8 KiB each); default 1024. */
  maxCachedTiles?: number;
}

/** DEFAULT_MAX_CACHED_TILES is the default bound of TileHashReader's full-tile cache (8 MiB). */
export const DEFAULT_MAX_CACHED_TILES = 1024;

/** VerifiedTreeHead is the part of a verified checkpoint the reader needs. */
export interface VerifiedTreeHead {
  size: bigint;
  root: Hash;
}

/**
 * TileHashReader reads tree hashes for one verified checkpoint from tiles served by an untrusted
 * source, authenticating every tile it uses against the checkpoint's root before returning any
 * hash from it. It throws TlogError 'invalid_tile' (naming the tile) when a tile does not
 * authenticate, 'malformed_tile' when one has the wrong length, and 'invalid_argument' for a node
 * that is not a complete subtree of the checkpoint's tree. Concurrent reads share fetches;
 * authenticated tiles are cached (edge tiles for the reader's life, full tiles up to
 * maxCachedTiles, least recently used first out). A failed tile is not cached, so a retry fetches
 * it again.
 */
export class TileHashReader implements HashReader {
  readonly size: bigint;
  readonly root: Hash;
  private readonly fetchTile: FetchTile;
  private readonly maxCachedTiles: number;
  private edge: Promise<Map<number, Hash[]>> | undefined;
  private readonly cache = new Map<string, Promise<Hash[]>>();

  constructor(head: VerifiedTreeHead, fetchTile: FetchTile, options: TileHashReaderOptions = {}) {
    if (head.size < 0n || head.size > MAX_UINT64) {
      throw new TlogError('invalid_argument', `tree size ${head.size} is not a uint64`);
    }
    if (!isHash(head.root)) throw new TlogError('invalid_argument', 'checkpoint root is not a 32-byte hash');
    const max = options.maxCachedTiles ?? DEFAULT_MAX_CACHED_TILES;
    if (!Number.isInteger(max) || max < 1) throw new TlogError('invalid_argument', `maxCachedTiles ${max} must be ≥ 1`);
    this.size = head.size;
    this.root = head.root.slice();
    this.fetchTile = fetchTile;
    this.maxCachedTiles = max;
  }

  /** readHashes returns the authenticated hashes of complete subtrees, in request order. */
  async readHashes(ids: readonly NodeId[]): Promise<Hash[]> {
    return Promise.all(ids.map((id) => this.readNode(id)));
  }

  /**
   * readTileHashes returns the authenticated hashes of one tile that exists at this size, for
   * example a level-0 tile (leaf hashes) that a monitor checks entries against.
   */
  async readTileHashes(tile: Tile): Promise<Hash[]> {
    // The tile holding node (8·level, index·256) is the one asked for, or the reader would fetch
    // a tile of another width than the one this checkpoint implies.
    const slot = tileForNode({ level: tile.level * TILE_HEIGHT, index: tile.index * BigInt(TILE_WIDTH) }, this.size);
    if (slot.tile.width !== tile.width) {
      throw new TlogError('invalid_argument', `${tileKey(tile)} is not a tile of the tree of size ${this.size}`);
    }
    // Copies: the cached, authenticated hashes must not be changed through a returned view.
    return (await this.authenticatedTile(slot.tile)).map((h) => h.slice());
  }

  /**
   * verifyEntryBundle parses a bundle (attacker-controlled bytes) and checks that each entry's
   * RFC 6962 leaf hash equals the matching hash of the authenticated level-0 tile of this size. It
   * returns the verified entries; 'malformed_bundle' or 'invalid_tile' otherwise.
   */
  async verifyEntryBundle(bundle: BundleId, data: Uint8Array): Promise<Uint8Array[]> {
    const entries = parseEntryBundle(data, bundle.width);
    const leafHashes = await this.readTileHashes({ level: 0, ...bundle });
    verifyEntriesAgainstTile(entries, leafHashes, formatEntriesPath(bundle));
    return entries;
  }

  private async readNode(id: NodeId): Promise<Hash> {
    const slot = tileForNode(id, this.size);
    const hashes = await this.authenticatedTile(slot.tile);
    return nodeHashFromTile(hashes, slot.start, slot.count).slice(); // a copy, as in readTileHashes
  }

  private authenticatedTile(tile: Tile): Promise<Hash[]> {
    if (tile.width < TILE_WIDTH) return this.edgeTile(tile);
    const key = tileKey(tile);
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.cache.delete(key); // refresh its place in the LRU order
      this.cache.set(key, hit);
      return hit;
    }
    const p = this.authenticateFullTile(tile);
    this.cache.set(key, p);
    p.catch(() => {
      if (this.cache.get(key) === p) this.cache.delete(key);
    });
    if (this.cache.size > this.maxCachedTiles) this.cache.delete(this.cache.keys().next().value!);
    return p;
  }

  // authenticateFullTile checks that the full tile (l, n) hashes to node (8(l+1), n), the entry
  // that stands for it in its parent tile (tlog-tiles "Merkle Tree"); reading that node
  // authenticates the parent tile first, recursively up to the right edge.
  private async authenticateFullTile(tile: Tile): Promise<Hash[]> {
    const parentId: NodeId = { level: (tile.level + 1) * TILE_HEIGHT, index: tile.index };
    const [data, expected] = await Promise.all([this.fetchTile(tile), this.readNode(parentId)]);
    const hashes = parseFetched(tile, data);
    if (!equalBytes(rootFromLeafHashes(hashes), expected)) {
      const parent = tileForNode(parentId, this.size);
      throw new TlogError(
        'invalid_tile',
        `${tileKey(tile)} does not hash to entry ${parent.start} of ${tileKey(parent.tile)} (tree size ${this.size})`,
      );
    }
    return hashes;
  }

  private async edgeTile(tile: Tile): Promise<Hash[]> {
    if (this.edge === undefined) {
      const p = this.authenticateEdge();
      this.edge = p;
      p.catch(() => {
        if (this.edge === p) this.edge = undefined;
      });
    }
    const hashes = (await this.edge).get(tile.level);
    if (hashes === undefined || hashes.length !== tile.width) {
      throw new TlogError('invalid_argument', `${tileKey(tile)} is not a partial tile of the tree of size ${this.size}`);
    }
    return hashes;
  }

  // authenticateEdge fetches every partial tile of this size and checks that together they
  // recombine to the signed root (each of their hashes is part of that computation).
  private async authenticateEdge(): Promise<Map<number, Hash[]>> {
    const tiles = rightEdgeTiles(this.size);
    const data = await Promise.all(tiles.map((t) => this.fetchTile(t)));
    const levels: Hash[][] = [];
    const byLevel = new Map<number, Hash[]>();
    tiles.forEach((t, i) => {
      const hashes = parseFetched(t, data[i]!);
      levels[t.level] = hashes;
      byLevel.set(t.level, hashes);
    });
    if (!equalBytes(rootFromRightEdge(this.size, levels), this.root)) {
      throw new TlogError(
        'invalid_tile',
        `right-edge tiles ${tiles.map(tileKey).join(', ')} do not recombine to the root of the checkpoint of size ${this.size}`,
      );
    }
    return byLevel;
  }
}

// parseFetched parses fetched tile bytes, naming the tile in the error.
function parseFetched(tile: Tile, data: Uint8Array): Hash[] {
  // data is attacker-controlled: whatever the log or mirror served.
  try {
    return parseTileData(data, tile.width);
  } catch (err) {
    throw new TlogError('malformed_tile', `${tileKey(tile)}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * verifyEntriesAgainstTile checks that hashLeaf(entries[i]) equals leafHashes[i] for every i, and
 * that the counts match: a monitor's check of an entry bundle against an authenticated level-0
 * tile (tlog-tiles "Log entries": "each entry in a bundle hashes to the corresponding entry in the
 * corresponding level 0 tile"). `what` names the bundle in the error ('invalid_tile').
 */
export function verifyEntriesAgainstTile(
  entries: readonly Uint8Array[],
  leafHashes: readonly Hash[],
  what = 'entry bundle',
): void {
  if (entries.length !== leafHashes.length) {
    throw new TlogError('invalid_tile', `${what} has ${entries.length} entries but its level-0 tile has ${leafHashes.length}`);
  }
  entries.forEach((entry, i) => {
    if (!equalBytes(hashLeaf(entry), leafHashes[i]!)) {
      throw new TlogError('invalid_tile', `${what}: entry ${i} does not hash to leaf hash ${i} of its level-0 tile`);
    }
  });
}
