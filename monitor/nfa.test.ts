import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMonitorError } from './errors.ts';
import { compileNfa, MAX_PATTERN_STATES } from './nfa.ts';
import { parseRegex } from './regex-syntax.ts';

function nfaOf(pattern: string) {
  return compileNfa(parseRegex(pattern));
}

// regexArb builds random patterns of the supported dialect over a small alphabet, nested
// quantifiers and alternations included, so the automaton meets the forms that backtrack badly.
const atomArb = fc.constantFrom('a', 'b', '/', '.', '[ab]', '[^a]', '\\.', '\\d', '1');
const regexArb: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atomArb,
    fc.tuple(tie('node'), tie('node')).map(([a, b]) => a + b),
    fc.tuple(tie('node'), tie('node')).map(([a, b]) => `(?:${a}|${b})`),
    fc.tuple(tie('node'), fc.constantFrom('*', '+', '?', '{2}', '{0,2}', '{1,}')).map(([a, q]) => `(?:${a})${q}`),
  ),
})).node;

const valueArb = fc.string({ unit: fc.constantFrom('a', 'b', '/', '.', '1', '\n'), maxLength: 10 });

describe('Nfa', () => {
  it('agrees with JavaScript RegExp, anchored, on random patterns and strings (property)', () => {
    fc.assert(
      fc.property(regexArb, fc.array(valueArb, { minLength: 1, maxLength: 8 }), (pattern, values) => {
        const native = new RegExp(`^(?:${pattern})$`); // safe here: short inputs in a test
        const nfa = nfaOf(pattern);
        for (const v of values) expect(nfa.test(v), `${pattern} on ${JSON.stringify(v)}`).toBe(native.test(v));
      }),
      { numRuns: 500 },
    );
  });

  // Each of these takes exponential or high-polynomial time in a backtracking engine on the input
  // given; here each is a linear pass. (Timing is not asserted: the suite would simply hang.)
  it.each([
    ['(a+)+b', 'a'.repeat(30_000), false],
    ['(a|a)*b', 'a'.repeat(30_000), false],
    ['(a|aa)*c', 'a'.repeat(30_000), false],
    ['(.*a){12}', 'a'.repeat(30_000) + 'b', false],
    ['a*a*a*a*a*a*b', 'a'.repeat(30_000), false],
    ['(\\w+\\s?)*$', 'word '.repeat(6_000) + '!', false],
    ['(x+x+)+y', 'x'.repeat(30_000), false],
    ['(a+)+b', 'a'.repeat(30_000) + 'b', true],
  ])('matches the ReDoS pattern %s in linear time', (pattern, value, want) => {
    expect(nfaOf(pattern).test(value)).toBe(want);
  });

  it('refuses patterns that expand past MAX_PATTERN_STATES', () => {
    try {
      nfaOf('(?:(?:a{200}){200})');
      expect.unreachable();
    } catch (err) {
      expect(isMonitorError(err, 'pattern_too_large')).toBe(true);
      expect((err as Error).message).toBe(`pattern needs more than ${MAX_PATTERN_STATES} automaton states`);
    }
  });

  it('handles empty loops and reuse across calls', () => {
    const nfa = nfaOf('(a*)*b');
    expect(nfa.test('aab')).toBe(true);
    expect(nfa.test('b')).toBe(true);
    expect(nfa.test('')).toBe(false);
    expect(nfa.test('aa')).toBe(false);
    expect(nfaOf('(?:)*').test('')).toBe(true);
  });
});
