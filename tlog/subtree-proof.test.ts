import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeVectors } from '../test/vectors.ts';
import { flipBit } from '../test/bytes.ts';
import { probeHash, probeProof, readProbes } from '../test/merkle-probes.ts';
import { throwsTlogError } from '../test/tlog-errors.ts';
import { labelledLeafHashes } from '../test/trees.ts';
import { isTlogError } from './errors.ts';
import { EMPTY_ROOT, rootFromLeafHashes, type Hash } from './merkle.ts';
import { MemoryHashStore } from './memory-hash-store.ts';
import { proveConsistency, proveInclusion, verifyConsistency } from './proof.ts';
import {
  isValidSubtree,
  proveSubtreeConsistency,
  proveSubtreeInclusion,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from './subtree-proof.ts';

// Integer fields of the probe files, quoted before JSON.parse because they can exceed 2^53.
const PROBE_BIGINT_FIELDS = ['leafIdx', 'start', 'end', 'size'];

// rejects reports whether a verifier refused its input as invalid_proof; any other error fails.
const rejects = (f: () => void): boolean => throwsTlogError(f, 'invalid_proof');

interface SubtreeInclusionProbe { source: string; leafIdx: string; start: string; end: string; root: string | null; leafHash: string | null; proof: Array<string | null> | null; wantErr: boolean }
interface SubtreeConsistencyProbe { source: string; start: string; end: string; size: string; root1: string | null; root2: string | null; proof: Array<string | null> | null; wantErr: boolean }

describeVectors('merkle/subtree-inclusion-probes.json (transparency-dev/merkle testdata/subtreeinclusion)', () => {
  const probes = readProbes<SubtreeInclusionProbe>('merkle/subtree-inclusion-probes.json', PROBE_BIGINT_FIELDS);
  it('has all 204 probes', () => expect(probes).toHaveLength(204));
  it.each(probes.map((p) => [p.source, p] as const))('%s', (_source, p) => {
    const run = (): void => verifySubtreeInclusion(
      probeHash(p.leafHash), BigInt(p.leafIdx), BigInt(p.start), BigInt(p.end), probeProof(p.proof), probeHash(p.root));
    expect(rejects(run)).toBe(p.wantErr);
  });
});

describeVectors('merkle/subtree-consistency-probes.json (transparency-dev/merkle testdata/subtreeconsistency)', () => {
  const probes = readProbes<SubtreeConsistencyProbe>('merkle/subtree-consistency-probes.json', PROBE_BIGINT_FIELDS);
  it('has all 118 probes', () => expect(probes).toHaveLength(118));
  it.each(probes.map((p) => [p.source, p] as const))('%s', (_source, p) => {
    const run = (): void => verifySubtreeConsistency(
      BigInt(p.start), BigInt(p.end), BigInt(p.size), probeHash(p.root1), probeHash(p.root2), probeProof(p.proof));
    expect(rejects(run)).toBe(p.wantErr);
  });
});

const N = 40;
const LEAVES = labelledLeafHashes('subtree leaf', N);
const STORE = new MemoryHashStore(LEAVES);
const mth = (start: number, end: number): Hash => rootFromLeafHashes(LEAVES.slice(start, end));

function* validSubtrees(n: number): Generator<[number, number]> {
  for (let end = 0; end <= n; end++) {
    for (let start = 0; start <= end; start++) if (isValidSubtree(BigInt(start), BigInt(end))) yield [start, end];
  }
}

describe('draft-ietf-plants-merkle-tree-certs §4 subtrees', () => {
  it('isValidSubtree follows §4.1', () => {
    const valid = [[0n, 0n], [5n, 5n], [0n, 13n], [4n, 8n], [8n, 13n], [4n, 7n], [1n, 2n], [0n, (1n << 64n) - 1n]];
    const invalid = [[3n, 5n], [1n, 3n], [2n, 5n], [2n, 6n], [1n, 15n], [2n, 1n], [1n, (1n << 63n) + 2n]];
    for (const [s, e] of valid) expect(isValidSubtree(s!, e!), `[${s}, ${e})`).toBe(true);
    for (const [s, e] of invalid) expect(isValidSubtree(s!, e!), `[${s}, ${e})`).toBe(false);
  });

  it('§4.4.2 examples: [4, 8) and [8, 13) in a tree of 14', async () => {
    expect(await proveSubtreeConsistency(4n, 8n, 14n, STORE)).toEqual([mth(0, 4), mth(8, 14)]);
    expect(await proveSubtreeConsistency(8n, 13n, 14n, STORE)).toEqual([LEAVES[12], LEAVES[13], mth(8, 12), mth(0, 8)]);
    // §4.3.1: entry 10 of [8, 13) is proven by d[11], [8, 10) and d[12].
    expect(await proveSubtreeInclusion(10n, 8n, 13n, STORE)).toEqual([LEAVES[11], mth(8, 10), LEAVES[12]]);
  });

  it('SUBTREE_PROOF(0, end) = PROOF(end) and SUBTREE_PROOF(s, s + 1) = PATH(s) (§4.4.1)', async () => {
    for (let n = 1n; n <= 33n; n++) {
      for (let m = 1n; m <= n; m++) expect(await proveSubtreeConsistency(0n, m, n, STORE)).toEqual(await proveConsistency(m, n, STORE));
      for (let s = 0n; s < n; s++) expect(await proveSubtreeConsistency(s, s + 1n, n, STORE)).toEqual(await proveInclusion(s, n, STORE));
    }
  });

  it('every subtree consistency proof of every valid subtree of trees up to 40 verifies', async () => {
    for (let n = 1; n <= N; n++) {
      for (const [s, e] of validSubtrees(n)) {
        const proof = await proveSubtreeConsistency(BigInt(s), BigInt(e), BigInt(n), STORE);
        verifySubtreeConsistency(BigInt(s), BigInt(e), BigInt(n), s === e ? EMPTY_ROOT : mth(s, e), mth(0, n), proof);
        if (s === 0 && e > 0) verifyConsistency(BigInt(e), BigInt(n), mth(0, e), mth(0, n), proof);
      }
    }
  });

  it('every subtree inclusion proof verifies and equals PATH over the subtree alone', async () => {
    for (const [s, e] of validSubtrees(N)) {
      const alone = new MemoryHashStore(LEAVES.slice(s, e));
      for (let x = s; x < e; x++) {
        const proof = await proveSubtreeInclusion(BigInt(x), BigInt(s), BigInt(e), STORE);
        expect(proof).toEqual(await proveInclusion(BigInt(x - s), BigInt(e - s), alone));
        verifySubtreeInclusion(LEAVES[x]!, BigInt(x), BigInt(s), BigInt(e), proof, mth(s, e));
      }
    }
  });

  it('single-bit flips of proof hashes, the subtree hash and the root are rejected', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.nat(), fc.nat(255), async (n, pick, bit) => {
      const all = [...validSubtrees(n)].filter(([s, e]) => s < e);
      const [s, e] = all[pick % all.length]!;
      const [start, end, size] = [BigInt(s), BigInt(e), BigInt(n)];
      const proof = await proveSubtreeConsistency(start, end, size, STORE);
      const [sub, root] = [mth(s, e), mth(0, n)];
      expect(rejects(() => verifySubtreeConsistency(start, end, size, flipBit(sub, bit), root, proof))).toBe(true);
      expect(rejects(() => verifySubtreeConsistency(start, end, size, sub, flipBit(root, bit), proof))).toBe(true);
      proof.forEach((p, i) => {
        const bad = proof.map((q, j) => (j === i ? flipBit(p, bit) : q));
        expect(rejects(() => verifySubtreeConsistency(start, end, size, sub, root, bad))).toBe(true);
      });
      expect(rejects(() => verifySubtreeConsistency(start, end, size, sub, root, [...proof, root]))).toBe(true);
      if (proof.length > 0) expect(rejects(() => verifySubtreeConsistency(start, end, size, sub, root, proof.slice(1)))).toBe(true);
    }), { numRuns: 300 });
  });

  it('refuses invalid subtrees and out-of-range arguments', async () => {
    const h = LEAVES[0]!;
    expect(rejects(() => verifySubtreeConsistency(2n, 5n, 8n, h, h, []))).toBe(true);
    expect(rejects(() => verifySubtreeConsistency(0n, 9n, 8n, h, h, []))).toBe(true);
    expect(rejects(() => verifySubtreeInclusion(h, 3n, 3n, 5n, [], h))).toBe(true);
    await expect(proveSubtreeConsistency(2n, 5n, 8n, STORE)).rejects.toSatisfy((e) => isTlogError(e, 'invalid_argument'));
    await expect(proveSubtreeInclusion(5n, 0n, 5n, STORE)).rejects.toSatisfy((e) => isTlogError(e, 'invalid_argument'));
    expect(await proveSubtreeConsistency(3n, 3n, 8n, STORE)).toEqual([]);
  });
});
