import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { b64, describeVectors, hex, readVectorJson } from '../test/vectors.ts';
import { flipBit } from '../test/bytes.ts';
import { probeHash, probeProof, readProbes } from '../test/merkle-probes.ts';
import { throwsTlogError } from '../test/tlog-errors.ts';
import { labelledLeafHashes } from '../test/trees.ts';
import { isTlogError } from './errors.ts';
import { equalBytes, hashChildren, hashLeaf, rootFromLeafHashes, splitPoint, type Hash, type HashReader, type NodeId } from './merkle.ts';
import { MemoryHashStore } from './memory-hash-store.ts';
import {
  consistencyProofLength,
  inclusionProofLength,
  proveConsistency,
  proveInclusion,
  rangeNodes,
  rootFromInclusionProof,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from './proof.ts';

// Integer fields of the probe files, quoted before JSON.parse because they can exceed 2^53.
const PROBE_BIGINT_FIELDS = ['leafIdx', 'treeSize', 'size1', 'size2', 'start', 'end', 'size'];

// rejects reports whether a verifier refused its input as invalid_proof; any other error fails.
const rejects = (f: () => void): boolean => throwsTlogError(f, 'invalid_proof');

function replaceAt(proof: readonly Hash[], i: number, h: Hash): Hash[] {
  return proof.map((p, j) => (j === i ? h : p));
}

interface InclusionProbe { source: string; leafIdx: string; treeSize: string; root: string | null; leafHash: string | null; proof: Array<string | null> | null; wantErr: boolean }
interface ConsistencyProbe { source: string; size1: string; size2: string; root1: string | null; root2: string | null; proof: Array<string | null> | null; wantErr: boolean }

describeVectors('merkle/inclusion-probes.json (transparency-dev/merkle testdata/inclusion)', () => {
  const probes = readProbes<InclusionProbe>('merkle/inclusion-probes.json', PROBE_BIGINT_FIELDS);
  it('has all 98 probes', () => expect(probes).toHaveLength(98));
  it.each(probes.map((p) => [p.source, p] as const))('%s', (_source, p) => {
    const run = (): void => verifyInclusion(probeHash(p.leafHash), BigInt(p.leafIdx), BigInt(p.treeSize), probeProof(p.proof), probeHash(p.root));
    expect(rejects(run)).toBe(p.wantErr);
  });
});

describeVectors('merkle/consistency-probes.json (transparency-dev/merkle testdata/consistency)', () => {
  const probes = readProbes<ConsistencyProbe>('merkle/consistency-probes.json', PROBE_BIGINT_FIELDS);
  it('has all 98 probes', () => expect(probes).toHaveLength(98));
  it.each(probes.map((p) => [p.source, p] as const))('%s', (_source, p) => {
    const run = (): void => verifyConsistency(BigInt(p.size1), BigInt(p.size2), probeHash(p.root1), probeHash(p.root2), probeProof(p.proof));
    expect(rejects(run)).toBe(p.wantErr);
  });
});

interface AllProofs {
  leaf_inputs_hex: string[];
  inclusion: Array<{ leaf_index: number; tree_size: number; leaf_hash_hex: string; root_hex: string; proof_hex: string[] }>;
  consistency: Array<{ size1: number; size2: number; root1_hex: string; root2_hex: string; proof_hex: string[] }>;
}

describeVectors('merkle/reference-tree-all-proofs.json (derived, RFC 9162 PATH/PROOF over the RFC 6962 reference tree)', () => {
  const v = readVectorJson<AllProofs>('merkle/reference-tree-all-proofs.json');
  const store = new MemoryHashStore(v.leaf_inputs_hex.map((d) => hashLeaf(hex(d))));

  it('generates every inclusion proof byte for byte, and each verifies', async () => {
    expect(v.inclusion).toHaveLength(36);
    for (const c of v.inclusion) {
      const [index, size] = [BigInt(c.leaf_index), BigInt(c.tree_size)];
      const proof = await proveInclusion(index, size, store);
      expect(proof, `PATH(${index}, D[${size}])`).toEqual(c.proof_hex.map(hex));
      expect(await treeRoot(size, store)).toEqual(hex(c.root_hex));
      verifyInclusion(hex(c.leaf_hash_hex), index, size, proof, hex(c.root_hex));
    }
  });

  it('generates every consistency proof byte for byte, and each verifies', async () => {
    expect(v.consistency).toHaveLength(36);
    for (const c of v.consistency) {
      const [m, n] = [BigInt(c.size1), BigInt(c.size2)];
      const proof = await proveConsistency(m, n, store);
      expect(proof, `PROOF(${m}, D[${n}])`).toEqual(c.proof_hex.map(hex));
      verifyConsistency(m, n, hex(c.root1_hex), hex(c.root2_hex), proof);
    }
  });
});

interface RekorVectors {
  vectors: Array<{ log_index: number; tree_size: number; root_hash_b64: string; inclusion_proof_b64: string[]; checkpoint_note: string; entry_b64: string; leaf_hash_hex: string }>;
}

describeVectors('rekor/rekor-v2-inclusion.json (real log2025-1.rekor.sigstore.dev entries)', () => {
  const v = readVectorJson<RekorVectors>('rekor/rekor-v2-inclusion.json');
  it.each(v.vectors.map((r) => [r.log_index, r] as const))('entry %i: leaf hash, inclusion proof, checkpoint root', (_i, r) => {
    const leaf = hashLeaf(b64(r.entry_b64));
    expect(leaf).toEqual(hex(r.leaf_hash_hex));
    const proof = r.inclusion_proof_b64.map(b64);
    expect(proof).toHaveLength(inclusionProofLength(BigInt(r.log_index), BigInt(r.tree_size)));
    verifyInclusion(leaf, BigInt(r.log_index), BigInt(r.tree_size), proof, b64(r.root_hash_b64));
    // The signed note's body is "<origin>\n<size>\n<base64 root>\n"; its signature is another helper's.
    const [, size, root] = r.checkpoint_note.split('\n');
    expect([size, root]).toEqual([String(r.tree_size), r.root_hash_b64]);
    expect(rejects(() => verifyInclusion(leaf, BigInt(r.log_index), BigInt(r.tree_size), replaceAt(proof, 3, flipBit(proof[3]!, 77)), b64(r.root_hash_b64)))).toBe(true);
  });
});

interface TestLog { entries_utf8: string[]; leaf_hashes_hex: string[]; checkpoints: Array<{ size: number; root_hex: string }> }
interface DerivedProofs {
  inclusion: Array<{ leaf_index: number; tree_size: number; proof_b64: string[] }>;
  consistency: Array<{ size1: number; size2: number; proof_b64: string[] }>;
}

describeVectors('tiles/tessera-testlog/proofs-derived.json against tiles/tessera-testlog/testlog.json', () => {
  const log = readVectorJson<TestLog>('tiles/tessera-testlog/testlog.json');
  const derived = readVectorJson<DerivedProofs>('tiles/tessera-testlog/proofs-derived.json');
  const leaves = log.leaf_hashes_hex.map(hex);
  const store = new MemoryHashStore(leaves);
  const rootAt = (size: number): Hash => hex(log.checkpoints.find((c) => c.size === size)!.root_hex);

  it('leaf hashes are RFC 6962 leaf hashes of the entries, and roots match every checkpoint', async () => {
    expect(log.entries_utf8.map((e) => hashLeaf(new TextEncoder().encode(e)))).toEqual(leaves);
    for (const c of log.checkpoints) expect(await treeRoot(BigInt(c.size), store)).toEqual(hex(c.root_hex));
  });

  it('every derived inclusion proof equals the generated one and verifies against the signed root', async () => {
    expect(derived.inclusion).toHaveLength(120);
    for (const c of derived.inclusion) {
      const [index, size] = [BigInt(c.leaf_index), BigInt(c.tree_size)];
      const proof = await proveInclusion(index, size, store);
      expect(proof).toEqual(c.proof_b64.map(b64));
      verifyInclusion(leaves[c.leaf_index]!, index, size, proof, rootAt(c.tree_size));
    }
  });

  it('every derived consistency proof equals the generated one and verifies against the signed roots', async () => {
    expect(derived.consistency).toHaveLength(105);
    for (const c of derived.consistency) {
      const proof = await proveConsistency(BigInt(c.size1), BigInt(c.size2), store);
      expect(proof).toEqual(c.proof_b64.map(b64));
      verifyConsistency(BigInt(c.size1), BigInt(c.size2), rootAt(c.size1), rootAt(c.size2), proof);
    }
  });
});

describe('RFC 9162 §2.1.3 / §2.1.4 worked example (7 leaves)', () => {
  // Leaf hashes a..f, j; g = ab, h = cd, i = ef, k = gh, l = ij, as in the RFC's figures.
  const [a, b, c, d, e, f, j] = ['a', 'b', 'c', 'd', 'e', 'f', 'j'].map((s) => hashLeaf(new TextEncoder().encode(s))) as Hash[];
  const [g, h, i] = [hashChildren(a!, b!), hashChildren(c!, d!), hashChildren(e!, f!)];
  const [k, l] = [hashChildren(g, h), hashChildren(i, j!)];
  const store = new MemoryHashStore([a!, b!, c!, d!, e!, f!, j!]);

  it.each([
    [0n, [b, h, l]], [3n, [c, g, l]], [4n, [f, j, k]], [6n, [i, k]],
  ] as const)('PATH(%i, D[7])', async (m, want) => {
    expect(await proveInclusion(m, 7n, store)).toEqual(want);
  });

  it.each([
    [3n, [c, d, g, l]], [4n, [l]], [6n, [i, j, k]],
  ] as const)('PROOF(%i, D[7])', async (m, want) => {
    expect(await proveConsistency(m, 7n, store)).toEqual(want);
  });
});

// A shared tree of 300 leaves: complete-subtree hashes do not depend on the tree size, so one
// store serves every size ≤ 300. Roots come from the direct definition, independently of proof.ts.
const N = 300;
const LEAVES = labelledLeafHashes('leaf', N);
const STORE = new MemoryHashStore(LEAVES);
const ROOTS = Array.from({ length: N + 1 }, (_, n) => rootFromLeafHashes(LEAVES.slice(0, n)));

// Independent shapes of RFC 9162 proofs, straight from the recursive definitions in relative
// coordinates: 'L' is a sibling hashed on the left, 'R' on the right, 'S' a leading seed hash.
function pathShape(m: bigint, n: bigint): string {
  const topDown: string[] = [];
  while (n > 1n) {
    const k = splitPoint(n);
    if (m < k) [topDown[topDown.length], n] = ['R', k];
    else [topDown[topDown.length], m, n] = ['L', m - k, n - k];
  }
  return topDown.reverse().join('');
}

function proofShape(m: bigint, n: bigint): string {
  const topDown: string[] = [];
  let seed = '';
  while (m !== n) {
    const k = splitPoint(n);
    if (m <= k) [topDown[topDown.length], n] = ['R', k];
    else [topDown[topDown.length], m, n, seed] = ['L', m - k, n - k, 'S'];
  }
  return seed + topDown.reverse().join('');
}

describe('proof generation and verification over random trees', () => {
  it('every inclusion and consistency proof of every tree up to 64 leaves verifies and has the predicted length', async () => {
    for (let n = 1n; n <= 64n; n++) {
      for (let m = 0n; m < n; m++) {
        const proof = await proveInclusion(m, n, STORE);
        expect(proof).toHaveLength(inclusionProofLength(m, n));
        verifyInclusion(LEAVES[Number(m)]!, m, n, proof, ROOTS[Number(n)]!);
        const cons = await proveConsistency(m + 1n, n, STORE);
        expect(cons).toHaveLength(consistencyProofLength(m + 1n, n));
        verifyConsistency(m + 1n, n, ROOTS[Number(m) + 1]!, ROOTS[Number(n)]!, cons);
      }
    }
  });

  it('reads each proof with a single readHashes call', async () => {
    const calls: NodeId[][] = [];
    const counting: HashReader = { readHashes: (ids) => (calls.push([...ids]), STORE.readHashes(ids)) };
    await proveInclusion(77n, 299n, counting);
    await proveConsistency(37n, 299n, counting);
    await treeRoot(299n, counting);
    // PATH(77, D[299]): 8 complete siblings inside [0, 256), then MTH(D[256:299]) from 4 nodes
    // (32 + 8 + 2 + 1 leaves); the root of 299 = 256 + 32 + 8 + 2 + 1 needs 5.
    expect(calls.map((c) => c.length)).toEqual([12, 13, 5]);
    await proveInclusion(0n, 1n, counting);
    expect(calls).toHaveLength(3); // nothing to read for a one-leaf tree
  });

  it('fails with missing_hash when the reader lacks a node', async () => {
    const small = new MemoryHashStore(LEAVES.slice(0, 5));
    await expect(proveInclusion(0n, 8n, small)).rejects.toSatisfy((e) => isTlogError(e, 'missing_hash'));
  });

  it('random sizes up to 300: inclusion and consistency proofs verify', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.nat(), fc.nat(), async (n, x, y) => {
      const [m, old] = [x % n, (y % n) + 1];
      verifyInclusion(LEAVES[m]!, BigInt(m), BigInt(n), await proveInclusion(BigInt(m), BigInt(n), STORE), ROOTS[n]!);
      verifyConsistency(BigInt(old), BigInt(n), ROOTS[old]!, ROOTS[n]!, await proveConsistency(BigInt(old), BigInt(n), STORE));
    }), { numRuns: 300 });
  });
});

describe('mutations are rejected', () => {
  it('every single-bit flip of every proof hash, the leaf hash and the root (inclusion)', async () => {
    for (const [m, n] of [[0, 1], [5, 6], [123, 300], [255, 256], [256, 299]] as const) {
      const proof = await proveInclusion(BigInt(m), BigInt(n), STORE);
      const [leaf, root] = [LEAVES[m]!, ROOTS[n]!];
      for (let bit = 0; bit < 256; bit++) {
        expect(rejects(() => verifyInclusion(flipBit(leaf, bit), BigInt(m), BigInt(n), proof, root))).toBe(true);
        expect(rejects(() => verifyInclusion(leaf, BigInt(m), BigInt(n), proof, flipBit(root, bit)))).toBe(true);
        proof.forEach((p, i) => {
          expect(rejects(() => verifyInclusion(leaf, BigInt(m), BigInt(n), replaceAt(proof, i, flipBit(p, bit)), root))).toBe(true);
        });
      }
    }
  });

  it('every single-bit flip of every proof hash and of either root (consistency)', async () => {
    for (const [m, n] of [[1, 2], [4, 4], [6, 8], [7, 300], [64, 300], [299, 300]] as const) {
      const proof = await proveConsistency(BigInt(m), BigInt(n), STORE);
      const [r1, r2] = [ROOTS[m]!, ROOTS[n]!];
      for (let bit = 0; bit < 256; bit++) {
        expect(rejects(() => verifyConsistency(BigInt(m), BigInt(n), flipBit(r1, bit), r2, proof))).toBe(true);
        expect(rejects(() => verifyConsistency(BigInt(m), BigInt(n), r1, flipBit(r2, bit), proof))).toBe(true);
        proof.forEach((p, i) => {
          expect(rejects(() => verifyConsistency(BigInt(m), BigInt(n), r1, r2, replaceAt(proof, i, flipBit(p, bit))))).toBe(true);
        });
      }
    }
  });

  it('random bit flips, dropped, duplicated or padded proof hashes', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 2, max: N }), fc.nat(), fc.nat(), fc.nat(255), async (n, x, y, bit) => {
      const [m, old] = [BigInt(x % n), BigInt((y % (n - 1)) + 1)];
      const incl = await proveInclusion(m, BigInt(n), STORE);
      const cons = await proveConsistency(old, BigInt(n), STORE);
      const vi = (p: Hash[]): boolean => rejects(() => verifyInclusion(LEAVES[Number(m)]!, m, BigInt(n), p, ROOTS[n]!));
      const vc = (p: Hash[]): boolean => rejects(() => verifyConsistency(old, BigInt(n), ROOTS[Number(old)]!, ROOTS[n]!, p));
      for (const [proof, v] of [[incl, vi], [cons, vc]] as const) {
        if (proof.length > 0) {
          const i = bit % proof.length;
          expect(v(replaceAt(proof, i, flipBit(proof[i]!, bit)))).toBe(true);
          expect(v(proof.slice(1))).toBe(true);
          expect(v(proof.slice(0, -1))).toBe(true);
        }
        expect(v([...proof, proof[0] ?? ROOTS[n]!])).toBe(true);
        expect(v([new Uint8Array(32), ...proof])).toBe(true);
        expect(v([...proof.slice(0, 1), new Uint8Array(33), ...proof.slice(1)])).toBe(true);
      }
    }), { numRuns: 200 });
  });

  // Changing the index or size while keeping the proof and root is accepted exactly when the new
  // parameters give the proof the same shape (the same left/right sequence), which is common: leaf
  // 0's proof in a tree of 3 also "verifies" as a tree of 4 against the same root. That is sound
  // only because a verifier takes size and root together from one signed checkpoint; so the tests
  // also check, with the true root of the changed size, that only the true proof verifies.
  const tweaks = (v: bigint): bigint[] => [v + 1n, v - 1n, v * 2n, v / 2n, ...[0, 1, 2, 3, 5, 8].map((b) => v ^ (1n << BigInt(b)))];
  const sameHashes = (p: Hash[], q: Hash[]): boolean => p.length === q.length && p.every((h, i) => equalBytes(h, q[i]!));

  it('changed index or size (±1, ×2, ÷2, XOR bits) in an inclusion check', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.nat(), async (n, x) => {
      const [m, size] = [BigInt(x % n), BigInt(n)];
      const proof = await proveInclusion(m, size, STORE);
      const check = async (m2: bigint, n2: bigint): Promise<void> => {
        const accepted = !rejects(() => verifyInclusion(LEAVES[Number(m)]!, m2, n2, proof, ROOTS[n]!));
        const same = m2 < n2 && pathShape(m2, n2) === pathShape(m, size);
        expect(accepted, `index ${m}→${m2}, size ${size}→${n2}, same root`).toBe(same);
        if (m2 !== m && n2 === size) expect(accepted).toBe(false);
        if (m2 >= n2 || n2 > BigInt(N)) return;
        const honest = !rejects(() => verifyInclusion(LEAVES[Number(m2)]!, m2, n2, proof, ROOTS[Number(n2)]!));
        expect(honest, `index ${m}→${m2}, size ${size}→${n2}, true root`).toBe(sameHashes(proof, await proveInclusion(m2, n2, STORE)));
      };
      for (const m2 of tweaks(m)) if (m2 >= 0n) await check(m2, size);
      for (const n2 of tweaks(size)) if (n2 >= 0n) await check(m, n2);
    }), { numRuns: 300 });
  });

  it('changed sizes (±1, ×2, ÷2, XOR bits) in a consistency check', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.nat(), async (n, y) => {
      const [m, size] = [BigInt((y % n) + 1), BigInt(n)];
      const proof = await proveConsistency(m, size, STORE);
      const check = async (m2: bigint, n2: bigint): Promise<void> => {
        const accepted = !rejects(() => verifyConsistency(m2, n2, ROOTS[Number(m)]!, ROOTS[n]!, proof));
        const same = m2 > 0n && m2 <= n2 && proofShape(m2, n2) === proofShape(m, size);
        expect(accepted, `size1 ${m}→${m2}, size2 ${size}→${n2}, same roots`).toBe(same);
        if (m2 <= 0n || m2 > n2 || n2 > BigInt(N)) return;
        const honest = !rejects(() => verifyConsistency(m2, n2, ROOTS[Number(m2)]!, ROOTS[Number(n2)]!, proof));
        expect(honest, `size1 ${m}→${m2}, size2 ${size}→${n2}, true roots`).toBe(sameHashes(proof, await proveConsistency(m2, n2, STORE)));
      };
      for (const m2 of tweaks(m)) if (m2 >= 0n) await check(m2, size);
      for (const n2 of tweaks(size)) if (n2 >= 0n) await check(m, n2);
    }), { numRuns: 300 });
  });
});

describe('64-bit sizes', () => {
  const u64 = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n });
  const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });

  it('inclusion: the verifier folds any-size proofs exactly as the recursive PATH shape says', () => {
    fc.assert(fc.property(u64, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), hash, fc.array(hash, { minLength: 64, maxLength: 64 }), (n, x, leaf, pool) => {
      const m = x % n;
      const shape = pathShape(m, n);
      const proof = pool.slice(0, shape.length);
      let r: Hash = leaf;
      [...shape].forEach((dir, i) => { r = dir === 'L' ? hashChildren(proof[i]!, r) : hashChildren(r, proof[i]!); });
      expect(rootFromInclusionProof(leaf, m, n, proof)).toEqual(r);
      verifyInclusion(leaf, m, n, proof, r);
      expect(rejects(() => verifyInclusion(leaf, m, n, [...proof, leaf], r))).toBe(true);
    }), { numRuns: 200 });
  });

  it('consistency: the verifier accepts exactly the roots the recursive PROOF shape yields', () => {
    fc.assert(fc.property(u64, u64, hash, fc.array(hash, { minLength: 65, maxLength: 65 }), (p, q, root1, pool) => {
      const [m, n] = p <= q ? [p, q] : [q, p];
      const shape = proofShape(m, n);
      const proof = pool.slice(0, shape.length);
      let [fr, sr]: [Hash, Hash] = shape.startsWith('S') ? [proof[0]!, proof[0]!] : [root1, root1];
      [...shape.replace(/^S/, '')].forEach((dir, i) => {
        const c = proof[i + (shape.startsWith('S') ? 1 : 0)]!;
        if (dir === 'L') [fr, sr] = [hashChildren(c, fr), hashChildren(c, sr)];
        else sr = hashChildren(sr, c);
      });
      expect(proof).toHaveLength(m === n ? 0 : consistencyProofLength(m, n));
      verifyConsistency(m, n, fr, sr, proof);
      expect(rejects(() => verifyConsistency(m, n, fr, flipBit(sr, 9), proof))).toBe(true);
    }), { numRuns: 200 });
  });

  it('the largest tree: leaf 2^64 − 2 of a tree of 2^64 − 1 has a 64-hash proof', () => {
    const n = (1n << 64n) - 1n;
    expect(inclusionProofLength(n - 1n, n)).toBe(63);
    expect(inclusionProofLength(0n, n)).toBe(64);
    expect(rejects(() => rootFromInclusionProof(new Uint8Array(32), n, n, []))).toBe(true);
  });
});

describe('input validation', () => {
  const leaf = LEAVES[0]!;

  it('rejects non-32-byte leaf hashes, roots and proof hashes with invalid_proof', async () => {
    const proof = await proveInclusion(0n, 2n, STORE);
    expect(rejects(() => verifyInclusion(leaf.slice(1), 0n, 2n, proof, ROOTS[2]!))).toBe(true);
    expect(rejects(() => verifyInclusion(leaf, 0n, 2n, proof, new Uint8Array(0)))).toBe(true);
    expect(rejects(() => verifyInclusion(leaf, 0n, 2n, [new Uint8Array(31)], ROOTS[2]!))).toBe(true);
    expect(rejects(() => verifyConsistency(1n, 2n, leaf, ROOTS[2]!, [new Uint8Array(64)]))).toBe(true);
  });

  it('rejects sizes outside uint64 with invalid_argument', () => {
    expect(() => verifyInclusion(leaf, -1n, 2n, [], leaf)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => verifyConsistency(1n, 1n << 64n, leaf, leaf, [])).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('refuses to generate impossible proofs', async () => {
    await expect(proveInclusion(3n, 3n, STORE)).rejects.toSatisfy((e) => isTlogError(e, 'invalid_argument'));
    await expect(proveConsistency(0n, 3n, STORE)).rejects.toSatisfy((e) => isTlogError(e, 'invalid_argument'));
    await expect(proveConsistency(4n, 3n, STORE)).rejects.toSatisfy((e) => isTlogError(e, 'invalid_argument'));
    expect(await proveConsistency(3n, 3n, STORE)).toEqual([]);
  });
});

describe('rangeNodes', () => {
  it('covers [start, end) with contiguous, aligned, maximal complete subtrees', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 40n }), (start, len) => {
      const end = start + len > (1n << 64n) - 1n ? (1n << 64n) - 1n : start + len;
      let pos = start;
      for (const { level, index } of rangeNodes(start, end)) {
        const width = 1n << BigInt(level);
        expect(index * width).toBe(pos);
        // Maximal: the parent node would reach outside the range.
        const parent = index >> 1n;
        expect(parent * 2n * width < start || (parent + 1n) * 2n * width > end).toBe(true);
        pos += width;
      }
      expect(pos).toBe(end);
    }), { numRuns: 300 });
  });

  it('for [0, size) lists one node per set bit of size, largest first', () => {
    expect(rangeNodes(0n, 13n)).toEqual([{ level: 3, index: 0n }, { level: 2, index: 2n }, { level: 0, index: 12n }]);
    expect(rangeNodes(5n, 13n)).toEqual([{ level: 0, index: 5n }, { level: 1, index: 3n }, { level: 2, index: 2n }, { level: 0, index: 12n }]);
    expect(rangeNodes(7n, 7n)).toEqual([]);
    expect(() => rangeNodes(8n, 7n)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
