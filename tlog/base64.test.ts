import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBase64, decodeHex, encodeBase64, encodeHex } from './base64.ts';
import { expectTlogError, expectTlogErrorIfThrows } from '../test/tlog-errors.ts';

describe('decodeBase64 (strict, like Go StdEncoding)', () => {
  it('round-trips any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
    }));
  });

  it.each([
    ['ab!c', 'a character outside the alphabet (Node would skip it)'],
    ['abc', 'missing padding'],
    ['ab=', 'short padding'],
    ['ab==c', 'data after padding'],
    ['ab c', 'whitespace'],
    ['YWJj\n', 'a trailing newline'],
    ['YQ===', 'too much padding'],
    ['YR==', 'non-zero unused bits (non-canonical)'],
    ['YWJ-', 'URL-safe alphabet'],
  ])('rejects %j: %s', (s) => {
    expectTlogError(() => decodeBase64(s), 'malformed_base64');
  });

  it('accepts exactly the strings that are the canonical standard padded encoding of their bytes', () => {
    // The reference rule, written out apart from the implementation: the RFC 4648 §4 padded
    // shape, and zero unused bits in the last group (the last character's low bits).
    const shape = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const canonical = (s: string): boolean => {
      if (!shape.test(s)) return false;
      if (s.endsWith('==')) return (alphabet.indexOf(s[s.length - 3]!) & 0x0f) === 0;
      if (s.endsWith('=')) return (alphabet.indexOf(s[s.length - 2]!) & 0x03) === 0;
      return true;
    };
    const chars = fc.constantFrom(...'AQgwYZz09+/=-_ \n\r!.\u00e9'.split(''));
    const samples = fc.oneof(
      fc.string({ unit: chars, maxLength: 16 }),
      fc.uint8Array({ maxLength: 12 }).map((b) => encodeBase64(b)),
      fc.tuple(fc.uint8Array({ maxLength: 12 }), fc.nat(), chars).map(([b, at, c]) => {
        const s = encodeBase64(b);
        const i = at % (s.length + 1);
        return s.slice(0, i) + c + s.slice(i);
      }),
    );
    fc.assert(fc.property(samples, (s) => {
      const decoded = expectTlogErrorIfThrows(() => decodeBase64(s), 'malformed_base64');
      expect(decoded !== undefined, JSON.stringify(s)).toBe(canonical(s));
    }), { numRuns: 5000 });
  });

  it('accepts the empty string as zero bytes', () => {
    expect(decodeBase64('')).toEqual(new Uint8Array(0));
  });
});

describe('hex', () => {
  it('round-trips and rejects odd or non-hex input', () => {
    expect(decodeHex(encodeHex(new Uint8Array([0, 255, 16])))).toEqual(new Uint8Array([0, 255, 16]));
    expect(() => decodeHex('abc')).toThrow(/not valid hex/);
    expect(() => decodeHex('zz')).toThrow(/not valid hex/);
  });
});
