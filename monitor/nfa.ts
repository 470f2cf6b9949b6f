// A Thompson NFA run by state-set simulation (a Pike VM without captures): matching a value of n
// code units against a pattern of m states takes O(n·m) time whatever the pattern, so a rule's
// regex or glob cannot stall a monitor worker however it is written (no backtracking, so no ReDoS).
// Every match is anchored: the whole value must be consumed.
import type { CharSet } from './char-set.ts';
import { MonitorError } from './errors.ts';
import type { RegexNode } from './regex-syntax.ts';

/** MAX_PATTERN_STATES bounds the automaton of one pattern, after counted repetition is expanded. */
export const MAX_PATTERN_STATES = 4096;

const CONSUME = 0; // take one code unit in sets[s], go to out1[s]
const SPLIT = 1; // go to out1[s] and out2[s] without consuming
const MATCH = 2;

// Scratch space shared by every automaton: test() runs to completion synchronously, so one set
// of state lists serves them all, and an automaton costs only its program. A state is marked as
// in the list under construction when marks[state] equals the current generation, which every
// step increments, so lists never need clearing.
const scratch = {
  marks: new Uint32Array(MAX_PATTERN_STATES),
  current: new Int32Array(MAX_PATTERN_STATES),
  next: new Int32Array(MAX_PATTERN_STATES),
  stack: new Int32Array(2 * MAX_PATTERN_STATES + 2),
  generation: 0,
};

function nextGeneration(): number {
  if (scratch.generation >= 0xfffffff0) {
    scratch.marks.fill(0);
    scratch.generation = 0;
  }
  return ++scratch.generation;
}

/**
 * Nfa is a compiled pattern: per state, four int32s in `prog` (kind, out1, out2, and the one code
 * unit a CONSUME state takes, or -2 - i when it takes the class sets[i]).
 */
export class Nfa {
  private readonly prog: Int32Array;
  private readonly sets: CharSet[];
  private readonly start: number;
  private readonly match: number;

  constructor(b: NfaBuilder, start: number) {
    const n = b.kinds.length;
    this.prog = new Int32Array(4 * n);
    this.sets = [];
    for (let s = 0; s < n; s++) {
      const set = b.sets[s];
      let want = -1;
      if (set !== undefined && set.single >= 0) want = set.single;
      else if (set !== undefined) want = -2 - (this.sets.push(set) - 1);
      this.prog.set([b.kinds[s]!, b.out1[s]!, b.out2[s]!, want], 4 * s);
    }
    this.start = start;
    this.match = b.kinds.indexOf(MATCH);
  }

  /** test reports whether the whole of value matches. */
  test(value: string): boolean {
    const { prog, sets } = this;
    let current = scratch.current;
    let next = scratch.next;
    let gen = nextGeneration();
    let count = this.close(this.start, current, 0, gen);
    for (let i = 0; i < value.length && count > 0; i++) {
      const c = value.charCodeAt(i);
      gen = nextGeneration();
      let nextCount = 0;
      for (let k = 0; k < count; k++) {
        const at = 4 * current[k]!;
        if (prog[at] !== CONSUME) continue;
        const want = prog[at + 3]!;
        if (want >= 0 ? c === want : sets[-2 - want]!.has(c)) nextCount = this.close(prog[at + 1]!, next, nextCount, gen);
      }
      const swap = current;
      current = next;
      next = swap;
      count = nextCount;
    }
    return count > 0 && scratch.marks[this.match] === gen;
  }

  // close adds state s and every state reachable from it without consuming to list (once per
  // generation), and returns the new length of list.
  private close(s: number, list: Int32Array, length: number, gen: number): number {
    const { prog } = this;
    const { marks, stack } = scratch;
    let sp = 0;
    stack[sp++] = s;
    while (sp > 0) {
      const t = stack[--sp]!;
      if (marks[t] === gen) continue;
      marks[t] = gen;
      if (prog[4 * t] === SPLIT) {
        stack[sp++] = prog[4 * t + 2]!;
        stack[sp++] = prog[4 * t + 1]!;
      } else list[length++] = t;
    }
    return length;
  }
}

/** compileNfa builds the automaton of a syntax tree, or throws pattern_too_large. */
export function compileNfa(node: RegexNode): Nfa {
  const b = new NfaBuilder();
  const frag = b.build(node);
  const match = b.add(MATCH, undefined);
  b.patch(frag.outs, match);
  return new Nfa(b, frag.start);
}

// A fragment is a partly built automaton: its start state and the dangling exits (state, which
// out) still to be pointed at whatever follows it. out index 1 is out1, 2 is out2.
interface Fragment {
  start: number;
  outs: number[]; // state * 2 + (which - 1)
}

class NfaBuilder {
  readonly kinds: number[] = [];
  readonly out1: number[] = [];
  readonly out2: number[] = [];
  readonly sets: (CharSet | undefined)[] = [];

  add(kind: number, set: CharSet | undefined): number {
    if (this.kinds.length >= MAX_PATTERN_STATES) {
      throw new MonitorError('pattern_too_large', `pattern needs more than ${MAX_PATTERN_STATES} automaton states`);
    }
    this.kinds.push(kind);
    this.out1.push(-1);
    this.out2.push(-1);
    this.sets.push(set);
    return this.kinds.length - 1;
  }

  patch(outs: number[], target: number): void {
    for (const o of outs) (o % 2 === 0 ? this.out1 : this.out2)[o >> 1] = target;
  }

  build(node: RegexNode): Fragment {
    switch (node.type) {
      case 'set': {
        const s = this.add(CONSUME, node.set);
        return { start: s, outs: [s * 2] };
      }
      case 'concat': return this.concat(node.items.map((item) => () => this.build(item)));
      case 'alt': {
        const frags = node.options.map((o) => this.build(o));
        return frags.reduce((a, f) => this.either(a, f));
      }
      case 'repeat': return this.repeat(node.node, node.min, node.max);
    }
  }

  private concat(parts: (() => Fragment)[]): Fragment {
    if (parts.length === 0) return this.epsilon();
    let first: Fragment | undefined;
    let outs: number[] = [];
    for (const part of parts) {
      const f = part();
      if (first === undefined) first = f;
      else this.patch(outs, f.start);
      outs = f.outs;
    }
    return { start: first!.start, outs };
  }

  private either(a: Fragment, b: Fragment): Fragment {
    const s = this.add(SPLIT, undefined);
    this.out1[s] = a.start;
    this.out2[s] = b.start;
    return { start: s, outs: [...a.outs, ...b.outs] };
  }

  private epsilon(): Fragment {
    const s = this.add(SPLIT, undefined); // a split whose two exits are patched to one target
    return { start: s, outs: [s * 2, s * 2 + 1] };
  }

  // repeat expands x{min,max} as min copies of x, then x* or (max - min) nested optional copies.
  private repeat(node: RegexNode, min: number, max: number): Fragment {
    const parts: (() => Fragment)[] = [];
    for (let i = 0; i < min; i++) parts.push(() => this.build(node));
    if (max === Infinity) parts.push(() => this.star(node));
    else if (max > min) parts.push(() => this.optionalChain(node, max - min));
    return this.concat(parts);
  }

  private star(node: RegexNode): Fragment {
    const s = this.add(SPLIT, undefined);
    const body = this.build(node);
    this.out1[s] = body.start;
    this.patch(body.outs, s);
    return { start: s, outs: [s * 2 + 1] };
  }

  // optionalChain builds (x(x(x)?)?)? with n copies: after each copy, either stop or go on.
  private optionalChain(node: RegexNode, n: number): Fragment {
    const s = this.add(SPLIT, undefined);
    const body = this.build(node);
    this.out1[s] = body.start;
    if (n === 1) return { start: s, outs: [s * 2 + 1, ...body.outs] };
    const rest = this.optionalChain(node, n - 1);
    this.patch(body.outs, rest.start);
    return { start: s, outs: [s * 2 + 1, ...rest.outs] };
  }
}
