import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeVectors, hex, readVectorJson } from '../test/vectors.ts';
import { EMPTY_ROOT, equalBytes, hashChildren, hashLeaf, rootFromLeafHashes, splitPoint } from './merkle.ts';
import { MemoryHashStore } from './memory-hash-store.ts';
import { treeRoot } from './proof.ts';

interface ReferenceTree {
  hasher_vectors: Array<{ desc: string; hash_hex: string; leaf_hex?: string; left_hex?: string; right_hex?: string }>;
  leaf_inputs_hex: string[];
  node_hashes_by_level_hex: string[][];
  root_hashes_by_size_hex: string[];
}

describeVectors('merkle/rfc6962-reference-tree.json (transparency-dev/merkle constants)', () => {
  const v = readVectorJson<ReferenceTree>('merkle/rfc6962-reference-tree.json');
  const leaves = v.leaf_inputs_hex.map(hex);

  it.each(v.hasher_vectors.map((h) => [h.desc, h] as const))('hasher vector: %s', (_desc, h) => {
    if (h.leaf_hex !== undefined) expect(hashLeaf(hex(h.leaf_hex))).toEqual(hex(h.hash_hex));
    else if (h.left_hex !== undefined) expect(hashChildren(hex(h.left_hex), hex(h.right_hex!))).toEqual(hex(h.hash_hex));
    else expect(EMPTY_ROOT).toEqual(hex(h.hash_hex));
  });

  it('node hashes by level follow leaf = H(0x00‖d), node = H(0x01‖l‖r)', () => {
    const [level0, ...upper] = v.node_hashes_by_level_hex.map((row) => row.map(hex));
    expect(level0).toEqual(leaves.map(hashLeaf));
    let below = level0!;
    for (const row of upper) {
      expect(row).toEqual(row.map((_, i) => hashChildren(below[2 * i]!, below[2 * i + 1]!)));
      below = row;
    }
  });

  it('roots for sizes 0..8 (non-powers of two included)', async () => {
    const leafHashes = leaves.map(hashLeaf);
    const store = new MemoryHashStore(leafHashes);
    for (const [n, want] of v.root_hashes_by_size_hex.entries()) {
      expect(rootFromLeafHashes(leafHashes.slice(0, n))).toEqual(hex(want));
      expect(await treeRoot(BigInt(n), store)).toEqual(hex(want));
    }
  });
});

describe('splitPoint and rootFromLeafHashes', () => {
  it('splitPoint is the largest power of two below n', () => {
    expect([2n, 3n, 4n, 5n, 8n, 9n, 1n << 63n, (1n << 64n) - 1n].map(splitPoint))
      .toEqual([1n, 2n, 2n, 4n, 4n, 8n, 1n << 62n, 1n << 63n]);
  });

  it('rootFromLeafHashes matches the recursive definition of RFC 9162 §2.1.1', () => {
    const mth = (d: Uint8Array[]): Uint8Array => {
      if (d.length === 1) return d[0]!;
      const k = Number(splitPoint(BigInt(d.length)));
      return hashChildren(mth(d.slice(0, k)), mth(d.slice(k)));
    };
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 70 }), (d) => {
      expect(equalBytes(rootFromLeafHashes(d), mth(d))).toBe(true);
    }), { numRuns: 50 });
  });
});
