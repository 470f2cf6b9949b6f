import { TlogError } from './errors.ts';
import { sha256, sha256Node, sha256Prefixed } from './sha256.ts';

/** Hash is a 32-byte SHA-256 Merkle tree hash. */
export type Hash = Uint8Array;

/** HASH_SIZE is the size in bytes of every tree hash (RFC 6962 §2.1, SHA-256). */
export const HASH_SIZE = 32;

/** MAX_UINT64 is the largest tree size or index: sizes and indices are uint64 (RFC 9162 §2.1). */
export const MAX_UINT64 = (1n << 64n) - 1n;

/** RFC6962_LEAF_PREFIX is the domain-separation byte of leaf hashes (RFC 6962 §2.1). */
export const RFC6962_LEAF_PREFIX = 0x00;

/** RFC6962_NODE_PREFIX is the domain-separation byte of interior node hashes (RFC 6962 §2.1). */
export const RFC6962_NODE_PREFIX = 0x01;

/** EMPTY_ROOT is MTH({}) = SHA-256 of the empty string, the root of the empty tree. */
export const EMPTY_ROOT: Hash = sha256(new Uint8Array(0));

/** hashLeaf returns the RFC 6962 leaf hash SHA-256(0x00 || entry). */
export function hashLeaf(entry: Uint8Array): Hash {
  return sha256Prefixed(RFC6962_LEAF_PREFIX, entry);
}

/** hashChildren returns the RFC 6962 interior node hash SHA-256(0x01 || left || right). */
export function hashChildren(left: Hash, right: Hash): Hash {
  return sha256Node(RFC6962_NODE_PREFIX, left, right);
}

/**
 * NodeId names the hash of a complete subtree: the node at `level` (0 = leaves) and `index`
 * covers leaves [index·2^level, (index+1)·2^level).
 */
export interface NodeId {
  level: number;
  index: bigint;
}

/**
 * HashReader reads stored hashes of complete subtrees. Contract: readHashes returns exactly one
 * 32-byte hash per requested id, in request order, or throws (TlogError 'missing_hash' when a hash
 * is not stored). Implementations that read untrusted storage (tiles fetched over HTTP) must have
 * authenticated every hash they return against a verified root; see tile-hash-reader.ts.
 */
export interface HashReader {
  readHashes(ids: readonly NodeId[]): Promise<Hash[]>;
}

/** isHash reports whether h is a 32-byte hash. */
export function isHash(h: unknown): h is Hash {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

/** equalBytes compares two byte strings (tree hashes are public, so no constant-time need). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * splitPoint returns k, the largest power of two smaller than n (RFC 9162 §2.1.1), for n ≥ 2.
 */
export function splitPoint(n: bigint): bigint {
  if (n < 2n) throw new TlogError('invalid_argument', `split point of ${n} is undefined`);
  let k = 1n;
  while (k << 1n < n) k <<= 1n;
  return k;
}

/**
 * rootFromLeafHashes computes MTH over the given leaf hashes directly from the definition
 * (RFC 9162 §2.1.1). It is O(n) and meant for small trees, tests and cross-checks; the log keeps a
 * CompactRange instead.
 */
export function rootFromLeafHashes(leafHashes: readonly Hash[]): Hash {
  if (leafHashes.length === 0) return EMPTY_ROOT;
  let level: Hash[] = leafHashes.slice();
  // Pairwise reduction; an odd node at the right edge is carried up unchanged, which yields the
  // same root as the RFC's recursive definition.
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashChildren(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}
