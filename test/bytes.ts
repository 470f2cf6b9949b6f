// bytes.ts holds small byte-string edits the tests use to corrupt hashes, tiles and proofs.

/**
 * flipBit returns a copy of `bytes` with bit `bit` inverted, counting from the least significant bit
 * of byte 0 (bit 8 is the low bit of byte 1). The input is left as it was.
 */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}
