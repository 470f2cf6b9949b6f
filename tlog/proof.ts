// Merkle inclusion and consistency proofs (RFC 9162 §2.1.3–2.1.4): verification of proofs that
// arrive from elsewhere (attacker-controlled: every hash and size is checked), and generation from
// the stored hashes of complete subtrees (a HashReader), with one batched read per proof.
import { TlogError } from './errors.ts';
import {
  EMPTY_ROOT,
  HASH_SIZE,
  MAX_UINT64,
  equalBytes,
  hashChildren,
  isHash,
  splitPoint,
  type Hash,
  type HashReader,
  type NodeId,
} from './merkle.ts';

/** TreeRange is the half-open leaf interval [start, end) of a tree. */
export interface TreeRange {
  start: bigint;
  end: bigint;
}

/** assertUint64 throws TlogError 'invalid_argument' unless v is a bigint in [0, 2^64). */
export function assertUint64(v: bigint, what: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > MAX_UINT64) {
    throw new TlogError('invalid_argument', `${what} ${String(v)} is not a uint64`);
  }
}

// Bit helpers on bigint: JS `>>` and Math.clz32 work on 32 bits only, and sizes are 64-bit.
function bitLength(v: bigint): number {
  let n = 0;
  for (; v > 0n; v >>= 1n) n++;
  return n;
}

function popCount(v: bigint): number {
  let n = 0;
  for (; v > 0n; v >>= 1n) n += Number(v & 1n);
  return n;
}

function trailingZeros(v: bigint): number {
  let n = 0;
  for (; v > 0n && (v & 1n) === 0n; v >>= 1n) n++;
  return n;
}

function invalid(message: string): TlogError {
  return new TlogError('invalid_proof', message);
}

/** describeHashLength names the size of a value that should be a 32-byte hash, for messages. */
export function describeHashLength(h: unknown): string {
  return h instanceof Uint8Array ? `${h.length} bytes` : 'not bytes';
}

/** checkProofHashes throws TlogError 'invalid_proof' unless every proof element is 32 bytes. */
export function checkProofHashes(proof: readonly Uint8Array[]): void {
  proof.forEach((p, i) => {
    if (!isHash(p)) throw invalid(`proof hash ${i} is ${describeHashLength(p)}, want ${HASH_SIZE}`);
  });
}

function requireHash(h: Uint8Array, what: string): void {
  if (!isHash(h)) throw invalid(`${what} is ${describeHashLength(h)}, want ${HASH_SIZE}`);
}

/**
 * inclusionProofLength returns the number of hashes in the inclusion proof of leaf `index` in a
 * tree of `size` (RFC 9162 §2.1.3.1): one per level below the point where the paths to `index` and
 * `size − 1` diverge, plus one left sibling per set bit of `index` above it. Requires index < size.
 */
export function inclusionProofLength(index: bigint, size: bigint): number {
  if (index >= size) throw new TlogError('invalid_argument', `leaf index ${index} is not below tree size ${size}`);
  const inner = bitLength(index ^ (size - 1n));
  return inner + popCount(index >> BigInt(inner));
}

/**
 * consistencyProofLength returns the number of hashes in the consistency proof from `size1` to
 * `size2` (RFC 9162 §2.1.4.1), for 0 < size1 ≤ size2: the inclusion proof of the last old leaf
 * from the level of the largest complete subtree ending at size1, plus that subtree's hash unless
 * size1 is a power of two (the verifier already has it as root1).
 */
export function consistencyProofLength(size1: bigint, size2: bigint): number {
  if (size1 <= 0n || size1 > size2) {
    throw new TlogError('invalid_argument', `no consistency proof from size ${size1} to size ${size2}`);
  }
  if (size1 === size2) return 0;
  const inner = bitLength((size1 - 1n) ^ (size2 - 1n));
  const border = popCount((size1 - 1n) >> BigInt(inner));
  const shift = trailingZeros(size1);
  const seed = size1 === 1n << BigInt(shift) ? 0 : 1;
  return seed + inner - shift + border;
}

/**
 * rootFromInclusionProof runs RFC 9162 §2.1.3.2 and returns the root that `proof` yields for leaf
 * `index` with hash `leafHash` in a tree of `size`. It throws TlogError 'invalid_proof' when the
 * leaf hash or a proof element is not 32 bytes, index ≥ size, or the proof has the wrong length.
 * All inputs may be attacker-controlled.
 */
export function rootFromInclusionProof(leafHash: Hash, index: bigint, size: bigint, proof: readonly Hash[]): Hash {
  assertUint64(index, 'leaf index');
  assertUint64(size, 'tree size');
  requireHash(leafHash, 'leaf hash');
  if (index >= size) throw invalid(`leaf index ${index} is not below tree size ${size}`);
  checkProofHashes(proof);
  const want = inclusionProofLength(index, size);
  if (proof.length !== want) throw invalid(`inclusion proof has ${proof.length} hashes, want ${want}`);
  let fn = index;
  let sn = size - 1n;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) throw invalid('inclusion proof has more hashes than the tree has levels');
    if ((fn & 1n) === 1n || fn === sn) {
      r = hashChildren(p, r);
      // "until LSB(fn) is set or fn is 0": without the fn = 0 stop this loop never ends.
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw invalid('inclusion proof has fewer hashes than the tree has levels');
  return r;
}

/**
 * verifyInclusion checks that `proof` shows leaf `index`, with hash `leafHash`, in the tree of
 * `size` whose root is `root` (RFC 9162 §2.1.3.2). It returns nothing or throws TlogError
 * 'invalid_proof' saying why (wrong lengths, index ≥ size, or a root mismatch).
 */
export function verifyInclusion(leafHash: Hash, index: bigint, size: bigint, proof: readonly Hash[], root: Hash): void {
  requireHash(root, 'root hash');
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  if (!equalBytes(computed, root)) {
    throw invalid(`inclusion proof for leaf ${index} does not lead to the root of the tree of size ${size}`);
  }
}

/**
 * verifyConsistency checks that `proof` shows the tree of `size1` with root `root1` is a prefix of
 * the tree of `size2` with root `root2` (RFC 9162 §2.1.4.2). Edge cases follow transparency-dev's
 * vectors: size1 = 0 is an error (even 0 → 0; a witness treats "old 0" before calling this), and
 * size1 = size2 needs an empty proof and byte-equal roots. Throws TlogError 'invalid_proof'.
 */
export function verifyConsistency(size1: bigint, size2: bigint, root1: Hash, root2: Hash, proof: readonly Hash[]): void {
  assertUint64(size1, 'first tree size');
  assertUint64(size2, 'second tree size');
  if (size1 === 0n) throw invalid('a consistency proof from the empty tree is meaningless');
  if (size1 > size2) throw invalid(`first tree size ${size1} is larger than second tree size ${size2}`);
  checkProofHashes(proof);
  if (size1 === size2) {
    if (proof.length !== 0) throw invalid(`trees have the same size ${size1} but the proof is not empty`);
    if (!equalBytes(root1, root2)) throw invalid(`trees of the same size ${size1} have different roots`);
    return;
  }
  requireHash(root1, 'first root hash');
  requireHash(root2, 'second root hash');
  const want = consistencyProofLength(size1, size2);
  if (proof.length !== want) throw invalid(`consistency proof has ${proof.length} hashes, want ${want}`);
  const [fr, sr] = chainConsistency(size1, size2, root1, proof);
  if (!equalBytes(fr, root1)) throw invalid(`consistency proof does not reproduce the root of size ${size1}`);
  if (!equalBytes(sr, root2)) throw invalid(`consistency proof does not lead to the root of size ${size2}`);
}

// chainConsistency is RFC 9162 §2.1.4.2 steps 2–6 for 0 < size1 < size2, after the length check.
function chainConsistency(size1: bigint, size2: bigint, root1: Hash, proof: readonly Hash[]): [Hash, Hash] {
  const path = (size1 & (size1 - 1n)) === 0n ? [root1, ...proof] : proof;
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0n) throw invalid('consistency proof has more hashes than the tree has levels');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw invalid('consistency proof has fewer hashes than the tree has levels');
  return [fr, sr];
}

/**
 * rangeNodes lists the maximal complete subtrees covering leaves [start, end), left to right. For
 * start = 0 these are the nodes whose hashes make up a tree's root (one per set bit of end, largest
 * first), which is also what a CompactRange holds and which tiles a reader must fetch for a root.
 */
export function rangeNodes(start: bigint, end: bigint): NodeId[] {
  assertUint64(start, 'range start');
  assertUint64(end, 'range end');
  if (start > end) throw new TlogError('invalid_argument', `range [${start}, ${end}) is reversed`);
  const nodes: NodeId[] = [];
  for (let pos = start; pos < end; ) {
    let level = 0;
    // Grow while pos stays aligned to the next level and the bigger node still fits.
    while (((pos >> BigInt(level)) & 1n) === 0n && pos + (1n << BigInt(level + 1)) <= end) level++;
    nodes.push({ level, index: pos >> BigInt(level) });
    pos += 1n << BigInt(level);
  }
  return nodes;
}

// isAligned reports whether [start, end) is non-empty and start is a multiple of the smallest power
// of two ≥ end − start. Every range in the RFC's PATH/PROOF recursion is aligned, and for aligned
// ranges MTH(D[start:end]) is the right-to-left fold of rangeNodes(start, end).
function isAligned(r: TreeRange): boolean {
  if (r.start < 0n || r.end <= r.start) return false;
  let ceil = 1n;
  while (ceil < r.end - r.start) ceil <<= 1n;
  return r.start % ceil === 0n;
}

function foldRight(hashes: readonly Hash[]): Hash {
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = hashChildren(hashes[i]!, h);
  return h;
}

/**
 * readSubtreeHashes returns MTH(D[start:end]) for each range, reading all the complete-subtree
 * hashes they need in one readHashes call and folding each range's nodes right to left (RFC 9162
 * §2.1.1: the right part of an incomplete range is itself an incomplete tree). Each range must be
 * aligned (start a multiple of the smallest power of two ≥ its size), as in every RFC proof.
 */
export async function readSubtreeHashes(ranges: readonly TreeRange[], reader: HashReader): Promise<Hash[]> {
  const perRange = ranges.map((r) => {
    if (!isAligned(r)) throw new TlogError('invalid_argument', `[${r.start}, ${r.end}) is not an aligned subtree`);
    return rangeNodes(r.start, r.end);
  });
  const ids = perRange.flat();
  const hashes = ids.length === 0 ? [] : await reader.readHashes(ids);
  if (hashes.length !== ids.length) {
    throw new TlogError('missing_hash', `hash reader returned ${hashes.length} hashes for ${ids.length} nodes`);
  }
  hashes.forEach((h, i) => {
    if (!isHash(h)) throw new TlogError('missing_hash', `hash reader returned a malformed hash for node ${i}`);
  });
  let at = 0;
  return perRange.map((nodes) => {
    at += nodes.length;
    return foldRight(hashes.slice(at - nodes.length, at));
  });
}

/** treeRoot returns MTH of the first `size` leaves from stored complete-subtree hashes. */
export async function treeRoot(size: bigint, reader: HashReader): Promise<Hash> {
  assertUint64(size, 'tree size');
  if (size === 0n) return EMPTY_ROOT;
  const [root] = await readSubtreeHashes([{ start: 0n, end: size }], reader);
  return root!;
}

/**
 * inclusionProofRanges lists, in proof order, the ranges whose hashes make up PATH(index, D[0:size])
 * (RFC 9162 §2.1.3.1): the sibling of each subtree on the way from the root down to the leaf.
 * Throws 'invalid_argument' unless 0 ≤ index < size.
 */
export function inclusionProofRanges(index: bigint, size: bigint): TreeRange[] {
  if (index < 0n || index >= size) throw new TlogError('invalid_argument', `leaf index ${index} is not below tree size ${size}`);
  const topDown: TreeRange[] = [];
  let a = 0n;
  let b = size;
  while (b - a > 1n) {
    const k = a + splitPoint(b - a);
    if (index < k) {
      topDown.push({ start: k, end: b });
      b = k;
    } else {
      topDown.push({ start: a, end: k });
      a = k;
    }
  }
  return topDown.reverse();
}

/**
 * consistencyProofRanges lists, in proof order, the ranges whose hashes make up PROOF(size1,
 * D[0:size2]) = SUBPROOF(size1, D[0:size2], true) (RFC 9162 §2.1.4.1). Throws 'invalid_argument'
 * unless 0 < size1 ≤ size2.
 */
export function consistencyProofRanges(size1: bigint, size2: bigint): TreeRange[] {
  if (size1 <= 0n || size1 > size2) {
    throw new TlogError('invalid_argument', `no consistency proof from size ${size1} to size ${size2}`);
  }
  const topDown: TreeRange[] = [];
  let a = 0n;
  let b = size2;
  let known = true; // SUBPROOF's b: is the final subtree the old root itself, known to the verifier?
  while (size1 !== b) {
    const k = a + splitPoint(b - a);
    if (size1 <= k) {
      topDown.push({ start: k, end: b });
      b = k;
    } else {
      topDown.push({ start: a, end: k });
      a = k;
      known = false;
    }
  }
  if (!known) topDown.push({ start: a, end: b });
  return topDown.reverse();
}

/**
 * proveInclusion builds the inclusion proof of leaf `index` in the tree of `size` from stored
 * complete-subtree hashes, with one readHashes call. Throws 'invalid_argument' unless index < size,
 * and whatever the reader throws (TlogError 'missing_hash' for a hash it does not have).
 */
export async function proveInclusion(index: bigint, size: bigint, reader: HashReader): Promise<Hash[]> {
  assertUint64(index, 'leaf index');
  assertUint64(size, 'tree size');
  return readSubtreeHashes(inclusionProofRanges(index, size), reader);
}

/**
 * proveConsistency builds the consistency proof from `size1` to `size2` (0 < size1 ≤ size2; empty
 * when equal) from stored complete-subtree hashes, with one readHashes call.
 */
export async function proveConsistency(size1: bigint, size2: bigint, reader: HashReader): Promise<Hash[]> {
  assertUint64(size1, 'first tree size');
  assertUint64(size2, 'second tree size');
  return readSubtreeHashes(consistencyProofRanges(size1, size2), reader);
}
