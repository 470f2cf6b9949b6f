// proof-bench.ts times proof verification (what monitors and witnesses do per entry and per
// checkpoint) and proof generation from stored hashes, in the 1M-leaf tree of tree-bench.ts.
import { randomInt } from 'node:crypto';
import type { Hash } from '../tlog/merkle.ts';
import { proveConsistency, proveInclusion, treeRoot, verifyConsistency, verifyInclusion } from '../tlog/proof.ts';
import { measure, printTable, repeat, type SectionReport } from './harness.ts';
import type { TestTree } from './tree-bench.ts';

const PROOF_COUNT = 256;
const VERIFY_BATCH = 16;
const PROVE_BATCH = 16;

interface ConsistencyCase {
  size1: bigint;
  root1: Hash;
  proof: Hash[];
}

/** benchProofs prints the proof table; the proofs are generated once before timing. */
export async function benchProofs(tree: TestTree): Promise<SectionReport> {
  const n = Number(tree.size);
  const indices = Array.from({ length: PROOF_COUNT }, () => BigInt(randomInt(n)));
  const inclusion = await Promise.all(indices.map((i) => proveInclusion(i, tree.size, tree.store)));
  const consistency: ConsistencyCase[] = [];
  for (let k = 0; k < PROOF_COUNT; k++) {
    const size1 = BigInt(1 + randomInt(n - 1));
    consistency.push({
      size1,
      root1: await treeRoot(size1, tree.store),
      proof: await proveConsistency(size1, tree.size, tree.store),
    });
  }

  const verifyIncl = await measure(
    `verifyInclusion, ${n} leaves`,
    repeat(VERIFY_BATCH, (k) => {
      const j = k % PROOF_COUNT;
      verifyInclusion(tree.leafHashes[Number(indices[j]!)]!, indices[j]!, tree.size, inclusion[j]!, tree.root);
    }),
    { batch: VERIFY_BATCH },
  );
  const verifyCons = await measure(
    `verifyConsistency, random size → ${n}`,
    repeat(VERIFY_BATCH, (k) => {
      const c = consistency[k % PROOF_COUNT]!;
      verifyConsistency(c.size1, tree.size, c.root1, tree.root, c.proof);
    }),
    { batch: VERIFY_BATCH },
  );
  let next = 0;
  const proveIncl = await measure(
    'proveInclusion from MemoryHashStore',
    async () => {
      for (let k = 0; k < PROVE_BATCH; k++) await proveInclusion(indices[next++ % PROOF_COUNT]!, tree.size, tree.store);
    },
    { batch: PROVE_BATCH },
  );
  const proveCons = await measure(
    'proveConsistency from MemoryHashStore',
    async () => {
      for (let k = 0; k < PROVE_BATCH; k++) {
        await proveConsistency(consistency[next++ % PROOF_COUNT]!.size1, tree.size, tree.store);
      }
    },
    { batch: PROVE_BATCH },
  );
  printTable('Proofs (proofs/s)', [verifyIncl, verifyCons, proveIncl, proveCons]);
  return { comparisons: [], notes: [] };
}
