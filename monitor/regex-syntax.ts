// The regular-expression dialect of watch rules: a subset of ECMAScript regex syntax that is
// regular in the language-theory sense, parsed here and run by the linear-time automaton in
// monitor/nfa.ts. Rule regexes are never handed to `new RegExp`: V8's backtracking engine takes
// exponential time on patterns like (a+)+b, and polynomial time on ones no syntactic check rejects
// (a*a*a*a*b), so the choice is a linear-time engine rather than a ReDoS blacklist.
//
// Supported: literals; '.'; classes [...] and [^...] with ranges; escapes \d \D \w \W \s \S \t \n
// \r \f \v \0 \xHH \uHHHH and any other escaped non-alphanumeric character; groups (...) and
// (?:...); '|'; quantifiers * + ? {n} {n,} {n,m}, with an ignored lazy '?'. A leading '^' and a trailing '$' are accepted and
// redundant: every rule regex is anchored at both ends.
// Refused, with the offset: backreferences, lookaround, named groups, word boundaries, \p{...},
// anchors elsewhere, unescaped '{', '}' or ']' that JavaScript would take literally, empty classes.
import { CharSet, DIGIT, DOT, SPACE, WORD } from './char-set.ts';
import { MonitorError } from './errors.ts';

/** RegexNode is the syntax tree of a pattern; an empty concat matches the empty string. */
export type RegexNode =
  | { type: 'set'; set: CharSet }
  | { type: 'concat'; items: RegexNode[] }
  | { type: 'alt'; options: RegexNode[] }
  | { type: 'repeat'; node: RegexNode; min: number; max: number };

/** MAX_REGEX_REPEAT bounds n and m in {n,m}. */
export const MAX_REGEX_REPEAT = 256;

const SIMPLE_ESCAPES: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13 };
const SET_ESCAPES: Record<string, CharSet> = {
  d: DIGIT, D: DIGIT.complement(), w: WORD, W: WORD.complement(), s: SPACE, S: SPACE.complement(),
};

/** parseRegex parses a rule regex (subscriber input) into a syntax tree, or throws malformed_pattern. */
export function parseRegex(source: string): RegexNode {
  let body = source;
  if (body.startsWith('^')) body = body.slice(1);
  if (body.endsWith('$') && !endsWithEscape(body.slice(0, -1))) body = body.slice(0, -1);
  const p = new Parser(body, source.startsWith('^') ? 1 : 0);
  const node = p.alternation();
  if (!p.done()) p.fail(p.peek() === ')' ? "unmatched ')'" : `unexpected '${p.peek()}'`);
  return node;
}

function endsWithEscape(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string, private readonly offset: number) {}

  done(): boolean { return this.pos >= this.src.length; }
  peek(): string { return this.src.charAt(this.pos); }

  fail(reason: string, at = this.pos): never {
    throw new MonitorError('malformed_pattern', `regex: ${reason} at offset ${at + this.offset}`);
  }

  alternation(): RegexNode {
    const options = [this.concat()];
    while (this.peek() === '|') {
      this.pos++;
      options.push(this.concat());
    }
    return options.length === 1 ? options[0]! : { type: 'alt', options };
  }

  private concat(): RegexNode {
    const items: RegexNode[] = [];
    while (!this.done() && this.peek() !== '|' && this.peek() !== ')') items.push(this.quantified());
    return items.length === 1 ? items[0]! : { type: 'concat', items };
  }

  private quantified(): RegexNode {
    if (this.atQuantifier()) this.fail('nothing to repeat');
    const node = this.atom();
    const q = this.quantifier();
    if (q === undefined) return node;
    if (this.peek() === '?') this.pos++; // lazy: the same language
    if (this.atQuantifier()) this.fail('a quantifier cannot follow a quantifier');
    return { type: 'repeat', node, min: q.min, max: q.max };
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.peek();
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      return { min: c === '+' ? 1 : 0, max: c === '?' ? 1 : Infinity };
    }
    if (!this.isQuantifierBrace()) return undefined;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos))!;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (min > MAX_REGEX_REPEAT || (max !== Infinity && max > MAX_REGEX_REPEAT)) {
      this.fail(`repetition count above ${MAX_REGEX_REPEAT}`);
    }
    if (max < min) this.fail('numbers out of order in {} quantifier');
    this.pos += m[0].length;
    return { min, max };
  }

  private atQuantifier(): boolean {
    const c = this.peek();
    return c === '*' || c === '+' || c === '?' || this.isQuantifierBrace();
  }

  private isQuantifierBrace(): boolean {
    return this.peek() === '{' && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.pos, this.pos + 16));
  }

  private atom(): RegexNode {
    const c = this.peek();
    switch (c) {
      case '(': return this.group();
      case '[': return { type: 'set', set: this.charClass() };
      case '.': this.pos++; return { type: 'set', set: DOT };
      case '\\': return { type: 'set', set: this.escape(false) };
      case '^': case '$': return this.fail('anchors are implicit: a rule regex always matches the whole value');
      case '{': case '}': case ']': return this.fail(`unescaped '${c}' (write \\${c})`);
      default: this.pos++; return { type: 'set', set: CharSet.char(c.charCodeAt(0)) };
    }
  }

  private group(): RegexNode {
    const start = this.pos++; // '('
    if (this.peek() === '?') {
      const head = this.src.slice(this.pos, this.pos + 3);
      const lookaround = head.startsWith('?=') || head.startsWith('?!') || head === '?<=' || head === '?<!';
      if (head.startsWith('?:')) this.pos += 2;
      else if (lookaround) this.fail('lookaround is not supported', start);
      else if (head.startsWith('?<')) this.fail('named groups are not supported (use (?:...))', start);
      else this.fail('unsupported group modifier', start);
    }
    const node = this.alternation();
    if (this.peek() !== ')') this.fail("missing ')'");
    this.pos++;
    return node;
  }

  private charClass(): CharSet {
    const start = this.pos++; // '['
    const negate = this.peek() === '^';
    if (negate) this.pos++;
    if (this.peek() === ']') this.fail('empty character class', start);
    const pairs: (readonly [number, number])[] = [];
    while (this.peek() !== ']') {
      if (this.done()) this.fail("missing ']'");
      const rangeStart = this.pos;
      const lo = this.classAtom();
      if (this.peek() === '-' && this.src.charAt(this.pos + 1) !== ']' && this.pos + 1 < this.src.length) {
        this.pos++;
        const hi = this.classAtom();
        if (lo.single < 0 || hi.single < 0) this.fail('a class escape cannot bound a range', rangeStart);
        if (hi.single < lo.single) this.fail('range out of order in character class', rangeStart);
        pairs.push([lo.single, hi.single]);
      } else pairs.push(...lo.pairs());
    }
    this.pos++; // ']'
    const set = CharSet.of(pairs);
    return negate ? set.complement() : set;
  }

  private classAtom(): CharSet {
    if (this.peek() === '\\') return this.escape(true);
    const code = this.src.charCodeAt(this.pos++);
    return CharSet.char(code);
  }

  // escape reads an escape sequence; its errors point at the backslash.
  private escape(inClass: boolean): CharSet {
    const start = this.pos++; // '\'
    if (this.done()) this.fail('pattern ends with a lone backslash', start);
    const c = this.src.charAt(this.pos++);
    const fail = (reason: string): never => this.fail(reason, start);
    if (SET_ESCAPES[c]) return SET_ESCAPES[c];
    if (SIMPLE_ESCAPES[c] !== undefined) return CharSet.char(SIMPLE_ESCAPES[c]);
    if (c === '0' && !/[0-9]/.test(this.peek())) return CharSet.char(0);
    if (c === 'x' || c === 'u') return CharSet.char(this.hexEscape(c === 'x' ? 2 : 4, c, start));
    if (!/[A-Za-z0-9]/.test(c)) return CharSet.char(c.charCodeAt(0)); // \. \/ \@ ...: the character
    if (/[1-9]/.test(c) || c === 'k') fail('backreferences are not supported');
    if (c === 'b' || c === 'B') fail(inClass ? '\\b in a class is not supported' : 'word boundaries are not supported');
    if (c === 'p' || c === 'P') fail('unicode property escapes are not supported');
    return fail(`unknown escape \\${c}`);
  }

  private hexEscape(digits: number, letter: string, start: number): number {
    const hex = this.src.slice(this.pos, this.pos + digits);
    if (!new RegExp(`^[0-9A-Fa-f]{${digits}}$`).test(hex)) this.fail(`\\${letter} needs ${digits} hex digits`, start);
    this.pos += digits;
    return parseInt(hex, 16);
  }
}
