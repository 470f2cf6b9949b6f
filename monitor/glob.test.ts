import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseGlob } from './glob.ts';
import { compileNfa } from './nfa.ts';
import { referenceGlob } from '../test/monitor-reference.ts';

function globTest(glob: string, value: string): boolean {
  return compileNfa(parseGlob(glob)).test(value);
}

describe('glob', () => {
  it.each([
    ['https://github.com/org/*/.github/workflows/release.yml@refs/tags/*', 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1', true],
    ['https://github.com/org/*/.github/workflows/release.yml@refs/tags/*', 'https://github.com/org/a/b/.github/workflows/release.yml@refs/tags/v1', false],
    ['https://github.com/org/*/.github/workflows/release.yml@refs/tags/*', 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/a/b', false],
    ['https://github.com/org/**', 'https://github.com/org/repo/.github/workflows/x.yml@refs/heads/main', true],
    ['pkg:npm/@scope/*', 'pkg:npm/@scope/name', true],
    ['pkg:npm/*', 'pkg:npm/@scope/name', false], // '*' stays within a segment
    ['pkg:npm/**', 'pkg:npm/@scope/name', true],
    ['*@example.com', 'alice@example.com', true],
    ['*@example.com', 'alice@example.com.evil', false],
    ['*.example.com', 'a.b.example.com', true], // '*' crosses '.'
    ['*.example.com', 'example.com', false],
    ['refs/tags/v*', 'refs/tags/v1.2.3', true],
    ['a?[b]', 'a?[b]', true], // only '*' is special
    ['a***b', 'a/x/b', true], // a run of stars is '**'
  ])('%s on %s → %s', (glob, value, want) => {
    expect(globTest(glob, value)).toBe(want);
    expect(referenceGlob(glob, value)).toBe(want);
  });

  it('agrees with the reference on random globs and values (property)', () => {
    const unit = fc.constantFrom('a', 'b', '/', '.', '*');
    const valueArb = fc.string({ unit: fc.constantFrom('a', 'b', '/', '.'), maxLength: 10 });
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 8 }), fc.array(valueArb, { minLength: 1, maxLength: 6 }), (glob, values) => {
        const nfa = compileNfa(parseGlob(glob));
        for (const v of values) expect(nfa.test(v), `${glob} on ${v}`).toBe(referenceGlob(glob, v));
      }),
      { numRuns: 1000 },
    );
  });
});
