// The log's read side, for the HTTP layer: the latest checkpoint, tiles and entry bundles (C2SP
// tlog-tiles, served for every checkpointed size and never with another width than asked), entries
// with inclusion proofs, and consistency proofs. Arguments are checked with precise errors
// ('invalid_argument' → 400, 'not_found' → 404); a tile or bundle that does not exist is undefined.
import type { Queryable } from '../platform/db.ts';
import { encodeEntryBundle, parseEntryBundle } from '../tlog/entry-bundle.ts';
import { MAX_UINT64, isHash, type Hash } from '../tlog/merkle.ts';
import { proveConsistency, proveInclusion, treeRoot } from '../tlog/proof.ts';
import { MAX_TILE_LEVEL, TILE_HEIGHT, TILE_WIDTH, partialTileWidth } from '../tlog/tile.ts';
import { LogError } from './errors.ts';
import { hasCheckpointBetween, readEntry, readEntryByLeafHash, type EntryRef } from './store.ts';
import type { TileCache } from './tile-cache.ts';
import { readBundle, readTiles } from './tile-store.ts';

/** LatestCheckpoint is the newest signed checkpoint: its note, size and root. */
export interface LatestCheckpoint {
  checkpoint: string;
  size: bigint;
  root: Hash;
}

/** ReadDeps is what the read functions need; log.ts provides them. */
export interface ReadDeps {
  db: Queryable;
  cache: TileCache;
  /** latest returns the newest committed checkpoint (from memory on the sequencer, else the database). */
  latest(): Promise<LatestCheckpoint>;
}

/** InclusionProof proves an entry against a checkpoint. */
export interface InclusionProof extends LatestCheckpoint {
  inclusionProof: Hash[];
}

/** EntryWithProof is a stored entry, its exact body and its inclusion proof against `checkpoint`. */
export interface EntryWithProof extends EntryRef, InclusionProof {
  body: Uint8Array;
}

/** ConsistencyProof proves that the tree of firstSize is a prefix of the tree of lastSize. */
export interface ConsistencyProof {
  firstSize: bigint;
  lastSize: bigint;
  /** lastRoot is the root of the tree of lastSize. */
  lastRoot: Hash;
  proof: Hash[];
  /** checkpoint is the latest checkpoint note when the proof was made. */
  checkpoint: string;
}

function invalid(message: string): LogError {
  return new LogError('invalid_argument', message);
}

function checkIndex(v: bigint, what: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > MAX_UINT64) throw invalid(`${what} ${String(v)} is not a uint64`);
}

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) throw invalid(`width ${width} is not in 1..${TILE_WIDTH}`);
}

/** getCheckpoint returns the latest signed checkpoint. */
export function getCheckpoint(r: ReadDeps): Promise<LatestCheckpoint> {
  return r.latest();
}

/**
 * isPublished reports whether the tile (level, index, width) exists: a full tile the tree has
 * completed, or the partial tile of a size that was checkpointed (tlog-tiles "Partial Tiles").
 */
async function isPublished(r: ReadDeps, level: number, index: bigint, width: number): Promise<boolean> {
  const { size } = await r.latest();
  const shift = BigInt(level * TILE_HEIGHT);
  const nodes = size >> shift; // hashes at tile level `level` in the latest tree
  const first = index * BigInt(TILE_WIDTH); // the tile's first hash
  if (width === TILE_WIDTH) return first + BigInt(TILE_WIDTH) <= nodes;
  if (first + BigInt(width) > nodes) return false;
  if (nodes >> BigInt(TILE_HEIGHT) === index && partialTileWidth(level, size) === width) return true; // the latest edge
  // Some checkpointed size s has exactly `first + width` hashes at this level.
  return hasCheckpointBetween(r.db, (first + BigInt(width)) << shift, (first + BigInt(width) + 1n) << shift);
}

/**
 * getTile returns the bytes of tile/<level>/<index>[.p/<width>] (width 256 = full), or undefined if
 * that tile does not exist. Throws 'invalid_argument' for coordinates outside tlog-tiles' ranges.
 */
export async function getTile(r: ReadDeps, level: number, index: bigint, width: number): Promise<Uint8Array | undefined> {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL) throw invalid(`tile level ${level} is not in 0..${MAX_TILE_LEVEL}`);
  checkIndex(index, 'tile index');
  checkWidth(width);
  if (!(await isPublished(r, level, index, width))) return undefined;
  const [row] = await readTiles(r.db, [{ level, index }]);
  if (row === undefined || row.width < width) return undefined;
  return row.width === width ? row.data : row.data.slice(0, width * 32);
}

/**
 * getEntryBundle returns the bytes of tile/entries/<index>[.p/<width>], or undefined if that bundle
 * does not exist. Throws 'invalid_argument' for out-of-range coordinates.
 */
export async function getEntryBundle(r: ReadDeps, index: bigint, width: number): Promise<Uint8Array | undefined> {
  checkIndex(index, 'bundle index');
  checkWidth(width);
  if (!(await isPublished(r, 0, index, width))) return undefined;
  const row = await readBundle(r.db, index);
  if (row === undefined || row.width < width) return undefined;
  // An older checkpoint's partial bundle is the first `width` entries of the stored one.
  return row.width === width ? row.data : encodeEntryBundle(parseEntryBundle(row.data, row.width).slice(0, width));
}

/** proveEntry returns the inclusion proof of entry `index` against the latest checkpoint. */
export async function proveEntry(r: ReadDeps, index: bigint): Promise<InclusionProof> {
  const latest = await r.latest();
  if (index >= latest.size) throw new LogError('not_found', `entry ${index} is not in the tree of size ${latest.size}`);
  return { ...latest, inclusionProof: await proveInclusion(index, latest.size, r.cache.reader(latest.size)) };
}

/** getEntryByIndex returns entry `index` with its proof; 'not_found' if index ≥ the tree size. */
export async function getEntryByIndex(r: ReadDeps, index: bigint): Promise<EntryWithProof> {
  checkIndex(index, 'entry index');
  const proof = await proveEntry(r, index);
  const entry = await readEntry(r.db, index);
  if (entry === undefined) throw new LogError('not_found', `entry ${index} is not stored`);
  return { ...entry, ...proof };
}

/** getEntryByLeafHash returns the entry with this RFC 6962 leaf hash and its proof, or undefined. */
export async function getEntryByLeafHash(r: ReadDeps, leafHash: Hash): Promise<EntryWithProof | undefined> {
  if (!isHash(leafHash)) throw invalid('a leaf hash is 32 bytes');
  // The entry first: the checkpoint read afterwards is at least as new as the entry.
  const entry = await readEntryByLeafHash(r.db, leafHash);
  if (entry === undefined) return undefined;
  return { ...entry, ...(await proveEntry(r, entry.index)) };
}

/**
 * getConsistencyProof proves the tree of firstSize a prefix of the tree of lastSize, for
 * 1 ≤ firstSize ≤ lastSize ≤ the latest size ('invalid_argument' otherwise).
 */
export async function getConsistencyProof(r: ReadDeps, firstSize: bigint, lastSize: bigint): Promise<ConsistencyProof> {
  checkIndex(firstSize, 'first size');
  checkIndex(lastSize, 'last size');
  if (firstSize < 1n) throw invalid('first size must be at least 1: a proof from the empty tree is meaningless');
  if (firstSize > lastSize) throw invalid(`first size ${firstSize} is larger than last size ${lastSize}`);
  const latest = await r.latest();
  if (lastSize > latest.size) throw invalid(`last size ${lastSize} is larger than the tree size ${latest.size}`);
  const reader = r.cache.reader(lastSize);
  const [proof, lastRoot] = await Promise.all([proveConsistency(firstSize, lastSize, reader), treeRoot(lastSize, reader)]);
  return { firstSize, lastSize, lastRoot, proof, checkpoint: latest.checkpoint };
}
