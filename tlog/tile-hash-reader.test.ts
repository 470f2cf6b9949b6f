// The reader's job is to refuse tiles that do not match a verified checkpoint (DESIGN.md,
// "Reading tiles safely"). The key test builds a 70,000-leaf tree (three tile levels; the root's six
// subtree hashes sit in three partial tiles, the case Go's x/mod TileHashReader gets wrong), serves
// its tiles from a Map, and flips one byte in every tile the reader can use.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCheckpoint } from './checkpoint.ts';
import { CompactRange } from './compact-range.ts';
import { MemoryHashStore } from './memory-hash-store.ts';
import { EMPTY_ROOT, hashLeaf, type Hash, type NodeId } from './merkle.ts';
import { proveConsistency, proveInclusion, treeRoot, verifyConsistency, verifyInclusion } from './proof.ts';
import { sha256 } from './sha256.ts';
import { formatTilePath, rightEdgeTiles, tileForNode, tilesForSize, type Tile } from './tile.ts';
import { TileHashReader, verifyEntriesAgainstTile, type FetchTile } from './tile-hash-reader.ts';
import { EMPTY_TILE_EDGE, appendLeafHashes } from './tile-writer.ts';
import { b64, describeVectors, hex, readVectorBytes, readVectorJson, readVectorText, vectorPath } from '../test/vectors.ts';
import { flipBit } from '../test/bytes.ts';
import { expectTlogRejection, rejectionOf } from '../test/tlog-errors.ts';
import { indexLeafHashes } from '../test/trees.ts';

const SIZE = 70_000;
// Checkpoints published while the tree grew; the store keeps the partial tiles of each.
const CHECKPOINTS = [1, 2, 3, 255, 256, 257, 511, 4096, 65_535, 65_536, 65_537, 69_888, SIZE];

function buildLog(): { store: Map<string, Uint8Array>; roots: Map<number, Hash>; hashes: MemoryHashStore } {
  const leaves = indexLeafHashes(SIZE);
  const store = new Map<string, Uint8Array>();
  const roots = new Map<number, Hash>();
  const range = new CompactRange();
  let edge = EMPTY_TILE_EDGE;
  for (const size of CHECKPOINTS) {
    const batch = leaves.slice(Number(edge.size), size);
    const out = appendLeafHashes(edge, batch);
    for (const w of out.tiles) store.set(formatTilePath(w.tile), w.data);
    for (const h of batch) range.append(h);
    roots.set(size, range.root());
    edge = out.edge;
  }
  return { store, roots, hashes: new MemoryHashStore(leaves) };
}

const { store, roots, hashes } = buildLog();

// serve returns a fetcher over the store, with optional per-path replacements, counting fetches.
function serve(replace: Map<string, Uint8Array> = new Map(), counts = new Map<string, number>()): FetchTile {
  return async (tile: Tile) => {
    const path = formatTilePath(tile);
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const data = replace.get(path) ?? store.get(path);
    if (data === undefined) throw new Error(`404 ${path}`);
    return data.slice();
  };
}

function readerAt(size: number, fetch: FetchTile = serve()): TileHashReader {
  return new TileHashReader({ size: BigInt(size), root: roots.get(size)! }, fetch);
}

// flipped replaces the tile at `path` with a copy whose byte `byte` has its low bit flipped.
function flipped(path: string, byte: number): Map<string, Uint8Array> {
  return new Map([[path, flipBit(store.get(path)!, byte * 8)]]);
}

describe('TileHashReader over a 70,000-leaf tree (three tile levels)', () => {
  it('the tree has the tiles the spec lists, and its right edge holds the six subtree hashes', () => {
    expect(rightEdgeTiles(70_000n).map(formatTilePath)).toEqual(['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1']);
    for (const t of tilesForSize(70_000n)) expect(store.has(formatTilePath(t)), formatTilePath(t)).toBe(true);
  });

  it('reads the same hashes as an in-memory store, at every checkpoint', async () => {
    for (const size of CHECKPOINTS) {
      const reader = readerAt(size);
      const ids: NodeId[] = [];
      for (let level = 0; 2 ** level <= size; level++) {
        const count = Math.floor(size / 2 ** level);
        for (const i of new Set([0, count >> 1, count - 1, (count * 7) >> 3])) ids.push({ level, index: BigInt(i) });
      }
      expect(await reader.readHashes(ids), `size ${size}`).toEqual(await hashes.readHashes(ids));
      expect(await treeRoot(BigInt(size), reader)).toEqual(roots.get(size));
    }
  });

  it('(a) inclusion and consistency proofs built through the reader verify against the signed roots', async () => {
    for (const size of CHECKPOINTS) {
      const reader = readerAt(size);
      const root = roots.get(size)!;
      for (const index of new Set([0, 1, size >> 1, size - 256, size - 2, size - 1].filter((i) => i >= 0 && i < size))) {
        const proof = await proveInclusion(BigInt(index), BigInt(size), reader);
        expect(proof).toEqual(await proveInclusion(BigInt(index), BigInt(size), hashes));
        const [leaf] = await hashes.readHashes([{ level: 0, index: BigInt(index) }]);
        verifyInclusion(leaf!, BigInt(index), BigInt(size), proof, root);
      }
      for (const old of CHECKPOINTS.filter((s) => s <= size)) {
        const proof = await proveConsistency(BigInt(old), BigInt(size), reader);
        verifyConsistency(BigInt(old), BigInt(size), roots.get(old)!, root, proof);
      }
    }
  });

  // (b) For every tile of the tree at 70,000 and sampled hashes in it (all of them in the edge tiles
  // and in the full level-1 tile), flip one bit of one byte; a fresh reader must throw
  // 'invalid_tile' when asked for that hash, for another hash of the same tile, and for a proof
  // through it, never answer.
  it('(b) one flipped byte in ANY tile, full or partial, at any level, makes the reader throw invalid_tile', async () => {
    let cases = 0;
    for (const tile of tilesForSize(70_000n)) {
      const path = formatTilePath(tile);
      const every = tile.width < 256 || tile.level === 1;
      const entries = every ? [...Array(tile.width).keys()] : [(Number(tile.index) * 37) % 256, 255];
      for (const entry of entries) {
        const byte = entry * 32 + ((entry * 13 + Number(tile.index)) % 32);
        const reader = readerAt(SIZE, serve(flipped(path, byte)));
        const node = { level: 8 * tile.level, index: tile.index * 256n + BigInt(entry) };
        const other = { level: 8 * tile.level, index: tile.index * 256n + BigInt((entry + 1) % tile.width) };
        await expectTlogRejection(reader.readHashes([node]), 'invalid_tile', path);
        // The same reader again (a failure is not cached as a success), for another hash of the tile.
        await expectTlogRejection(reader.readHashes([other]), 'invalid_tile', path);
        cases++;
      }
      // A proof for a leaf under this tile goes through it (or through the edge tiles).
      const leaf = tile.index * 256n ** BigInt(tile.level + 1);
      await expectTlogRejection(proveInclusion(leaf, 70_000n, readerAt(SIZE, serve(flipped(path, 5)))), 'invalid_tile');
    }
    expect(cases).toBe(273 * 2 + 256 + 112 + 17 + 1);
  });

  it('(b) the edge tiles of every checkpoint are covered by its root (every byte of narrow tiles, sampled hashes of wide ones)', async () => {
    for (const size of CHECKPOINTS) {
      for (const tile of rightEdgeTiles(BigInt(size))) {
        const path = formatTilePath(tile);
        const bytes = tile.width <= 2 ? [...Array(tile.width * 32).keys()] : [0, 1, 2, 17, 64, 100, tile.width - 1].map((e) => Math.min(e, tile.width - 1) * 32 + (e % 32));
        for (const byte of bytes) {
          const reader = readerAt(size, serve(flipped(path, byte)));
          await expectTlogRejection(reader.readHashes([{ level: 0, index: 0n }]), 'invalid_tile', path);
        }
      }
    }
  });

  it('refuses tiles moved from another position or taken from another tree', async () => {
    const moved = new Map([['tile/0/002', store.get('tile/0/001')!]]);
    await expectTlogRejection(readerAt(SIZE, serve(moved)).readHashes([{ level: 0, index: 600n }]), 'invalid_tile', 'tile/0/002');
    // An older, genuine partial tile served in place of the current one.
    const stale = new Map([['tile/1/001.p/17', store.get('tile/1/000')!.subarray(0, 17 * 32)]]);
    await expectTlogRejection(readerAt(SIZE, serve(stale)).readHashes([{ level: 0, index: 0n }]), 'invalid_tile');
    // A whole consistent tree of the same size with one other leaf: right tiles, wrong root.
    const fork = new TileHashReader({ size: 70_000n, root: roots.get(65_536)! }, serve());
    await expectTlogRejection(fork.readHashes([{ level: 0, index: 0n }]), 'invalid_tile');
  });

  it('refuses tiles of the wrong length as malformed_tile', async () => {
    const full = store.get('tile/0/005')!;
    const edge = store.get('tile/0/273.p/112')!;
    const cases: Array<[string, Uint8Array]> = [
      ['tile/0/005', full.subarray(0, full.length - 1)],
      ['tile/0/005', Uint8Array.of(...full, 0)],
      ['tile/0/273.p/112', edge.subarray(0, 32 * 111)],
      ['tile/0/273.p/112', new Uint8Array(8192)], // a full tile where a partial one was asked for
      ['tile/2/000.p/1', new Uint8Array(0)],
    ];
    for (const [path, data] of cases) {
      await expectTlogRejection(readerAt(SIZE, serve(new Map([[path, data]]))).readHashes([{ level: 0, index: 1300n }]), 'malformed_tile', path);
    }
  });

  it('caches authenticated tiles, shares concurrent fetches and retries failed ones', async () => {
    const counts = new Map<string, number>();
    const reader = readerAt(SIZE, serve(new Map(), counts));
    const ids = Array.from({ length: 512 }, (_, i) => ({ level: 0, index: BigInt(i) }));
    await Promise.all([reader.readHashes(ids), reader.readHashes(ids)]);
    await reader.readHashes(ids);
    expect(Math.max(...counts.values())).toBe(1);
    expect([...counts.keys()].sort()).toEqual(['tile/0/000', 'tile/0/001', 'tile/0/273.p/112', 'tile/1/000', 'tile/1/001.p/17', 'tile/2/000.p/1']);

    let failNext = true;
    const flaky: FetchTile = async (tile) => {
      if (formatTilePath(tile) === 'tile/0/007' && failNext) {
        failNext = false;
        throw new Error('connection reset');
      }
      return serve()(tile);
    };
    const r2 = readerAt(SIZE, flaky);
    expect(String(await rejectionOf(r2.readHashes([{ level: 0, index: 7n * 256n }])))).toContain('connection reset');
    expect(await r2.readHashes([{ level: 0, index: 7n * 256n }])).toEqual(await hashes.readHashes([{ level: 0, index: 7n * 256n }]));
  });

  it('returned hashes are copies: changing them does not poison the cache', async () => {
    const reader = readerAt(SIZE);
    const [h] = await reader.readHashes([{ level: 0, index: 3n }]);
    h![0]! ^= 0xff;
    (await reader.readTileHashes({ level: 0, index: 0n, width: 256 }))[3]![0]! ^= 0xff;
    expect(await reader.readHashes([{ level: 0, index: 3n }])).toEqual(await hashes.readHashes([{ level: 0, index: 3n }]));
  });

  it('bounds the full-tile cache', async () => {
    const counts = new Map<string, number>();
    const reader = new TileHashReader({ size: 70_000n, root: roots.get(SIZE)! }, serve(new Map(), counts), { maxCachedTiles: 2 });
    for (const t of [0n, 1n, 2n, 0n]) await reader.readHashes([{ level: 0, index: t * 256n }]);
    expect(counts.get('tile/0/000')).toBe(2);
    expect(counts.get('tile/1/001.p/17')).toBe(1); // edge tiles stay
  });

  it('refuses nodes outside the tree and bad checkpoints', async () => {
    const reader = readerAt(65_536);
    await expectTlogRejection(reader.readHashes([{ level: 0, index: 65_536n }]), 'invalid_argument');
    await expectTlogRejection(reader.readHashes([{ level: 17, index: 0n }]), 'invalid_argument');
    await expectTlogRejection(reader.readTileHashes({ level: 0, index: 255n, width: 7 }), 'invalid_argument');
    await expectTlogRejection(reader.readTileHashes({ level: 0, index: 256n, width: 256 }), 'invalid_argument');
    expect(() => new TileHashReader({ size: 1n, root: new Uint8Array(31) }, serve())).toThrow(/32-byte/);
    expect(() => new TileHashReader({ size: -1n, root: roots.get(1)! }, serve())).toThrow(/uint64/);
    const empty = new TileHashReader({ size: 0n, root: sha256(new Uint8Array(0)) }, serve());
    await expectTlogRejection(empty.readHashes([{ level: 0, index: 0n }]), 'invalid_argument');
    expect(await empty.readHashes([])).toEqual([]);
  });

  it('readTileHashes returns an authenticated tile; the node slot helper agrees', async () => {
    const reader = readerAt(SIZE);
    const tile = tileForNode({ level: 3, index: 8_749n }, 70_000n).tile;
    expect(tile).toEqual({ level: 0, index: 273n, width: 112 });
    const got = await reader.readTileHashes(tile);
    expect(got[111]).toEqual((await hashes.readHashes([{ level: 0, index: 69_999n }]))[0]);
  });
});

describe('verifyEntriesAgainstTile', () => {
  it('checks counts and every leaf hash', () => {
    const entries = [new Uint8Array([1]), new Uint8Array([])];
    const leafHashes = entries.map(hashLeaf);
    verifyEntriesAgainstTile(entries, leafHashes);
    expect(() => verifyEntriesAgainstTile(entries, leafHashes.slice(0, 1))).toThrow(/2 entries/);
    expect(() => verifyEntriesAgainstTile([entries[0]!, new Uint8Array([2])], leafHashes, 'b')).toThrow(/b: entry 1/);
  });
});

const TESTLOG = 'tiles/tessera-testlog/testlog.json';
const TESTLOG_DIR = 'tiles/tessera-testlog/log';
const TESTLOG_PROOFS = 'tiles/tessera-testlog/proofs-derived.json';

// checkpointOf reads a checkpoint file's body: the note text ends at the last blank line
// (signed-note); the signatures are checked by the note/checkpoint tests, not here.
function checkpointOf(rel: string): { size: bigint; root: Hash } {
  const note = readVectorText(rel);
  return parseCheckpoint(note.slice(0, note.lastIndexOf('\n\n') + 1));
}

function listFiles(rel: string): string[] {
  return readdirSync(vectorPath(rel), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `${e.parentPath.slice(vectorPath(TESTLOG_DIR).length + 1)}/${e.name}`.replace(/^\//, ''))
    .sort();
}

describeVectors(`TileHashReader over the tessera test log (${TESTLOG}, every file under ${TESTLOG_DIR}, ${TESTLOG_PROOFS})`, () => {
  const meta = readVectorJson(TESTLOG);
  const derived = readVectorJson(TESTLOG_PROOFS);
  const fetchFile: FetchTile = async (tile) => readVectorBytes(`${TESTLOG_DIR}/${formatTilePath(tile)}`);

  it('the folder holds exactly the checkpoints, level-0 tiles and bundles of sizes 0..15', () => {
    const want = ['checkpoint'];
    for (let n = 0; n <= 15; n++) want.push(`checkpoint.${n}`);
    for (let n = 1; n <= 15; n++) want.push(`tile/0/000.p/${n}`, `tile/entries/000.p/${n}`);
    expect(listFiles(TESTLOG_DIR)).toEqual(want.sort());
    expect(readVectorText(`${TESTLOG_DIR}/checkpoint`)).toBe(readVectorText(`${TESTLOG_DIR}/checkpoint.15`));
  });

  it('every checkpoint 1..15 authenticates its level-0 tile, which equals the leaf hashes', async () => {
    const empty = checkpointOf(`${TESTLOG_DIR}/checkpoint.0`);
    expect(empty.size).toBe(0n);
    expect(empty.root).toEqual(EMPTY_ROOT);
    for (let size = 1; size <= 15; size++) {
      const head = checkpointOf(`${TESTLOG_DIR}/checkpoint.${size}`);
      expect(head.size).toBe(BigInt(size));
      expect(head.root).toEqual(hex(meta.checkpoints[size].root_hex));
      const reader = new TileHashReader(head, fetchFile);
      const tile = await reader.readTileHashes({ level: 0, index: 0n, width: size });
      expect(tile).toEqual(meta.leaf_hashes_hex.slice(0, size).map(hex));
      expect(await treeRoot(BigInt(size), reader)).toEqual(head.root);
    }
  });

  it('every entry bundle 1..15 parses to entries_utf8 and hashes to the authenticated tile', async () => {
    for (let size = 1; size <= 15; size++) {
      const reader = new TileHashReader(checkpointOf(`${TESTLOG_DIR}/checkpoint.${size}`), fetchFile);
      const entries = await reader.verifyEntryBundle({ index: 0n, width: size }, readVectorBytes(`${TESTLOG_DIR}/tile/entries/000.p/${size}`));
      expect(entries.map((e) => new TextDecoder().decode(e))).toEqual(meta.entries_utf8.slice(0, size));
    }
    // A bundle of another size, or with a changed entry, is refused.
    const reader = new TileHashReader(checkpointOf(`${TESTLOG_DIR}/checkpoint.15`), fetchFile);
    const bundle = readVectorBytes(`${TESTLOG_DIR}/tile/entries/000.p/15`);
    await expectTlogRejection(reader.verifyEntryBundle({ index: 0n, width: 14 }, readVectorBytes(`${TESTLOG_DIR}/tile/entries/000.p/14`)), 'invalid_argument');
    bundle[bundle.length - 1]! ^= 0x20;
    await expectTlogRejection(reader.verifyEntryBundle({ index: 0n, width: 15 }, bundle), 'invalid_tile', 'entry 14');
    await expectTlogRejection(reader.verifyEntryBundle({ index: 0n, width: 15 }, bundle.subarray(0, 5)), 'malformed_bundle');
  });

  it('proofs built through the reader equal the derived proofs and verify', async () => {
    for (const c of derived.inclusion) {
      const head = checkpointOf(`${TESTLOG_DIR}/checkpoint.${c.tree_size}`);
      const proof = await proveInclusion(BigInt(c.leaf_index), head.size, new TileHashReader(head, fetchFile));
      expect(proof).toEqual(c.proof_b64.map(b64));
      verifyInclusion(hex(meta.leaf_hashes_hex[c.leaf_index]), BigInt(c.leaf_index), head.size, proof, head.root);
    }
    for (const c of derived.consistency) {
      const [size1, size2] = [c.size1, c.size2];
      const head = checkpointOf(`${TESTLOG_DIR}/checkpoint.${size2}`);
      const proof = await proveConsistency(BigInt(size1), head.size, new TileHashReader(head, fetchFile));
      expect(proof).toEqual(c.proof_b64.map(b64));
      verifyConsistency(BigInt(size1), head.size, checkpointOf(`${TESTLOG_DIR}/checkpoint.${size1}`).root, head.root, proof);
    }
  });

  it('a checkpoint whose root does not match the tiles is refused', async () => {
    const head = checkpointOf(`${TESTLOG_DIR}/checkpoint.7`);
    const wrong = new TileHashReader({ size: 7n, root: checkpointOf(`${TESTLOG_DIR}/checkpoint.8`).root }, fetchFile);
    await expectTlogRejection(wrong.readHashes([{ level: 0, index: 0n }]), 'invalid_tile', 'tile/0/000.p/7');
    expect(head.size).toBe(7n);
  });
});
