// Subtree inclusion and consistency proofs, draft-ietf-plants-merkle-tree-certs §4 ("Subtrees"),
// used by the optional tlog-witness sign-subtree endpoint and by tlog-mirror. A subtree [start, end)
// is the Merkle tree over D[start:end]; the procedures below follow the draft's text step by step.
import { TlogError } from './errors.ts';
import { EMPTY_ROOT, HASH_SIZE, equalBytes, hashChildren, isHash, splitPoint, type Hash, type HashReader } from './merkle.ts';
import {
  assertUint64,
  checkProofHashes,
  describeHashLength,
  inclusionProofRanges,
  readSubtreeHashes,
  rootFromInclusionProof,
  type TreeRange,
} from './proof.ts';

function invalid(message: string): TlogError {
  return new TlogError('invalid_proof', message);
}

/**
 * isValidSubtree reports whether [start, end) is a subtree in the draft's sense (§4.1): start ≤ end
 * and start is a multiple of BIT_CEIL(end − start). [x, x) and [0, x) are always valid.
 */
export function isValidSubtree(start: bigint, end: bigint): boolean {
  if (start < 0n || start > end) return false;
  let ceil = 1n; // BIT_CEIL(0) = BIT_CEIL(1) = 1; as a bigint it cannot overflow near 2^64
  while (ceil < end - start) ceil <<= 1n;
  return start % ceil === 0n;
}

/**
 * verifySubtreeInclusion checks that `proof` shows entry `index`, with hash `leafHash`, in the
 * subtree [start, end) whose hash is `subtreeHash` (draft §4.3.3 and §4.3.4: the RFC 9162 inclusion
 * procedure with index − start in a tree of end − start). Throws TlogError 'invalid_proof'.
 */
export function verifySubtreeInclusion(
  leafHash: Hash, index: bigint, start: bigint, end: bigint, proof: readonly Hash[], subtreeHash: Hash,
): void {
  assertUint64(index, 'entry index');
  assertUint64(start, 'subtree start');
  assertUint64(end, 'subtree end');
  if (!isValidSubtree(start, end)) throw invalid(`[${start}, ${end}) is not a valid subtree`);
  if (index < start || index >= end) throw invalid(`entry ${index} is outside the subtree [${start}, ${end})`);
  if (!isHash(subtreeHash)) throw invalid(`subtree hash is ${describeHashLength(subtreeHash)}, want ${HASH_SIZE}`);
  const computed = rootFromInclusionProof(leafHash, index - start, end - start, proof);
  if (!equalBytes(computed, subtreeHash)) {
    throw invalid(`inclusion proof for entry ${index} does not lead to the hash of subtree [${start}, ${end})`);
  }
}

/**
 * verifySubtreeConsistency checks that `proof` shows the subtree [start, end), whose hash is
 * `subtreeHash`, is part of the tree of `size` whose root is `root` (draft §4.4.3, step by step).
 * An empty subtree needs an empty proof and subtreeHash = SHA-256("") and says nothing about
 * `root`; [0, size) needs an empty proof and byte-equal hashes. Throws TlogError 'invalid_proof'.
 */
export function verifySubtreeConsistency(
  start: bigint, end: bigint, size: bigint, subtreeHash: Hash, root: Hash, proof: readonly Hash[],
): void {
  assertUint64(start, 'subtree start');
  assertUint64(end, 'subtree end');
  assertUint64(size, 'tree size');
  // Step 1.
  if (!isValidSubtree(start, end)) throw invalid(`[${start}, ${end}) is not a valid subtree`);
  if (end > size) throw invalid(`subtree [${start}, ${end}) ends beyond tree size ${size}`);
  checkProofHashes(proof);
  // Step 2.
  if (start === end) {
    if (proof.length !== 0) throw invalid('an empty subtree needs an empty consistency proof');
    if (!equalBytes(subtreeHash, EMPTY_ROOT)) throw invalid('an empty subtree must have the empty tree hash');
    return;
  }
  const [fr, sr] = chainSubtreeConsistency(start, end, size, subtreeHash, proof);
  // Step 9 (tn = 0 is checked by the chain).
  if (!equalBytes(fr, subtreeHash)) throw invalid(`consistency proof does not reproduce the hash of [${start}, ${end})`);
  if (!equalBytes(sr, root)) throw invalid(`consistency proof does not lead to the root of the tree of size ${size}`);
}

// chainSubtreeConsistency is draft §4.4.3 steps 3–8 for start < end ≤ size; it returns [fr, sr].
function chainSubtreeConsistency(
  start: bigint, end: bigint, size: bigint, subtreeHash: Hash, proof: readonly Hash[],
): [Hash, Hash] {
  let [fn, sn, tn] = [start, end - 1n, size - 1n];
  const shift = (): void => {
    fn >>= 1n;
    sn >>= 1n;
    tn >>= 1n;
  };
  // Steps 4–5: climb to the highest node whose hash the subtree and the tree share.
  if (sn === tn) while (fn !== sn) shift();
  else while (fn !== sn && (sn & 1n) === 1n) shift();
  // Steps 6–7.
  let rest = proof;
  let fr = subtreeHash;
  if (fn !== sn) {
    if (proof.length === 0) throw invalid('subtree consistency proof is empty');
    fr = proof[0]!;
    rest = proof.slice(1);
  }
  let sr = fr;
  // Step 8.
  for (const c of rest) {
    if (tn === 0n) throw invalid('subtree consistency proof has more hashes than the tree has levels');
    if ((sn & 1n) === 1n || sn === tn) {
      if (fn < sn) fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while ((sn & 1n) === 0n && sn !== 0n) shift();
    } else {
      sr = hashChildren(sr, c);
    }
    shift();
  }
  if (tn !== 0n) throw invalid('subtree consistency proof has fewer hashes than the tree has levels');
  return [fr, sr];
}

/**
 * subtreeConsistencyProofRanges lists, in proof order, the ranges whose hashes make up
 * SUBTREE_PROOF(start, end, D[0:size]) (draft §4.4.1). Throws 'invalid_argument' unless
 * [start, end) is a valid subtree with end ≤ size.
 */
export function subtreeConsistencyProofRanges(start: bigint, end: bigint, size: bigint): TreeRange[] {
  if (!isValidSubtree(start, end) || end > size) {
    throw new TlogError('invalid_argument', `[${start}, ${end}) is not a valid subtree of a tree of size ${size}`);
  }
  if (start === end) return [];
  const topDown: TreeRange[] = [];
  let [s, a, b] = [start, 0n, size];
  let known = true; // SUBTREE_SUBPROOF's b: will the verifier already know the final node's hash?
  while (!(s === a && end === b)) {
    const k = a + splitPoint(b - a);
    if (end <= k) {
      topDown.push({ start: k, end: b });
      b = k;
    } else {
      // Either k ≤ s (the subtree is right of k), or s = a < k < end (it straddles k and the
      // proof continues with [k, end), whose hash the verifier does not know).
      topDown.push({ start: a, end: k });
      if (s < k) {
        s = k;
        known = false;
      }
      a = k;
    }
  }
  if (!known) topDown.push({ start: a, end: b });
  return topDown.reverse();
}

/**
 * proveSubtreeConsistency builds SUBTREE_PROOF(start, end, D[0:size]) from stored complete-subtree
 * hashes with one readHashes call. Throws 'invalid_argument' for an invalid subtree or end > size.
 */
export async function proveSubtreeConsistency(start: bigint, end: bigint, size: bigint, reader: HashReader): Promise<Hash[]> {
  assertUint64(start, 'subtree start');
  assertUint64(end, 'subtree end');
  assertUint64(size, 'tree size');
  return readSubtreeHashes(subtreeConsistencyProofRanges(start, end, size), reader);
}

/**
 * proveSubtreeInclusion builds the inclusion proof of entry `index` in the subtree [start, end)
 * (draft §4.3.1: PATH(index − start, D[start:end])) from stored complete-subtree hashes.
 */
export async function proveSubtreeInclusion(index: bigint, start: bigint, end: bigint, reader: HashReader): Promise<Hash[]> {
  assertUint64(index, 'entry index');
  assertUint64(start, 'subtree start');
  assertUint64(end, 'subtree end');
  if (!isValidSubtree(start, end) || index < start || index >= end) {
    throw new TlogError('invalid_argument', `entry ${index} is not in a valid subtree [${start}, ${end})`);
  }
  const ranges = inclusionProofRanges(index - start, end - start)
    .map((r) => ({ start: r.start + start, end: r.end + start }));
  return readSubtreeHashes(ranges, reader);
}
