// tree-bench.ts times tree building: CompactRange appends at ~1k and ~1M leaves (the design wants
// the cost flat within 1.2×), MemoryHashStore and rootFromLeafHashes for comparison. It returns the
// 1M-leaf tree for the proof and tile benches.
import { randomBytes } from 'node:crypto';
import { CompactRange } from '../tlog/compact-range.ts';
import { MemoryHashStore } from '../tlog/memory-hash-store.ts';
import { equalBytes, rootFromLeafHashes, type Hash } from '../tlog/merkle.ts';
import { treeRoot } from '../tlog/proof.ts';
import { measure, printTable, timeOnce, type SectionReport } from './harness.ts';

/** LARGE_TREE_SIZE is the "~1M" tree: not a power of two, so every level has a right edge. */
export const LARGE_TREE_SIZE = 1_000_000;
/** SMALL_TREE_SIZE is the "~1k" tree. */
export const SMALL_TREE_SIZE = 1_000;
const APPEND_BATCH = 1024;

/** TestTree is a tree of random leaf hashes with every stored node, its frontier and root. */
export interface TestTree {
  size: bigint;
  leafHashes: Hash[];
  store: MemoryHashStore;
  range: CompactRange;
  root: Hash;
}

/**
 * randomLeafHashes returns n distinct random 32-byte leaf hashes, views into one buffer. Hashing
 * real entries would only add a second of setup: the tree code never looks inside a leaf hash.
 */
export function randomLeafHashes(n: number): Hash[] {
  const buf = new Uint8Array(randomBytes(n * 32));
  return Array.from({ length: n }, (_, i) => buf.subarray(i * 32, i * 32 + 32));
}

// appendAt times appending APPEND_BATCH leaves to a copy of `base`, so every measured append lands
// at the same tree size.
async function appendAt(name: string, base: CompactRange, leafHashes: Hash[]) {
  return measure(
    name,
    () => {
      const r = base.clone();
      for (let i = 0; i < APPEND_BATCH; i++) r.append(leafHashes[i]!);
    },
    { batch: APPEND_BATCH },
  );
}

/** benchTree prints the tree-building table and returns the report and the 1M-leaf tree. */
export async function benchTree(): Promise<{ report: SectionReport; tree: TestTree }> {
  const leafHashes = randomLeafHashes(LARGE_TREE_SIZE);
  const range = new CompactRange();
  const build = await timeOnce(`CompactRange append, 0 → ${LARGE_TREE_SIZE} (once)`, LARGE_TREE_SIZE, () => {
    for (const h of leafHashes) range.append(h);
  });
  let store!: MemoryHashStore;
  const storeBuild = await timeOnce(`MemoryHashStore append, 0 → ${LARGE_TREE_SIZE} (once)`, LARGE_TREE_SIZE, () => {
    store = new MemoryHashStore(leafHashes);
  });
  let fullRoot!: Hash;
  const rootOnce = await timeOnce(`rootFromLeafHashes, ${LARGE_TREE_SIZE} leaves (once)`, LARGE_TREE_SIZE, () => {
    fullRoot = rootFromLeafHashes(leafHashes);
  });
  const root = range.root();
  if (!equalBytes(root, fullRoot) || !equalBytes(root, await treeRoot(BigInt(LARGE_TREE_SIZE), store))) {
    throw new Error('CompactRange, MemoryHashStore and rootFromLeafHashes disagree on the root');
  }

  const small = new CompactRange();
  for (const h of leafHashes.slice(0, SMALL_TREE_SIZE)) small.append(h);
  const at1k = await appendAt(`CompactRange append at size ${SMALL_TREE_SIZE}`, small, leafHashes);
  const at1M = await appendAt(`CompactRange append at size ${LARGE_TREE_SIZE}`, range, leafHashes);
  const smallLeaves = leafHashes.slice(0, SMALL_TREE_SIZE);
  const root1k = await measure(`rootFromLeafHashes, ${SMALL_TREE_SIZE} leaves`, () => rootFromLeafHashes(smallLeaves), {
    batch: SMALL_TREE_SIZE,
  });
  printTable('Tree building (leaves/s; ratio vs CompactRange append at 1k)', [at1k, at1M, build, storeBuild, root1k, rootOnce], {
    [at1M.name]: at1k.name,
    [build.name]: at1k.name,
    [storeBuild.name]: at1k.name,
    [root1k.name]: at1k.name,
    [rootOnce.name]: at1k.name,
  });
  const flat = at1k.opsPerSec / at1M.opsPerSec;
  const report: SectionReport = {
    comparisons: [
      {
        primitive: 'tree building, per leaf',
        a: { label: 'CompactRange.append', result: at1k },
        b: { label: 'rootFromLeafHashes', result: root1k },
      },
    ],
    notes: [
      `CompactRange append cost, 1k vs 1M leaves: rate at 1k / rate at 1M = ${flat.toFixed(2)}× (target ≤ 1.2×: ${flat <= 1.2 ? 'met' : 'NOT met'})`,
    ],
  };
  return { report, tree: { size: BigInt(LARGE_TREE_SIZE), leafHashes, store, range, root } };
}
