import { TlogError } from './errors.ts';
import { hashChildren, isHash, type Hash, type HashReader, type NodeId } from './merkle.ts';

/**
 * MemoryHashStore keeps the hash of every complete subtree of a growing tree in memory, level by
 * level, and serves them as a HashReader. It is for tests, tools and small trees: n leaves cost
 * about 2n hashes of memory. It is built directly from the pairwise definition (RFC 9162 §2.1.1),
 * independently of CompactRange, so tests can check one against the other.
 *
 * Not safe for concurrent appends; reads never see a half-appended leaf because append is
 * synchronous.
 */
export class MemoryHashStore implements HashReader {
  readonly #levels: Hash[][] = [];

  /** constructor stores the complete-subtree hashes of a tree with the given leaf hashes. */
  constructor(leafHashes: readonly Hash[] = []) {
    for (const h of leafHashes) this.append(h);
  }

  /** size is the number of leaves stored. */
  get size(): bigint {
    return BigInt(this.#levels[0]?.length ?? 0);
  }

  /** append adds a leaf hash and every complete subtree it completes. */
  append(leafHash: Hash): void {
    if (!isHash(leafHash)) throw new TlogError('invalid_argument', 'leaf hash must be 32 bytes');
    let level = 0;
    let hash = leafHash;
    for (;;) {
      const row = (this.#levels[level] ??= []);
      row.push(hash);
      const index = row.length - 1;
      if (index % 2 === 0) return;
      hash = hashChildren(row[index - 1]!, hash);
      level++;
    }
  }

  /** hash returns the stored hash of a complete subtree, or undefined if it is not complete. */
  hash(id: NodeId): Hash | undefined {
    const row = this.#levels[id.level];
    if (row === undefined || id.index < 0n || id.index >= BigInt(row.length)) return undefined;
    return row[Number(id.index)];
  }

  /** readHashes implements HashReader; it throws TlogError 'missing_hash' for an unknown node. */
  async readHashes(ids: readonly NodeId[]): Promise<Hash[]> {
    return ids.map((id) => {
      const h = this.hash(id);
      if (h === undefined) {
        throw new TlogError('missing_hash', `no stored hash for node level ${id.level} index ${id.index}`);
      }
      return h;
    });
  }

  /** entries lists every stored node and hash, level by level (for tests and debugging). */
  entries(): Array<[NodeId, Hash]> {
    return this.#levels.flatMap((row, level) => row.map((h, i): [NodeId, Hash] => [{ level, index: BigInt(i) }, h]));
  }
}
