import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactRange } from './compact-range.ts';
import { hashLeaf, rootFromLeafHashes, type Hash } from './merkle.ts';
import { formatTilePath, newTilesBetween, tilesForSize, type Tile } from './tile.ts';
import {
  EMPTY_TILE_EDGE,
  appendLeafHashes,
  rootFromTileEdge,
  tileEdgeFromTiles,
  type TileEdge,
  type TileWrite,
} from './tile-writer.ts';
import { describeVectors, hex, readVectorBytes, readVectorJson } from '../test/vectors.ts';
import { tileDataFromFormula } from '../test/tile-formula.ts';
import { expectTlogError } from '../test/tlog-errors.ts';
import { indexLeafHashes } from '../test/trees.ts';

const TESTLOG = 'tiles/tessera-testlog/testlog.json';
const TESTLOG_DIR = 'tiles/tessera-testlog/log';

// sameBytes compares byte strings quickly (deep equality on 8 KiB typed arrays is slow).
function sameBytes(a: Uint8Array | undefined, b: Uint8Array, what: string): void {
  expect(a !== undefined && Buffer.from(a).equals(b) ? 'equal' : `differ: ${Buffer.from(a ?? []).toString('hex').slice(0, 64)}…`, what).toBe('equal');
}

function apply(store: Map<string, Uint8Array>, writes: readonly TileWrite[]): void {
  for (const w of writes) store.set(formatTilePath(w.tile), w.data);
}

// growInBatches appends `leaves` in the given batch sizes, checking each batch's output: the
// tiles newTilesBetween names, in its order, each equal to the from-scratch tile of that size.
function growInBatches(leaves: readonly Hash[], batches: readonly number[], store: Map<string, Uint8Array>): TileEdge {
  let edge = EMPTY_TILE_EDGE;
  let done = 0;
  for (const b of batches) {
    const { tiles, edge: next } = appendLeafHashes(edge, leaves.slice(done, done + b));
    expect(tiles.map((t) => t.tile)).toEqual([...newTilesBetween(edge.size, next.size)]);
    for (const t of tiles) sameBytes(t.data, tileDataFromFormula(leaves, t.tile), formatTilePath(t.tile));
    apply(store, tiles);
    edge = next;
    done += b;
  }
  return edge;
}

describe('tile writer', () => {
  const leaves = indexLeafHashes(70_000);

  it('one leaf at a time, sizes 1..1000: every new tile equals the spec formula, the edge root equals MTH', () => {
    let edge = EMPTY_TILE_EDGE;
    const range = new CompactRange();
    for (let size = 1; size <= 1000; size++) {
      const { tiles, edge: next } = appendLeafHashes(edge, [leaves[size - 1]!]);
      range.append(leaves[size - 1]!);
      expect(tiles.map((t) => t.tile)).toEqual([...newTilesBetween(BigInt(size - 1), BigInt(size))]);
      for (const t of tiles) sameBytes(t.data, tileDataFromFormula(leaves, t.tile), formatTilePath(t.tile));
      expect(rootFromTileEdge(next)).toEqual(range.root());
      edge = next;
    }
  });

  it('property: random batches up to 1000 leaves build exactly the from-scratch tiles at every size', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 12 }), (raw) => {
        const batches: number[] = [];
        let total = 0;
        for (const b of raw) {
          const n = Math.min(b, 1000 - total);
          batches.push(n);
          total += n;
        }
        const store = new Map<string, Uint8Array>();
        const edge = growInBatches(leaves, batches, store);
        for (const t of tilesForSize(edge.size)) {
          sameBytes(store.get(formatTilePath(t)), tileDataFromFormula(leaves, t), formatTilePath(t));
        }
        expect(rootFromTileEdge(edge)).toEqual(rootFromLeafHashes(leaves.slice(0, total)));
      }),
      { numRuns: 40 },
    );
  });

  it('70,000 leaves in random batches: three tile levels, all tiles equal the spec formula', () => {
    const store = new Map<string, Uint8Array>();
    const batches: number[] = [];
    let rng = 12345;
    for (let total = 0; total < 70_000; ) {
      rng = (rng * 1103515245 + 12345) % 2 ** 31;
      const b = Math.min(1 + (rng % 3000), 70_000 - total);
      batches.push(b);
      total += b;
    }
    const edge = growInBatches(leaves, batches, store);
    const tiles = [...tilesForSize(70_000n)];
    expect(tiles.filter((t) => t.level === 2)).toEqual([{ level: 2, index: 0n, width: 1 }]);
    for (const t of tiles) sameBytes(store.get(formatTilePath(t)), tileDataFromFormula(leaves, t), formatTilePath(t));
    expect(rootFromTileEdge(edge)).toEqual(rootFromLeafHashes(leaves));
  });

  it('tileEdgeFromTiles resumes from stored tiles as if it had never stopped', () => {
    const store = new Map<string, Uint8Array>();
    const first = growInBatches(leaves, [65_600], store);
    const writes = [...store].map(([path, data]) => ({ tile: parsePath(path), data }));
    const resumed = tileEdgeFromTiles(65_600n, writes);
    expect(resumed).toEqual(first);
    const a = appendLeafHashes(first, leaves.slice(65_600, 66_000));
    const b = appendLeafHashes(resumed, leaves.slice(65_600, 66_000));
    expect(b).toEqual(a);
    expectTlogError(() => tileEdgeFromTiles(65_601n, writes), 'invalid_argument'); // tile/0/256.p/65 missing
  });

  it('refuses inconsistent edges and bad leaf hashes', () => {
    expectTlogError(() => appendLeafHashes({ size: 3n, levels: [leaves.slice(0, 2)] }, []), 'invalid_argument');
    expectTlogError(() => appendLeafHashes({ size: 0n, levels: [[leaves[0]!]] }, []), 'invalid_argument');
    expectTlogError(() => appendLeafHashes({ size: 256n, levels: [[], []] }, []), 'invalid_argument');
    expectTlogError(() => appendLeafHashes(EMPTY_TILE_EDGE, [new Uint8Array(31)]), 'invalid_argument');
    expect(appendLeafHashes(EMPTY_TILE_EDGE, [])).toEqual({ tiles: [], edge: { size: 0n, levels: [] } });
  });
});

function parsePath(path: string): Tile {
  const t = [...tilesForSize(70_000n)].find((x) => formatTilePath(x) === path);
  if (t !== undefined) return t;
  // Partial tiles of earlier sizes: tile/<L>/<N>.p/<W>.
  const m = /^tile\/(\d+)\/(\d{3})(?:\.p\/(\d+))?$/.exec(path)!;
  return { level: Number(m[1]), index: BigInt(m[2]!), width: m[3] === undefined ? 256 : Number(m[3]) };
}

describeVectors(`tile writer vs the tessera test log (${TESTLOG}, files under ${TESTLOG_DIR})`, () => {
  const meta = readVectorJson(TESTLOG);

  it('level-0 tiles tile/0/000.p/1..15 are byte-identical to tessera\'s', () => {
    let edge = EMPTY_TILE_EDGE;
    meta.entries_utf8.forEach((text: string, i: number) => {
      const { tiles, edge: next } = appendLeafHashes(edge, [hashLeaf(new TextEncoder().encode(text))]);
      expect(tiles.map((t) => formatTilePath(t.tile))).toEqual([`tile/0/000.p/${i + 1}`]);
      sameBytes(tiles[0]!.data, readVectorBytes(`${TESTLOG_DIR}/tile/0/000.p/${i + 1}`), `tile/0/000.p/${i + 1}`);
      expect(rootFromTileEdge(next)).toEqual(hex(meta.checkpoints[i + 1].root_hex));
      edge = next;
    });
  });
});
