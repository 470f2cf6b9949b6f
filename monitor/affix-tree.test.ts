import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AffixTree } from './affix-tree.ts';

function found(tree: AffixTree<string>, value: string): string[] {
  const out: string[] = [];
  tree.collect(value, out);
  return out.sort();
}

describe('AffixTree', () => {
  it('finds every key that is a prefix of the value', () => {
    const t = new AffixTree<string>(false);
    for (const k of ['https://github.com/', 'https://github.com/org/', 'https://gitlab.com/', 'h']) t.add(k, k);
    expect(found(t, 'https://github.com/org/repo')).toEqual(['h', 'https://github.com/', 'https://github.com/org/']);
    expect(found(t, 'https://github.co')).toEqual(['h']);
    expect(found(t, 'x')).toEqual([]);
  });

  it('finds every key that is a suffix of the value, built fromEnd', () => {
    const t = new AffixTree<string>(true);
    for (const k of ['@example.com', '.com', '@b.example.com']) t.add(k, k);
    expect(found(t, 'a@b.example.com')).toEqual(['.com', '@b.example.com']);
    expect(found(t, 'a@example.com')).toEqual(['.com', '@example.com']);
  });

  it('agrees with a filter over all keys through adds and deletes (property)', () => {
    const key = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), minLength: 1, maxLength: 5 });
    const op = fc.record({ add: fc.boolean(), key, item: fc.constantFrom('x', 'y') });
    const valueArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 7 });
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 40 }), fc.array(valueArb, { maxLength: 10 }), (fromEnd, ops, values) => {
        const t = new AffixTree<string>(fromEnd);
        const model = new Set<string>(); // "key\0item"
        for (const o of ops) {
          const entry = `${o.key}\0${o.item}`;
          if (o.add) {
            t.add(o.key, entry);
            model.add(entry);
          } else expect(t.delete(o.key, entry)).toBe(model.delete(entry));
        }
        for (const v of values) {
          const want = [...model].filter((e) => {
            const k = e.slice(0, e.indexOf('\0'));
            return fromEnd ? v.endsWith(k) : v.startsWith(k);
          });
          expect(found(t, v)).toEqual(want.sort());
        }
      }),
      { numRuns: 500 },
    );
  });
});
