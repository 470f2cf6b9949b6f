import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBase64, decodeHex, encodeBase64, encodeHex } from './base64.ts';
import { expectTlogError } from '../test/tlog-errors.ts';

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
