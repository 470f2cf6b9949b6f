// Entry bundles of C2SP tlog-tiles ("Log entries"): up to 256 entries, each a big-endian uint16
// length followed by the entry's bytes; and which bundles hold which entries.
import { TlogError } from './errors.ts';
import { MAX_UINT64 } from './merkle.ts';
import { TILE_WIDTH, type BundleId } from './tile.ts';

/** MAX_ENTRY_SIZE is the largest entry a bundle can carry: its length prefix is a uint16. */
export const MAX_ENTRY_SIZE = 0xffff;

/** BundleSlice is the part of one bundle a range of entries covers: `count` entries from `first`. */
export interface BundleSlice extends BundleId {
  first: number;
  count: number;
}

/**
 * encodeEntryBundle serialises 1..256 entries as `uint16be length || entry` each (tlog-tiles "Log
 * entries"). Empty entries are allowed (RFC 6962 leaves may be empty and the format can carry
 * them); an entry over 65535 bytes cannot be encoded and throws 'invalid_argument'.
 */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length < 1 || entries.length > TILE_WIDTH) {
    throw new TlogError('invalid_argument', `a bundle holds 1..${TILE_WIDTH} entries, not ${entries.length}`);
  }
  let total = 0;
  entries.forEach((e, i) => {
    if (e.length > MAX_ENTRY_SIZE) {
      throw new TlogError('invalid_argument', `entry ${i} is ${e.length} bytes, over the ${MAX_ENTRY_SIZE}-byte limit`);
    }
    total += 2 + e.length;
  });
  const out = new Uint8Array(total);
  let offset = 0;
  for (const e of entries) {
    out[offset] = e.length >> 8;
    out[offset + 1] = e.length & 0xff;
    out.set(e, offset + 2);
    offset += 2 + e.length;
  }
  return out;
}

/**
 * parseEntryBundle parses an entry bundle strictly and returns copies of its entries. It throws
 * 'malformed_bundle' on a truncated length prefix or entry, on an empty bundle, on more than 256
 * entries and, when `expectedCount` is given (the bundle's width), on any other count, including
 * bytes left over after the expected entries.
 */
export function parseEntryBundle(data: Uint8Array, expectedCount?: number): Uint8Array[] {
  // data is attacker-controlled (fetched from a log or mirror).
  if (expectedCount !== undefined && (!Number.isInteger(expectedCount) || expectedCount < 1 || expectedCount > TILE_WIDTH)) {
    throw new TlogError('invalid_argument', `expected entry count ${expectedCount} is not in 1..${TILE_WIDTH}`);
  }
  const limit = expectedCount ?? TILE_WIDTH;
  const entries: Uint8Array[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (entries.length === limit) {
      throw new TlogError('malformed_bundle', `entry bundle has ${data.length - offset} bytes after its ${limit} entries`);
    }
    if (offset + 2 > data.length) {
      throw new TlogError('malformed_bundle', `entry bundle is truncated in the length prefix of entry ${entries.length}`);
    }
    const length = (data[offset]! << 8) | data[offset + 1]!;
    const end = offset + 2 + length;
    if (end > data.length) {
      throw new TlogError('malformed_bundle', `entry ${entries.length} claims ${length} bytes but ${data.length - offset - 2} remain`);
    }
    entries.push(data.slice(offset + 2, end));
    offset = end;
  }
  if (entries.length === 0) throw new TlogError('malformed_bundle', 'entry bundle is empty');
  if (expectedCount !== undefined && entries.length !== expectedCount) {
    throw new TlogError('malformed_bundle', `entry bundle has ${entries.length} entries, want ${expectedCount}`);
  }
  return entries;
}

/**
 * bundleForEntry returns the bundle that holds entry `index` in a tree of `size`: full if the
 * bundle is complete at that size, else the partial bundle of that size.
 */
export function bundleForEntry(index: bigint, size: bigint): BundleId {
  if (index < 0n || size > MAX_UINT64 || index >= size) {
    throw new TlogError('invalid_argument', `entry ${index} is not in a tree of size ${size}`);
  }
  const bundle = index / BigInt(TILE_WIDTH);
  const left = size - bundle * BigInt(TILE_WIDTH);
  return { index: bundle, width: left >= BigInt(TILE_WIDTH) ? TILE_WIDTH : Number(left) };
}

/**
 * bundlesForRange lists the bundles that hold entries [from, from+count) of a tree of `size`, and
 * which slice of each; the range is cut at `size`, so it is empty when from ≥ size or count = 0
 * (the semantics of tessera's layout.Range).
 */
export function bundlesForRange(from: bigint, count: bigint, size: bigint): BundleSlice[] {
  if (from < 0n || count < 0n || size < 0n || size > MAX_UINT64) {
    throw new TlogError('invalid_argument', `range [${from}, +${count}) of size ${size} is invalid`);
  }
  const end = from + count < size ? from + count : size; // exclusive
  const slices: BundleSlice[] = [];
  const w = BigInt(TILE_WIDTH);
  for (let start = from; start < end; ) {
    const bundle = bundleForEntry(start, size);
    const bundleEnd = bundle.index * w + BigInt(bundle.width);
    const sliceEnd = end < bundleEnd ? end : bundleEnd;
    slices.push({ ...bundle, first: Number(start - bundle.index * w), count: Number(sliceEnd - start) });
    start = sliceEnd;
  }
  return slices;
}
