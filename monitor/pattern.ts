// One compiled pattern of a watch rule or policy field: its normalised source, a full test, and the
// literal text every match starts and ends with, which monitor/pattern-set.ts indexes by.
import { MonitorError } from './errors.ts';
import { hasWildcard, parseGlob } from './glob.ts';
import { compileNfa } from './nfa.ts';
import { normaliseIdentity, normaliseKeyFingerprint, normaliseNamespace } from './normalise.ts';
import { parseRegex, type RegexNode } from './regex-syntax.ts';

/** MatchMode is how a pattern is compared with a value. */
export type MatchMode = 'exact' | 'glob' | 'regex';

/**
 * PatternDomain says which values a pattern is compared with, and so how exact and glob patterns
 * are normalised (monitor/normalise.ts); a regex is compared with normalised values as written.
 * 'ref' (a git ref in an allowed signer) is compared verbatim.
 */
export type PatternDomain = 'identity' | 'namespace' | 'key' | 'ref';

/** MAX_PATTERN_LENGTH bounds every pattern, in UTF-16 code units. */
export const MAX_PATTERN_LENGTH = 1024;

/** CompiledPattern is a pattern ready to test normalised values of its domain. */
export interface CompiledPattern {
  mode: MatchMode;
  /** source is the pattern as compared: normalised for exact and glob, as written for regex. */
  source: string;
  /** key names the pattern's compiled form: patterns with one key match the same values. */
  key: string;
  /** literal is the only value the pattern matches, when there is just one (no wildcard). */
  literal: string | undefined;
  /** prefix is literal text that every matching value starts with (possibly empty). */
  prefix: string;
  /** suffix is literal text that every matching value ends with (possibly empty). */
  suffix: string;
  /** test reports whether a normalised value matches, in time linear in its length. */
  test(value: string): boolean;
}

/** normaliseForDomain normalises a value (or an exact or glob pattern) of a domain. */
export function normaliseForDomain(domain: PatternDomain, value: string): string {
  switch (domain) {
    case 'identity': return normaliseIdentity(value);
    case 'namespace': return normaliseNamespace(value);
    case 'key': return normaliseKeyFingerprint(value);
    case 'ref': return value;
  }
}

/** compilePattern compiles a pattern (subscriber input), or throws malformed_pattern or pattern_too_large. */
export function compilePattern(domain: PatternDomain, mode: MatchMode, pattern: string): CompiledPattern {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new MonitorError('pattern_too_large', `pattern is ${pattern.length} characters, above ${MAX_PATTERN_LENGTH}`);
  }
  if (mode === 'exact') return literalPattern(mode, normaliseForDomain(domain, pattern));
  const source = mode === 'glob' ? normaliseForDomain(domain, pattern) : pattern;
  if (mode === 'glob' && !hasWildcard(source)) return literalPattern(mode, source);
  const node = mode === 'glob' ? parseGlob(source) : parseRegex(source);
  const head = literalAffix(node, false);
  if (head.whole) return literalPattern(mode, head.text, source);
  const nfa = compileNfa(node);
  // A literal that every match contains rules most values out with one includes(): cheap insurance
  // for the patterns the index cannot place by prefix or suffix.
  const needle = requiredLiteral(node);
  return {
    mode,
    source,
    key: `${mode}\0${source}`,
    literal: undefined,
    prefix: head.text,
    suffix: literalAffix(node, true).text,
    test: needle.length > 1 ? (value) => value.includes(needle) && nfa.test(value) : (value) => nfa.test(value),
  };
}

function literalPattern(mode: MatchMode, literal: string, source = literal): CompiledPattern {
  return { mode, source, key: `literal\0${literal}`, literal, prefix: literal, suffix: literal, test: (v) => v === literal };
}

/**
 * literalAffix returns the literal text every match of node starts with (or ends with, fromEnd),
 * and whether that text is all the node can match.
 */
export function literalAffix(node: RegexNode, fromEnd: boolean): { text: string; whole: boolean } {
  switch (node.type) {
    case 'set':
      return node.set.single >= 0 ? { text: String.fromCharCode(node.set.single), whole: true } : { text: '', whole: false };
    case 'concat': {
      let text = '';
      const items = fromEnd ? [...node.items].reverse() : node.items;
      for (const item of items) {
        const a = literalAffix(item, fromEnd);
        text = fromEnd ? a.text + text : text + a.text;
        if (!a.whole) return { text, whole: false };
      }
      return { text, whole: true };
    }
    case 'alt': {
      const all = node.options.map((o) => literalAffix(o, fromEnd));
      const text = all.map((a) => a.text).reduce((x, y) => commonAffix(x, y, fromEnd));
      return { text, whole: all.every((a) => a.whole && a.text === text) };
    }
    case 'repeat': {
      if (node.min === 0) return { text: '', whole: node.max === 0 };
      const a = literalAffix(node.node, fromEnd);
      if (a.whole && node.min === node.max) return { text: a.text.repeat(node.min), whole: true };
      return { text: a.text, whole: false };
    }
  }
}

/** requiredLiteral returns the longest literal text found that every match of node contains. */
export function requiredLiteral(node: RegexNode): string {
  switch (node.type) {
    case 'set': return node.set.single >= 0 ? String.fromCharCode(node.set.single) : '';
    case 'alt': return '';
    case 'repeat': return node.min >= 1 ? requiredLiteral(node.node) : '';
    case 'concat': {
      let best = '';
      let run = '';
      for (const item of node.items) {
        if (item.type === 'set' && item.set.single >= 0) {
          run += String.fromCharCode(item.set.single);
          continue;
        }
        const inner = requiredLiteral(item);
        best = [best, run, inner].reduce((a, b) => (b.length > a.length ? b : a));
        run = '';
      }
      return run.length > best.length ? run : best;
    }
  }
}

function commonAffix(a: string, b: string, fromEnd: boolean): string {
  let n = 0;
  const max = Math.min(a.length, b.length);
  if (fromEnd) {
    while (n < max && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
    return a.slice(a.length - n);
  }
  while (n < max && a[n] === b[n]) n++;
  return a.slice(0, n);
}

/** MAX_REASON_VALUE_LENGTH bounds each value quoted in a finding's reason. */
export const MAX_REASON_VALUE_LENGTH = 200;

/**
 * quoteValue quotes a value for a finding's reason: JSON string syntax, so control characters and
 * quotes in attacker-controlled values are escaped, and cut to MAX_REASON_VALUE_LENGTH.
 */
export function quoteValue(value: string): string {
  const cut = value.length > MAX_REASON_VALUE_LENGTH ? `${value.slice(0, MAX_REASON_VALUE_LENGTH)}…` : value;
  return JSON.stringify(cut);
}

/** describePattern names a pattern for a reason, e.g. `glob "pkg:npm/@scope/*"`; a glob without wildcard is `exact`. */
export function describePattern(p: CompiledPattern): string {
  return `${p.mode === 'glob' && p.literal !== undefined ? 'exact' : p.mode} ${quoteValue(p.source)}`;
}
