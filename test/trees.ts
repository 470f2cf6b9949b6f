// trees.ts makes the synthetic leaf hashes the Merkle tree tests build their trees from: cheap,
// distinct and the same on every run.
import { hashLeaf, type Hash } from '../tlog/merkle.ts';
import { sha256 } from '../tlog/sha256.ts';

/** labelledLeafHashes returns n RFC 6962 leaf hashes, of the entries `${label} 0` … `${label} n-1`. */
export function labelledLeafHashes(label: string, n: number): Hash[] {
  return Array.from({ length: n }, (_, i) => hashLeaf(new TextEncoder().encode(`${label} ${i}`)));
}

/**
 * indexLeafHashes returns n synthetic leaf hashes, SHA-256 of each index in decimal ("0", "1", …).
 * They are not RFC 6962 leaf hashes of any entry, only distinct 32-byte values.
 */
export function indexLeafHashes(n: number): Hash[] {
  return Array.from({ length: n }, (_, i) => sha256(new TextEncoder().encode(String(i))));
}
