// TileCache against MemoryHashStore (built from the RFC's pairwise definition, independently of
// tiles): every node of every size, through a cache far smaller than the tree, and one fetch per
// read at most.
import { describe, expect, it } from 'vitest';
import { MemoryHashStore } from '../tlog/memory-hash-store.ts';
import type { NodeId } from '../tlog/merkle.ts';
import { proveConsistency, proveInclusion, rangeNodes } from '../tlog/proof.ts';
import { appendLeafHashes, EMPTY_TILE_EDGE } from '../tlog/tile-writer.ts';
import { indexLeafHashes } from '../test/trees.ts';
import { TileCache } from './tile-cache.ts';
import type { StoredTile, TilePosition } from './tile-store.ts';

// A stored tree of 70,000 leaves (three tile levels) grown in uneven batches, as the sequencer
// stores it: one row per tile position, at its widest.
const N = 70_000;
const leaves = indexLeafHashes(N);
const memory = new MemoryHashStore(leaves);
const rows = new Map<string, StoredTile>();
let edge = EMPTY_TILE_EDGE;
for (let at = 0; at < N; ) {
  const n = Math.min(N - at, 1 + ((at * 7919) % 5000));
  const out = appendLeafHashes(edge, leaves.slice(at, at + n));
  for (const t of out.tiles) rows.set(`${t.tile.level}/${t.tile.index}`, { ...t.tile, data: t.data });
  edge = out.edge;
  at += n;
}

function newCache(maxTiles: number) {
  const fetches: TilePosition[][] = [];
  const cache = new TileCache(async (positions) => {
    fetches.push(positions);
    return positions.flatMap((p) => rows.get(`${p.level}/${p.index}`) ?? []);
  }, maxTiles);
  return { cache, fetches };
}

describe('TileCache', () => {
  it('serves every complete subtree of any size, equal to the pairwise definition, with a tiny cache', async () => {
    const { cache, fetches } = newCache(2);
    for (const size of [1n, 2n, 255n, 256n, 257n, 65_535n, 65_536n, 65_537n, 69_999n, 70_000n]) {
      const ids: NodeId[] = rangeNodes(0n, size);
      for (let level = 0; level <= 16; level++) {
        const count = size >> BigInt(level);
        for (const index of [0n, count / 2n, count - 1n]) if (index >= 0n && count > 0n) ids.push({ level, index });
      }
      const got = await cache.reader(size).readHashes(ids);
      expect(got).toEqual(await memory.readHashes(ids));
    }
    expect(fetches.length).toBeLessThanOrEqual(10);
  });

  it('builds proofs without fetching once warm, at most one fetch per proof when cold', async () => {
    const { cache, fetches } = newCache(64);
    for (const index of [0n, 1000n, 65_535n, 69_999n]) {
      const before = fetches.length;
      expect(await proveInclusion(index, 70_000n, cache.reader(70_000n))).toEqual(await proveInclusion(index, 70_000n, memory));
      expect(fetches.length - before).toBeLessThanOrEqual(1);
      const warm = fetches.length;
      await proveInclusion(index, 70_000n, cache.reader(70_000n));
      expect(fetches.length).toBe(warm);
    }
    expect(await proveConsistency(12_345n, 70_000n, cache.reader(70_000n))).toEqual(await proveConsistency(12_345n, 70_000n, memory));
  });

  it('keeps the widest version of a partial tile, and lets an overlay win for one reader', async () => {
    const { cache, fetches } = newCache(4);
    const wide = { level: 0, index: 0n, width: 3, data: new Uint8Array(96).fill(3) };
    cache.put(wide);
    cache.put({ level: 0, index: 0n, width: 2, data: new Uint8Array(64).fill(2) }); // narrower: ignored
    expect((await cache.reader(3n).readHashes([{ level: 0, index: 2n }]))[0]![0]).toBe(3);
    const overlay = [{ level: 0, index: 0n, width: 4, data: new Uint8Array(128).fill(4) }];
    expect((await cache.reader(4n, overlay).readHashes([{ level: 0, index: 3n }]))[0]![0]).toBe(4);
    expect(fetches.length).toBe(0);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(await cache.reader(2n).readHashes([{ level: 0, index: 1n }])).toEqual([leaves[1]]);
  });
});
