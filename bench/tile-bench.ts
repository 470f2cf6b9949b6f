// tile-bench.ts times the tiled tree: the sequencer's tile writer (appendLeafHashes) on batches of
// 256–4096 leaves at ~1M, and the authenticated TileHashReader that monitors and mirrors read
// untrusted tiles through (proof generation, and checking entry bundles against level-0 tiles).
import { randomBytes, randomInt } from 'node:crypto';
import { encodeEntryBundle } from '../tlog/entry-bundle.ts';
import { equalBytes, hashLeaf, type Hash, type HashReader } from '../tlog/merkle.ts';
import { proveInclusion } from '../tlog/proof.ts';
import { tileKey } from '../tlog/tile.ts';
import { TileHashReader, type FetchTile } from '../tlog/tile-hash-reader.ts';
import { EMPTY_TILE_EDGE, appendLeafHashes, rootFromTileEdge, type TileAppendResult } from '../tlog/tile-writer.ts';
import { measure, printTable, timeOnce, type BenchResult, type SectionReport } from './harness.ts';
import type { TestTree } from './tree-bench.ts';

const BATCH_SIZES = [256, 1024, 4096];
const PROOF_COUNT = 256;
const PROVE_BATCH = 16;
const MONITOR_BUNDLES = 64;
const ENTRY_BYTES = 1024;
const APPEND_TARGET_PER_SEC = 10_000;
const MONITOR_TARGET_PER_SEC = 25_000;

// tileStore serves the tiles of one build from memory, as an untrusted source would over HTTP.
function tileStore(built: TileAppendResult): FetchTile {
  const tiles = new Map(built.tiles.map((t) => [tileKey(t.tile), t.data]));
  return async (tile) => {
    const data = tiles.get(tileKey(tile));
    if (data === undefined) throw new Error(`no tile ${tileKey(tile)}`);
    return data;
  };
}

async function benchReader(tree: TestTree, fetchTile: FetchTile): Promise<BenchResult[]> {
  const head = { size: tree.size, root: tree.root };
  const indices = Array.from({ length: PROOF_COUNT }, () => BigInt(randomInt(Number(tree.size))));
  const warm = new TileHashReader(head, fetchTile, { maxCachedTiles: 8192 });
  for (const i of indices) {
    const [fromTiles, fromStore] = await Promise.all([proveInclusion(i, tree.size, warm), proveInclusion(i, tree.size, tree.store)]);
    if (!fromTiles.every((h, k) => equalBytes(h, fromStore[k]!))) throw new Error(`tile proof of ${i} differs`);
  }
  let next = 0;
  const prove = (reader: () => HashReader) => async () => {
    for (let k = 0; k < PROVE_BATCH; k++) await proveInclusion(indices[next++ % PROOF_COUNT]!, tree.size, reader());
  };
  const warmRate = await measure('proveInclusion via TileHashReader, warm cache', prove(() => warm), { batch: PROVE_BATCH });
  const coldRate = await measure('proveInclusion via TileHashReader, new reader each', prove(() => new TileHashReader(head, fetchTile)), {
    batch: PROVE_BATCH,
  });
  const storeRate = await measure('proveInclusion via MemoryHashStore (baseline)', prove(() => tree.store), { batch: PROVE_BATCH });
  return [storeRate, warmRate, coldRate];
}

// benchMonitorBundles checks 1 KiB-entry bundles against level-0 tiles that are authenticated
// afresh for every bundle (a one-tile cache cycling through 64 tiles), as a monitor scanning the
// log does: parse, hash every entry, authenticate the tile.
async function benchMonitorBundles(): Promise<BenchResult> {
  const count = MONITOR_BUNDLES * 256 + 100; // a partial bundle and tiles at the right edge
  const data = new Uint8Array(randomBytes(count * ENTRY_BYTES));
  const entries = Array.from({ length: count }, (_, i) => data.subarray(i * ENTRY_BYTES, (i + 1) * ENTRY_BYTES));
  const built = appendLeafHashes(EMPTY_TILE_EDGE, entries.map(hashLeaf));
  const head = { size: BigInt(count), root: rootFromTileEdge(built.edge) };
  const bundles = Array.from({ length: MONITOR_BUNDLES }, (_, b) => encodeEntryBundle(entries.slice(b * 256, (b + 1) * 256)));
  const reader = new TileHashReader(head, tileStore(built), { maxCachedTiles: 1 });
  let b = 0;
  return measure(
    `TileHashReader.verifyEntryBundle, 256 × ${ENTRY_BYTES} B`,
    async () => {
      await reader.verifyEntryBundle({ index: BigInt(b), width: 256 }, bundles[b]!);
      b = (b + 1) % MONITOR_BUNDLES;
    },
    { batch: 256 },
  );
}

/** benchTiles prints the tile tables; tile-writer rates are entries/s. */
export async function benchTiles(tree: TestTree): Promise<SectionReport> {
  let built!: TileAppendResult;
  const once = await timeOnce(`appendLeafHashes, 0 → ${tree.size} in one batch (once)`, Number(tree.size), () => {
    built = appendLeafHashes(EMPTY_TILE_EDGE, tree.leafHashes);
  });
  if (!equalBytes(rootFromTileEdge(built.edge), tree.root)) throw new Error('tile-writer root differs from CompactRange');
  const writer: BenchResult[] = [];
  for (const n of BATCH_SIZES) {
    const batch: Hash[] = tree.leafHashes.slice(0, n);
    writer.push(await measure(`appendLeafHashes, batch of ${n} at size ${tree.size}`, () => appendLeafHashes(built.edge, batch), { batch: n }));
  }
  writer.push(once);
  printTable('Tile writer (entries/s; ratio vs batch of 256)', writer, Object.fromEntries(writer.slice(1).map((r) => [r.name, writer[0]!.name])));

  const [storeRate, warmRate, coldRate] = await benchReader(tree, tileStore(built));
  printTable('Authenticated tile reading (proofs/s; ratio vs MemoryHashStore)', [storeRate!, warmRate!, coldRate!], {
    [warmRate!.name]: storeRate!.name,
    [coldRate!.name]: storeRate!.name,
  });
  const monitor = await benchMonitorBundles();
  printTable('Monitor entry check (entries/s)', [monitor]);

  const slowest = writer.slice(0, BATCH_SIZES.length).reduce((a, r) => (r.opsPerSec < a.opsPerSec ? r : a));
  return {
    comparisons: [
      {
        primitive: 'inclusion proof from stored hashes',
        a: { label: 'MemoryHashStore', result: storeRate! },
        b: { label: 'TileHashReader (warm)', result: warmRate! },
      },
    ],
    notes: [
      `tile writer, slowest batch size: ${slowest.opsPerSec.toFixed(0)} entries/s = ${(slowest.opsPerSec / APPEND_TARGET_PER_SEC).toFixed(1)}× the ${APPEND_TARGET_PER_SEC} entries/s append target (tiles only)`,
      `monitor bundle check: ${monitor.opsPerSec.toFixed(0)} entries/s = ${(monitor.opsPerSec / MONITOR_TARGET_PER_SEC).toFixed(1)}× the ${MONITOR_TARGET_PER_SEC} entries/s monitor target (hashing and tile authentication only)`,
    ],
  };
}
