import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { throwsTlogError } from '../test/tlog-errors.ts';
import { labelledLeafHashes } from '../test/trees.ts';
import { EMPTY_ROOT, rootFromLeafHashes, type Hash, type NodeId } from './merkle.ts';
import { CompactRange } from './compact-range.ts';
import { MemoryHashStore } from './memory-hash-store.ts';
import { rangeNodes } from './proof.ts';

const LEAVES = labelledLeafHashes('entry', 300);
const key = (id: NodeId): string => `${id.level}/${id.index}`;

function build(n: number, onNode?: (id: NodeId, h: Hash) => void): CompactRange {
  const range = new CompactRange();
  for (const leaf of LEAVES.slice(0, n)) range.append(leaf, onNode);
  return range;
}

describe('CompactRange', () => {
  it('starts empty with the empty root', () => {
    const range = new CompactRange();
    expect(range.size).toBe(0n);
    expect(range.root()).toEqual(EMPTY_ROOT);
    expect(range.hashes).toEqual([]);
  });

  it('root equals rootFromLeafHashes at every size up to 300', () => {
    const range = new CompactRange();
    for (let n = 0; n < LEAVES.length; n++) {
      expect(range.root()).toEqual(rootFromLeafHashes(LEAVES.slice(0, n)));
      range.append(LEAVES[n]!);
    }
  });

  it('holds popcount(size) frontier hashes, named by rangeNodes(0, size), equal to the stored subtrees', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 300 }), (n) => {
      const range = build(n);
      const store = new MemoryHashStore(LEAVES.slice(0, n));
      expect(range.nodes()).toEqual(rangeNodes(0n, BigInt(n)));
      expect(range.hashes).toEqual(range.nodes().map((id) => store.hash(id)));
      expect(range.hashes).toHaveLength(n.toString(2).split('1').length - 1);
    }), { numRuns: 60 });
  });

  it('onNode emits exactly the complete-subtree hashes a MemoryHashStore holds, each once, bottom up', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 300 }), (n) => {
      const emitted = new Map<string, Hash>();
      let last: NodeId | undefined;
      build(n, (id, h) => {
        expect(emitted.has(key(id))).toBe(false);
        if (last !== undefined && id.level > 0) expect([id.level, id.index]).toEqual([last.level + 1, last.index >> 1n]);
        emitted.set(key(id), h);
        last = id;
      });
      const stored = new MemoryHashStore(LEAVES.slice(0, n)).entries();
      expect(emitted.size).toBe(stored.length);
      for (const [id, h] of stored) expect(emitted.get(key(id))).toEqual(h);
    }), { numRuns: 60 });
  });

  it('restored from its frontier, it continues exactly like the original', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 100 }), (n, more) => {
      const original = build(n);
      const restored = CompactRange.fromNodes(original.size, original.hashes);
      expect(restored.root()).toEqual(original.root());
      const [a, b] = [new Map<string, Hash>(), new Map<string, Hash>()];
      for (const leaf of LEAVES.slice(n, n + more)) {
        original.append(leaf, (id, h) => a.set(key(id), h));
        restored.append(leaf, (id, h) => b.set(key(id), h));
        expect(restored.root()).toEqual(original.root());
      }
      expect(b).toEqual(a);
      expect(restored.hashes).toEqual(original.hashes);
    }), { numRuns: 60 });
  });

  it('restores at 64-bit sizes and appends there', () => {
    const size = (1n << 64n) - 2n; // 63 set bits
    const frontier = Array.from({ length: 63 }, (_, i) => LEAVES[i]!);
    const range = CompactRange.fromNodes(size, frontier);
    const ids: NodeId[] = [];
    range.append(LEAVES[100]!, (id) => ids.push(id));
    expect(ids).toEqual([{ level: 0, index: size }]); // size is even: the new leaf completes nothing
    expect(range.size).toBe((1n << 64n) - 1n);
    expect(range.hashes).toHaveLength(64);
    expect(() => range.append(LEAVES[0]!)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('rejects a malformed frontier', () => {
    const bad = (f: () => unknown): boolean => throwsTlogError(f, 'invalid_argument');
    const three = build(3).hashes; // 3 = 2 + 1: two hashes
    expect(bad(() => CompactRange.fromNodes(3n, three.slice(1)))).toBe(true);
    expect(bad(() => CompactRange.fromNodes(4n, three))).toBe(true);
    expect(bad(() => CompactRange.fromNodes(3n, [three[0]!, new Uint8Array(31)]))).toBe(true);
    expect(bad(() => CompactRange.fromNodes(-1n, []))).toBe(true);
    expect(bad(() => CompactRange.fromNodes(1n << 64n, []))).toBe(true);
    expect(bad(() => new CompactRange().append(new Uint8Array(33)))).toBe(true);
  });

  it('is left unchanged when onNode throws', () => {
    const range = build(7);
    const before = [range.size, range.root()];
    expect(() => range.append(LEAVES[7]!, (id) => { if (id.level === 2) throw new Error('disk full'); })).toThrow('disk full');
    expect([range.size, range.root()]).toEqual(before);
    range.append(LEAVES[7]!);
    expect(range.root()).toEqual(rootFromLeafHashes(LEAVES.slice(0, 8)));
  });

  it('does not alias caller bytes, and clone is independent', () => {
    const leaf = new Uint8Array(LEAVES[0]!);
    const range = new CompactRange();
    range.append(leaf);
    leaf[0]! ^= 1;
    expect(range.root()).toEqual(LEAVES[0]);
    range.hashes[0]![0]! ^= 1;
    expect(range.root()).toEqual(LEAVES[0]);
    const copy = range.clone();
    copy.append(LEAVES[1]!);
    expect([range.size, copy.size]).toEqual([1n, 2n]);
  });
});
