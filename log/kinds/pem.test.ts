import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLogError } from '../errors.ts';
import { formatPem, MAX_PEM_BLOCKS, parsePem } from './pem.ts';

const DER = new Uint8Array(Array.from({ length: 100 }, (_, i) => i));

describe('formatPem', () => {
  it('writes Go pem.EncodeToMemory text: 64-column lines, a final newline', () => {
    const text = formatPem('PUBLIC KEY', DER);
    const b64 = Buffer.from(DER).toString('base64');
    expect(text).toBe(`-----BEGIN PUBLIC KEY-----\n${b64.slice(0, 64)}\n${b64.slice(64, 128)}\n${b64.slice(128)}\n-----END PUBLIC KEY-----\n`);
    expect(formatPem('X', new Uint8Array(48)).split('\n')).toHaveLength(4); // exactly one full line
  });
});

describe('parsePem', () => {
  it('round-trips, accepts CRLF, blank lines and other line widths', () => {
    expect(parsePem(formatPem('CERTIFICATE', DER), 'p', 'malformed_certificate')).toEqual([{ type: 'CERTIFICATE', der: DER }]);
    const b64 = Buffer.from(DER).toString('base64');
    const crlf = `\r\n-----BEGIN CERTIFICATE-----\r\n${b64.slice(0, 76)}\r\n${b64.slice(76)}\r\n-----END CERTIFICATE-----\r\n\r\n`;
    expect(parsePem(crlf, 'p', 'malformed_certificate')[0]!.der).toEqual(DER);
    const two = formatPem('CERTIFICATE', DER) + formatPem('CERTIFICATE', DER.subarray(1));
    expect(parsePem(two, 'p', 'malformed_certificate').map((b) => b.der.length)).toEqual([100, 99]);
  });

  it('refuses what Go would skip or accept loosely', () => {
    const good = formatPem('PUBLIC KEY', DER);
    const bad = [
      '',
      'text before\n' + good,
      good.replace('-----BEGIN PUBLIC KEY-----\n', '-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\n'),
      good.replace('-----END PUBLIC KEY-----', '-----END CERTIFICATE-----'),
      good.replace('-----END PUBLIC KEY-----\n', ''),
      good.replace(/=*\n-----END/, '\n-----END'), // missing padding
      good.replace('A', '*'),
      '-----BEGIN X-----\n-----END X-----\n',
      formatPem('CERTIFICATE', DER).repeat(MAX_PEM_BLOCKS + 1),
    ];
    for (const text of bad) {
      expect(() => parsePem(text, 'p', 'malformed_public_key'), JSON.stringify(text.slice(0, 60))).toThrow(expect.objectContaining({ code: 'malformed_public_key' }));
    }
  });

  it('throws only LogError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('-', 'B', 'E', 'G', 'I', 'N', ' ', 'A', '=', '\n', '\r', 'x', '/', '+') }), (text) => {
        try {
          parsePem(text, 'p', 'malformed_certificate');
        } catch (err) {
          if (!isLogError(err)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
