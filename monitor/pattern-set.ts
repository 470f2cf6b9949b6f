// PatternSet finds, for one normalised value, every pattern that matches it, without looking at
// the patterns that cannot. Each distinct pattern (by CompiledPattern.key) is stored once, with all
// the rules that use it, in exactly one of four places:
// - literal patterns (exact rules, globs without a wildcard, regexes without an operator) in a hash
//   map keyed by their one value: one lookup per value;
// - the others under the longer of their literal prefix and literal suffix, in a prefix or a suffix
//   radix tree: one walk down the value finds the candidates, and only those run their automaton;
// - patterns with neither (a glob starting and ending with a wildcard, a regex like ".*foo.*") in a
//   scan list that every value is tested against. This is the one part whose cost grows with the
//   number of patterns; scanCount exposes its size so that it can be watched and limited.
// Candidates from the trees are as many as the patterns sharing a literal affix with the value,
// which for realistic rules (an organisation's identities, a scope's packages) is a handful.
import { AffixTree } from './affix-tree.ts';
import type { CompiledPattern } from './pattern.ts';

interface Group<T> {
  pattern: CompiledPattern;
  members: Map<string, T>;
}

/** PatternSet indexes compiled patterns, each carrying members (id → payload), for matching. */
export class PatternSet<T> {
  private readonly groups = new Map<string, Group<T>>();
  private readonly literals = new Map<string, Group<T>>();
  private readonly prefixes = new AffixTree<Group<T>>(false);
  private readonly suffixes = new AffixTree<Group<T>>(true);
  private readonly scan = new Set<Group<T>>();
  private readonly candidates: Group<T>[] = []; // scratch for match

  /** patternCount is the number of distinct patterns held. */
  get patternCount(): number {
    return this.groups.size;
  }

  /** scanCount is the number of patterns tested against every value (no literal affix). */
  get scanCount(): number {
    return this.scan.size;
  }

  /** add files payload under pattern with id; an id already under that pattern is replaced. */
  add(pattern: CompiledPattern, id: string, payload: T): void {
    let group = this.groups.get(pattern.key);
    if (group === undefined) {
      group = { pattern, members: new Map() };
      this.groups.set(pattern.key, group);
      this.place(group);
    }
    group.members.set(id, payload);
  }

  /** delete removes id from pattern, dropping the pattern when no member is left; it reports whether id was there. */
  delete(pattern: CompiledPattern, id: string): boolean {
    const group = this.groups.get(pattern.key);
    if (group === undefined || !group.members.delete(id)) return false;
    if (group.members.size === 0) {
      this.groups.delete(pattern.key);
      this.unplace(group);
    }
    return true;
  }

  /**
   * match calls visit(payload, pattern) for every member of every pattern that value matches. It
   * is not reentrant: visit must not call match on the same set.
   */
  match(value: string, visit: (payload: T, pattern: CompiledPattern) => void): void {
    const literal = this.literals.get(value);
    if (literal !== undefined) emit(literal, visit);
    const candidates = this.candidates;
    candidates.length = 0; // in case a visit threw last time
    this.prefixes.collect(value, candidates);
    this.suffixes.collect(value, candidates);
    for (const g of this.scan) candidates.push(g);
    for (let i = 0; i < candidates.length; i++) {
      const g = candidates[i]!;
      if (g.pattern.test(value)) emit(g, visit);
    }
    candidates.length = 0;
  }

  private place(g: Group<T>): void {
    const p = g.pattern;
    if (p.literal !== undefined) this.literals.set(p.literal, g);
    else if (p.prefix.length >= p.suffix.length && p.prefix.length > 0) this.prefixes.add(p.prefix, g);
    else if (p.suffix.length > 0) this.suffixes.add(p.suffix, g);
    else this.scan.add(g);
  }

  private unplace(g: Group<T>): void {
    const p = g.pattern;
    if (p.literal !== undefined) this.literals.delete(p.literal);
    else if (p.prefix.length >= p.suffix.length && p.prefix.length > 0) this.prefixes.delete(p.prefix, g);
    else if (p.suffix.length > 0) this.suffixes.delete(p.suffix, g);
    else this.scan.delete(g);
  }
}

function emit<T>(g: Group<T>, visit: (payload: T, pattern: CompiledPattern) => void): void {
  for (const payload of g.members.values()) visit(payload, g.pattern);
}
