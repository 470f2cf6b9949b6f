// formatSctSignedData lays out RFC 6962 §3.2's digitally-signed struct for a precert_entry byte by
// byte, and refuses lengths its uint24/uint16 prefixes cannot carry.
import { describe, expect, it } from 'vitest';
import { isTlogError } from './errors.ts';
import { formatSctSignedData } from './sct.ts';

describe('formatSctSignedData', () => {
  it('is version, type, timestamp, entry type, issuer key hash, uint24 TBS, uint16 extensions', () => {
    const hash = new Uint8Array(32).fill(0xaa);
    const tbs = Uint8Array.from([1, 2, 3]);
    const out = Buffer.from(formatSctSignedData(0x0102030405060708n, hash, tbs, Uint8Array.from([9])));
    expect(out.toString('hex')).toBe(`0000${'0102030405060708'}0001${'aa'.repeat(32)}000003010203000109`);
    expect(Buffer.from(formatSctSignedData(1n, hash, tbs)).subarray(-2).toString('hex')).toBe('0000');
  });

  it('refuses a TBS of 2^24 bytes and extensions of 2^16 bytes', () => {
    const hash = new Uint8Array(32);
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'no error';
      } catch (err) {
        return isTlogError(err) ? err.code : String(err);
      }
    };
    expect(code(() => formatSctSignedData(1n, hash, new Uint8Array(1 << 24)))).toBe('invalid_argument');
    expect(code(() => formatSctSignedData(1n, hash, new Uint8Array(1), new Uint8Array(1 << 16)))).toBe('invalid_argument');
  });
});
