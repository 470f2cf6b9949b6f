// Glob patterns of watch rules and policies. Two wildcards, nothing else:
// - `*` matches any run of characters, possibly empty, that contains no '/';
// - `**` (or any longer run of stars) matches any run of characters at all.
// Every other character, '?' and '[' included, is literal, and a glob has no escape, so a literal
// '*' is written with an exact or regex rule instead.
//
// '/' is the one separator because it is the one that structures every value a glob meets: the
// path of a URI identity ("https://github.com/org/*/.github/workflows/release.yml@refs/tags/*"),
// the segments of a purl ("pkg:npm/@scope/*" is every package of the scope, "pkg:npm/*" only the
// unscoped ones, "pkg:npm/**" both) and a git ref ("refs/tags/*" is not "refs/tags/a/b"). In an
// email or a domain `*` therefore crosses '.' and '@': "*.example.com" also covers
// "a.b.example.com". That errs towards matching, the safe side for watch rules and for the
// namespace side of a policy; on the allowlist side (an allowed signer's identity) the values are
// URIs and emails, where '/' is the boundary that matters.
import { ANY, CharSet, NOT_SLASH } from './char-set.ts';
import type { RegexNode } from './regex-syntax.ts';

/** parseGlob turns a glob into the syntax tree the automaton compiles; every string is a valid glob. */
export function parseGlob(glob: string): RegexNode {
  const items: RegexNode[] = [];
  let i = 0;
  while (i < glob.length) {
    if (glob[i] !== '*') {
      items.push({ type: 'set', set: CharSet.char(glob.charCodeAt(i)) });
      i++;
      continue;
    }
    let run = 0;
    while (glob[i + run] === '*') run++;
    items.push({ type: 'repeat', node: { type: 'set', set: run === 1 ? NOT_SLASH : ANY }, min: 0, max: Infinity });
    i += run;
  }
  return { type: 'concat', items };
}

/** hasWildcard reports whether a glob has any wildcard, i.e. is not just a literal string. */
export function hasWildcard(glob: string): boolean {
  return glob.includes('*');
}
