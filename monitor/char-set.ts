// Character sets for the pattern automaton (monitor/nfa.ts): sorted, disjoint, inclusive ranges of
// UTF-16 code units, as JavaScript regexes without the `u` flag see strings.

/** MAX_CODE_UNIT is the largest UTF-16 code unit. */
export const MAX_CODE_UNIT = 0xffff;

// SINGLES interns one-unit sets: at most 65,536 of them, in practice the characters rules use.
const SINGLES = new Map<number, CharSet>();

/**
 * CharSet is an immutable set of UTF-16 code units. `ranges` holds [lo0, hi0, lo1, hi1, ...],
 * sorted, disjoint and not adjacent.
 */
export class CharSet {
  readonly ranges: Int32Array;
  /** single is the one code unit in the set when it has exactly one, else -1. */
  readonly single: number;

  private constructor(ranges: Int32Array) {
    this.ranges = ranges;
    this.single = ranges.length === 2 && ranges[0] === ranges[1] ? ranges[0]! : -1;
  }

  /** CharSet.of builds a set from [lo, hi] pairs in any order, merging overlaps. */
  static of(pairs: readonly (readonly [number, number])[]): CharSet {
    const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
    const out: number[] = [];
    for (const [lo, hi] of sorted) {
      const last = out.length - 1;
      if (last > 0 && lo <= out[last]! + 1) out[last] = Math.max(out[last]!, hi);
      else out.push(lo, hi);
    }
    return new CharSet(Int32Array.from(out));
  }

  /** CharSet.char is the set of one code unit; sets of one are shared, as patterns use many. */
  static char(code: number): CharSet {
    let set = SINGLES.get(code);
    if (set === undefined) {
      set = new CharSet(Int32Array.of(code, code));
      SINGLES.set(code, set);
    }
    return set;
  }

  /** has reports whether the code unit c is in the set. */
  has(c: number): boolean {
    const r = this.ranges;
    for (let i = 0; i < r.length; i += 2) {
      if (c < r[i]!) return false;
      if (c <= r[i + 1]!) return true;
    }
    return false;
  }

  /** pairs returns the ranges as [lo, hi] pairs. */
  pairs(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.ranges.length; i += 2) out.push([this.ranges[i]!, this.ranges[i + 1]!]);
    return out;
  }

  /** complement returns every code unit not in the set. */
  complement(): CharSet {
    const out: [number, number][] = [];
    let next = 0;
    for (const [lo, hi] of this.pairs()) {
      if (lo > next) out.push([next, lo - 1]);
      next = hi + 1;
    }
    if (next <= MAX_CODE_UNIT) out.push([next, MAX_CODE_UNIT]);
    return CharSet.of(out);
  }
}

/** DIGIT is \d. */
export const DIGIT = CharSet.of([[0x30, 0x39]]);
/** WORD is \w: ASCII letters, digits and underscore. */
export const WORD = CharSet.of([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]);
/** SPACE is \s: ECMAScript WhiteSpace and LineTerminator (ECMA-262 CharacterClassEscape). */
export const SPACE = CharSet.of([
  [0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029],
  [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff],
]);
/** DOT is '.' without the `s` flag: anything but a line terminator. */
export const DOT = CharSet.of([[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]]).complement();
/** ANY is every code unit (a glob's `**`). */
export const ANY = CharSet.of([[0, MAX_CODE_UNIT]]);
/** NOT_SLASH is every code unit but '/' (a glob's `*`). */
export const NOT_SLASH = CharSet.char(0x2f).complement();
