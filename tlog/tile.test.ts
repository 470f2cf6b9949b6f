import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactRange } from './compact-range.ts';
import { MAX_UINT64, hashChildren, rootFromLeafHashes, type Hash } from './merkle.ts';
import {
  TILE_WIDTH,
  formatEntriesPath,
  formatTileData,
  formatTilePath,
  newTilesBetween,
  newTilesBetweenAtHeight,
  nodeHashFromTile,
  parseEntriesPath,
  parseTileData,
  parseTilePath,
  partialTileWidth,
  rightEdgeTiles,
  rootFromRightEdge,
  tileForNode,
  tilesForSize,
  type Tile,
} from './tile.ts';
import { describeVectors, readVectorJson } from '../test/vectors.ts';
import { tileHashesFromFormula } from '../test/tile-formula.ts';
import { expectTlogError, expectTlogErrorIfThrows } from '../test/tlog-errors.ts';
import { labelledLeafHashes } from '../test/trees.ts';

const TILE_PATHS = 'tiles/tile-paths.json';

// tessera writes p = 0 for a full tile; Vigil writes width 256.
const widthOf = (p: number): number => (p === 0 ? TILE_WIDTH : p);

describeVectors(`C2SP tlog-tiles paths (${TILE_PATHS}, from C2SP/C2SP tlog-tiles.md and tessera api/layout/paths_test.go)`, () => {
  const v = readVectorJson(TILE_PATHS);

  it('spec_examples: index 1234067 encodes as x001/x234/067', () => {
    const ex = v.spec_examples[0];
    const path = formatTilePath({ level: 0, index: BigInt(ex.index), width: 256 });
    expect(path).toBe(`tile/0/${ex.encoded}`);
    expect(parseTilePath(path).index).toBe(BigInt(ex.index));
  });

  for (const ex of v.spec_examples.slice(1)) {
    it(`spec_examples: the tiles of a tree of size ${ex.tree_size}`, () => {
      const tiles = [...tilesForSize(BigInt(ex.tree_size))];
      const paths = new Set(tiles.map(formatTilePath));
      for (const t of ex.tiles) {
        const tile: Tile = { level: t.level, index: BigInt(t.n), width: t.width };
        expect(formatTilePath(tile)).toBe(t.path);
        expect(parseTilePath(t.path)).toEqual(tile);
        expect(paths.has(t.path), t.path).toBe(true);
      }
      if (ex.tree_size === 70000) {
        // tlog-tiles "Partial Tiles": 273 full level-0 tiles + .p/112, 1 full level-1 + .p/17, level 2 .p/1.
        expect(tiles.length).toBe(273 + 1 + 1 + 1 + 1);
        expect(tiles.filter((t) => t.level === 0 && t.width === 256).length).toBe(273);
        expect(rightEdgeTiles(70000n).map(formatTilePath)).toEqual(['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1']);
      } else {
        expect(tiles.map(formatTilePath)).toEqual(ex.tiles.map((t: { path: string }) => t.path));
      }
    });
  }

  it('tessera_layout_tests.tile_path', () => {
    for (const c of v.tessera_layout_tests.tile_path) {
      const tile = { level: c.level, index: BigInt(c.index), width: widthOf(c.p) };
      expect(formatTilePath(tile)).toBe(c.want);
      expect(parseTilePath(c.want)).toEqual(tile);
    }
  });

  it('tessera_layout_tests.entries_path', () => {
    for (const c of v.tessera_layout_tests.entries_path) {
      const bundle = { index: BigInt(c.n), width: widthOf(c.p) };
      expect(formatEntriesPath(bundle)).toBe(c.want);
      expect(parseEntriesPath(c.want)).toEqual(bundle);
    }
  });

  it('tessera_layout_tests.parse_level_index_partial', () => {
    for (const c of v.tessera_layout_tests.parse_level_index_partial) {
      const path = `tile/${c.level}/${c.index}`;
      if (typeof c.want === 'string') {
        expectTlogError(() => parseTilePath(path), 'malformed_tile');
      } else {
        // JSON numbers lose 999999999999999999 (above 2^53); that index is checked exactly below.
        const index = Number.isSafeInteger(c.want.index) ? BigInt(c.want.index) : 999_999_999_999_999_999n;
        const want = { level: c.want.level, index, width: widthOf(c.want.p) };
        expect(parseTilePath(path), path).toEqual(want);
      }
    }
  });

  it('go_sumdb_tile_paths: tile/H/L/N paths (height in the path) are refused', () => {
    // Go sumdb puts the tile height in the path; C2SP fixes it at 8 and drops it. Vigil serves and
    // reads only C2SP paths, so every one of these must be rejected, never misread as L = H.
    for (const c of v.go_sumdb_tile_paths.cases) {
      expectTlogError(() => parseTilePath(c.path), 'malformed_tile');
      expectTlogError(() => parseEntriesPath(c.path), 'malformed_tile');
    }
  });

  it('go_sumdb_tile_paths.new_tiles_count_height_10: the same arithmetic at height 10', () => {
    // Go's TestNewTilesForSize uses height 10. newTilesBetween is fixed at C2SP's height 8; its
    // height-generic form is checked here against Go's table so the arithmetic has an outside check.
    for (const c of v.go_sumdb_tile_paths.new_tiles_count_height_10) {
      const tiles = [...newTilesBetweenAtHeight(10, BigInt(c.old), BigInt(c.new))];
      expect(tiles.length, `${c.old} → ${c.new}`).toBe(c.want);
    }
  });
});

describe('tile paths: strict parsing', () => {
  const bad = [
    '', 'tile/', 'tile/0', 'tile/0/', 'tile/00/000', 'tile/01/000', 'tile/64/000', 'tile/0/00', 'tile/0/0000',
    'tile/0/x000/001', 'tile/0/x001', 'tile/0/000.p/0', 'tile/0/000.p/01', 'tile/0/000.p/256', 'tile/0/000.p/1000',
    'tile/0/000/', '/tile/0/000', 'tile/0/000 ', 'tile/0/X001/000', 'tile/0/x001/x002', 'tile/0/000.p/1/',
    'tile/entries/000', 'tile/0/x018/x446/x744/x073/x709/x551/616', 'tile/0/+01', 'tile/0/٠٠٠', 'tile/8/0/000',
    `tile/0/${'x999/'.repeat(100_000)}999`,
  ];
  for (const path of bad) {
    it(`rejects ${JSON.stringify(path.slice(0, 60))}`, () => expectTlogError(() => parseTilePath(path), 'malformed_tile'));
  }

  it('accepts the largest uint64 index', () => {
    const path = 'tile/0/x018/x446/x744/x073/x709/x551/615';
    expect(parseTilePath(path).index).toBe(MAX_UINT64);
    expect(formatTilePath(parseTilePath(path))).toBe(path);
  });

  it('entries paths are strict too', () => {
    for (const p of ['tile/entries/', 'tile/entries/x000/001', 'tile/entries/000.p/256', 'tile/0/000', 'tile/entries/000.p/']) {
      expectTlogError(() => parseEntriesPath(p), 'malformed_tile');
    }
  });

  it('formatting refuses coordinates outside the spec', () => {
    expectTlogError(() => formatTilePath({ level: 64, index: 0n, width: 1 }), 'invalid_argument');
    expectTlogError(() => formatTilePath({ level: 0, index: -1n, width: 1 }), 'invalid_argument');
    expectTlogError(() => formatTilePath({ level: 0, index: 0n, width: 0 }), 'invalid_argument');
    expectTlogError(() => formatTilePath({ level: 0, index: 0n, width: 257 }), 'invalid_argument');
    expectTlogError(() => formatEntriesPath({ index: MAX_UINT64 + 1n, width: 3 }), 'invalid_argument');
  });

  it('property: format then parse is the identity, and the encoding is unique', () => {
    const tileArb = fc.record({
      level: fc.integer({ min: 0, max: 63 }),
      index: fc.bigInt({ min: 0n, max: MAX_UINT64 }),
      width: fc.integer({ min: 1, max: 256 }),
    });
    fc.assert(
      fc.property(tileArb, (tile) => {
        const path = formatTilePath(tile);
        expect(parseTilePath(path)).toEqual(tile);
        expect(parseEntriesPath(formatEntriesPath(tile))).toEqual({ index: tile.index, width: tile.width });
      }),
    );
  });

  it('property: arbitrary strings never escape as anything but TlogError', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'tile/entrs.px0123456789 '.split('')) }), (s) => {
        for (const parse of [parseTilePath, parseEntriesPath]) {
          const t = expectTlogErrorIfThrows(() => parse(`tile/${s}`), 'malformed_tile');
          if (t !== undefined) expect(t.width).toBeGreaterThanOrEqual(1);
        }
      }),
    );
  });
});

describe('tile ↔ node mapping', () => {
  const leaves = labelledLeafHashes('leaf', 70_000);

  it('tilesForSize and newTilesBetween agree with the partial-width rule', () => {
    for (const size of [0n, 1n, 255n, 256n, 257n, 65535n, 65536n, 65537n, 70000n, 16777216n]) {
      for (const t of tilesForSize(size)) {
        if (t.width < 256) expect(t.width).toBe(partialTileWidth(t.level, size));
      }
    }
    expect([...tilesForSize(0n)]).toEqual([]);
    expect([...newTilesBetween(5n, 5n)]).toEqual([]);
    expect([...newTilesBetween(255n, 256n)].map(formatTilePath)).toEqual(['tile/0/000', 'tile/1/000.p/1']);
    expect([...newTilesBetween(256n, 257n)].map(formatTilePath)).toEqual(['tile/0/001.p/1']);
    expectTlogError(() => [...newTilesBetween(3n, 2n)], 'invalid_argument');
    expectTlogError(() => [...tilesForSize(MAX_UINT64 + 1n)], 'invalid_argument');
    expectTlogError(() => [...newTilesBetweenAtHeight(0, 0n, 1n)], 'invalid_argument');
  });

  it('rootFromRightEdge equals the root of a CompactRange for many sizes', () => {
    const range = new CompactRange();
    for (const size of [1, 2, 3, 7, 8, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537, 70000]) {
      while (range.size < BigInt(size)) range.append(leaves[Number(range.size)]!);
      const edge: Hash[][] = [];
      for (const t of rightEdgeTiles(BigInt(size))) edge[t.level] = tileHashesFromFormula(leaves, t);
      expect(rootFromRightEdge(BigInt(size), edge), `size ${size}`).toEqual(range.root());
    }
    expect(rootFromRightEdge(3n, [leaves.slice(0, 3)])).toEqual(rootFromLeafHashes(leaves.slice(0, 3)));
    expectTlogError(() => rootFromRightEdge(3n, [[leaves[0]!]]), 'invalid_argument');
  });

  it('tileForNode finds every node of a 3-level tree, full or partial (sampled)', () => {
    const size = 70_000n;
    const cases: [number, bigint][] = [
      [0, 0n], [0, 69_999n], [0, 69_888n], [3, 8_749n], [7, 0n], [7, 545n], [8, 0n], [8, 272n], [9, 135n],
      [12, 16n], [15, 1n], [16, 0n], [4, 4_374n], [5, 2_186n], [6, 1_092n], [11, 33n],
    ];
    for (const [level, index] of cases) {
      const slot = tileForNode({ level, index }, size);
      const tileHashes = tileHashesFromFormula(leaves, slot.tile);
      const span = 2 ** level;
      const want = rootFromLeafHashes(leaves.slice(Number(index) * span, (Number(index) + 1) * span));
      expect(nodeHashFromTile(tileHashes, slot.start, slot.count), `node (${level}, ${index})`).toEqual(want);
    }
    expect(tileForNode({ level: 0, index: 69_999n }, size).tile).toEqual({ level: 0, index: 273n, width: 112 });
    expect(tileForNode({ level: 8, index: 272n }, size).tile).toEqual({ level: 1, index: 1n, width: 17 });
    expect(tileForNode({ level: 16, index: 0n }, size)).toEqual({ tile: { level: 2, index: 0n, width: 1 }, start: 0, count: 1 });
    expectTlogError(() => tileForNode({ level: 0, index: 70_000n }, size), 'invalid_argument');
    expectTlogError(() => tileForNode({ level: 17, index: 0n }, size), 'invalid_argument');
    expectTlogError(() => tileForNode({ level: 64, index: 0n }, MAX_UINT64), 'invalid_argument');
  });

  it('a tile hash at level 1 is the MTH of the full level-0 tile below it', () => {
    const l0 = tileHashesFromFormula(leaves, { level: 0, index: 5n, width: 256 });
    const l1 = tileHashesFromFormula(leaves, { level: 1, index: 0n, width: 256 });
    expect(rootFromLeafHashes(l0)).toEqual(l1[5]);
    expect(hashChildren(l0[0]!, l0[1]!)).toEqual(nodeHashFromTile(l0, 0, 2));
  });

  it('parseTileData and formatTileData', () => {
    const hashes = leaves.slice(0, 3);
    const data = formatTileData(hashes);
    expect(data.length).toBe(96);
    expect(parseTileData(data, 3)).toEqual(hashes);
    expectTlogError(() => parseTileData(data, 2), 'malformed_tile');
    expectTlogError(() => parseTileData(data.subarray(0, 95), 3), 'malformed_tile');
    expectTlogError(() => parseTileData(new Uint8Array(0), 1), 'malformed_tile');
    expectTlogError(() => parseTileData(data, 0), 'invalid_argument');
    expectTlogError(() => formatTileData([]), 'invalid_argument');
    expectTlogError(() => formatTileData([new Uint8Array(31)]), 'invalid_argument');
    const parsed = parseTileData(data, 3);
    data[0]! ^= 1; // the parsed hashes are copies
    expect(parsed[0]).toEqual(hashes[0]);
  });
});
