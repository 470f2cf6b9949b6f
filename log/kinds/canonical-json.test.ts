import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalizeJson, formatCanonicalJson, type CanonicalJsonValue } from './canonical-json.ts';

describe('formatCanonicalJson (RFC 8785 subset)', () => {
  it('sorts member names by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
    const value = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // Read the order from the text: JSON.parse would list the integer-like name "1" first.
    const names = [...formatCanonicalJson(value).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    // The RFC's expected order; note the emoji (U+1F600, surrogates D83D DE00) sorts before U+FB33.
    expect(names).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
  });

  it('escapes strings as ECMAScript JSON.stringify does (RFC 8785 §3.2.2.2 example)', () => {
    expect(formatCanonicalJson({ string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/' })).toBe('{"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('writes integers, literals, arrays and nested objects without whitespace', () => {
    expect(formatCanonicalJson({ b: [1, -0, true, null, 'x'], a: { d: 9007199254740991, c: {} } })).toBe('{"a":{"c":{},"d":9007199254740991},"b":[1,0,true,null,"x"]}');
  });

  it('refuses what it cannot canonicalize faithfully', () => {
    expect(() => formatCanonicalJson(1.5)).toThrow(TypeError);
    expect(() => formatCanonicalJson(2 ** 53)).toThrow(TypeError);
    expect(() => formatCanonicalJson('\ud800')).toThrow(TypeError);
    expect(() => formatCanonicalJson({ '\udc00': 1 })).toThrow(TypeError);
  });

  it('is a fixed point: canonical text re-parsed canonicalizes to the same bytes', () => {
    const value: fc.Arbitrary<CanonicalJsonValue> = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string({ unit: 'grapheme' }),
        fc.maxSafeInteger(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v')),
        fc.dictionary(fc.string({ unit: 'grapheme' }), tie('v')),
      ),
    })).v as fc.Arbitrary<CanonicalJsonValue>;
    fc.assert(
      fc.property(value, (v) => {
        const bytes = canonicalizeJson(v);
        const again = canonicalizeJson(JSON.parse(new TextDecoder().decode(bytes)) as CanonicalJsonValue);
        expect(again).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });
});
