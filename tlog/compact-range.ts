import { TlogError } from './errors.ts';
import { EMPTY_ROOT, MAX_UINT64, hashChildren, isHash, type Hash, type NodeId } from './merkle.ts';
import { assertUint64, rangeNodes } from './proof.ts';

/** NodeCallback receives each complete subtree a CompactRange append completes. */
export type NodeCallback = (id: NodeId, hash: Hash) => void;

function popCount(v: bigint): number {
  let n = 0;
  for (; v > 0n; v >>= 1n) n += Number(v & 1n);
  return n;
}

/**
 * CompactRange is the Merkle frontier of a log growing from leaf 0: the hashes of the maximal
 * complete subtrees of [0, size), largest first (one per set bit of size, the nodes of
 * rangeNodes(0, size)). It gives the root at any size and appends in O(log n) hashes without
 * reading history, so a sequencer can persist exactly the new node hashes (tiles) of each batch.
 *
 * Not safe for concurrent use. After a restart, resume it with fromNodes from the persisted
 * frontier of the last committed size.
 */
export class CompactRange {
  #size = 0n;
  #hashes: Hash[] = [];

  /**
   * fromNodes restores a range of `size` leaves from its frontier hashes (as returned by
   * `hashes`, ordered as rangeNodes(0, size)). Throws TlogError 'invalid_argument' unless there
   * are exactly popcount(size) hashes of 32 bytes each. The hashes are copied.
   */
  static fromNodes(size: bigint, hashes: readonly Hash[]): CompactRange {
    assertUint64(size, 'compact range size');
    const want = popCount(size);
    if (hashes.length !== want) {
      throw new TlogError('invalid_argument', `a compact range of size ${size} has ${want} hashes, got ${hashes.length}`);
    }
    hashes.forEach((h, i) => {
      if (!isHash(h)) throw new TlogError('invalid_argument', `compact range hash ${i} is not 32 bytes`);
    });
    const range = new CompactRange();
    range.#size = size;
    range.#hashes = hashes.map((h) => new Uint8Array(h));
    return range;
  }

  /** size is the number of leaves appended so far. */
  get size(): bigint {
    return this.#size;
  }

  /** hashes returns a copy of the frontier hashes, largest subtree first. */
  get hashes(): Hash[] {
    return this.#hashes.map((h) => new Uint8Array(h));
  }

  /** nodes names the frontier hashes: rangeNodes(0, size), in the same order as `hashes`. */
  nodes(): NodeId[] {
    return rangeNodes(0n, this.#size);
  }

  /**
   * append adds one leaf hash. onNode is called for every complete subtree this leaf completes,
   * bottom up, starting with the leaf itself at level 0, so a log can store node hashes without
   * rehashing history. If onNode throws, the range is left unchanged and the error propagates.
   */
  append(leafHash: Hash, onNode?: NodeCallback): void {
    if (!isHash(leafHash)) throw new TlogError('invalid_argument', 'leaf hash must be 32 bytes');
    if (this.#size === MAX_UINT64) throw new TlogError('invalid_argument', 'compact range is full (2^64 − 1 leaves)');
    let hash: Hash = new Uint8Array(leafHash); // the frontier may keep it; don't alias the caller's bytes
    const completed: Array<[NodeId, Hash]> = [[{ level: 0, index: this.#size }, hash]];
    let index = this.#size;
    let keep = this.#hashes.length;
    // Each set low bit of the old size is a left sibling on the frontier waiting for this leaf.
    for (let level = 1; (index & 1n) === 1n; level++) {
      hash = hashChildren(this.#hashes[--keep]!, hash);
      index >>= 1n;
      completed.push([{ level, index }, hash]);
    }
    if (onNode) for (const [id, h] of completed) onNode(id, h);
    this.#hashes.length = keep;
    this.#hashes.push(hash);
    this.#size++;
  }

  /** root returns MTH of the leaves appended so far (RFC 9162 §2.1.1); EMPTY_ROOT when empty. */
  root(): Hash {
    if (this.#hashes.length === 0) return EMPTY_ROOT;
    let h = this.#hashes[this.#hashes.length - 1]!;
    for (let i = this.#hashes.length - 2; i >= 0; i--) h = hashChildren(this.#hashes[i]!, h);
    return h;
  }

  /** clone returns an independent copy, e.g. to stage a batch before committing it. */
  clone(): CompactRange {
    return CompactRange.fromNodes(this.#size, this.#hashes);
  }
}
