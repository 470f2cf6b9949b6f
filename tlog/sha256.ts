import { createHash } from 'node:crypto';

/**
 * sha256 hashes the concatenation of its arguments with SHA-256.
 *
 * It uses node:crypto (OpenSSL). bench/tlog.ts compares it with @noble/hashes on the inputs the
 * tree hashes (33- and 65-byte messages, and entries up to a few KiB) so the choice stays measured.
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const d = h.digest();
  // A plain Uint8Array view (no copy), so values compare equal to other Uint8Arrays in tests.
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
