import { describe, expect, it } from 'vitest';
import { isMonitorError } from './errors.ts';
import { compileNfa } from './nfa.ts';
import { parseRegex } from './regex-syntax.ts';

function accepts(pattern: string, value: string): boolean {
  return compileNfa(parseRegex(pattern)).test(value);
}

function refusal(pattern: string): string {
  try {
    parseRegex(pattern);
  } catch (err) {
    if (isMonitorError(err, 'malformed_pattern')) return err.message;
    throw err;
  }
  throw new Error(`${pattern} was accepted`);
}

describe('parseRegex: the supported dialect', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abcd', false], // anchored at the end
    ['bc', 'abc', false], // anchored at the start
    ['^abc$', 'abc', true], // redundant anchors are accepted
    ['a\\$', 'a$', true], // an escaped '$' is a literal
    ['a|b', 'b', true],
    ['(?:ab)+', 'ababab', true],
    ['(ab)?c', 'c', true],
    ['a{2,3}', 'aaaa', false],
    ['a{2,}', 'aaaaa', true],
    ['a{2}', 'aa', true],
    ['a+?b', 'aab', true], // lazy is the same language
    ['[a-c]+', 'abcb', true],
    ['[^a-c]', 'd', true],
    ['[^a-c]', 'a', false],
    ['[\\d.-]+', '1.2-3', true],
    ['\\w+@\\w+\\.com', 'a_1@b.com', true],
    ['\\s', '\u00a0', true],
    ['\\S', ' ', false],
    ['.', '\n', false], // '.' excludes line terminators, as in JavaScript without the s flag
    ['\\x41\\u0042', 'AB', true],
    ['\\@\\/\\.', '@/.', true],
    ['', '', true],
    ['a|', '', true],
  ])('%s on %j → %s', (pattern, value, want) => {
    expect(accepts(pattern, value)).toBe(want);
  });
});

describe('parseRegex: refusals name the reason and the offset where the construct starts', () => {
  it.each([
    ['(a)\\1', 'backreferences are not supported at offset 3'],
    ['(?<n>a)\\k<n>', 'named groups are not supported (use (?:...)) at offset 0'],
    ['a(?=b)', 'lookaround is not supported at offset 1'],
    ['a(?!b)', 'lookaround is not supported at offset 1'],
    ['(?<=a)b', 'lookaround is not supported at offset 0'],
    ['(?<!a)b', 'lookaround is not supported at offset 0'],
    ['(?i:a)', 'unsupported group modifier at offset 0'],
    ['\\bword\\b', 'word boundaries are not supported at offset 0'],
    ['\\p{L}', 'unicode property escapes are not supported at offset 0'],
    ['a^b', 'anchors are implicit: a rule regex always matches the whole value at offset 1'],
    ['a$b', 'anchors are implicit: a rule regex always matches the whole value at offset 1'],
    ['*a', 'nothing to repeat at offset 0'],
    ['a**', 'a quantifier cannot follow a quantifier at offset 2'],
    ['a{2}{3}', 'a quantifier cannot follow a quantifier at offset 4'],
    ['a{3,2}', 'numbers out of order in {} quantifier at offset 1'],
    ['a{1000}', 'repetition count above 256 at offset 1'],
    ['a{', "unescaped '{' (write \\{) at offset 1"],
    ['a}', "unescaped '}' (write \\}) at offset 1"],
    ['a]', "unescaped ']' (write \\]) at offset 1"],
    ['[]', 'empty character class at offset 0'],
    ['[a', "missing ']' at offset 2"],
    ['[z-a]', 'range out of order in character class at offset 1'],
    ['[\\d-z]', 'a class escape cannot bound a range at offset 1'],
    ['(a', "missing ')' at offset 2"],
    ['a)', "unmatched ')' at offset 1"],
    ['a\\', 'pattern ends with a lone backslash at offset 1'],
    ['\\q', 'unknown escape \\q at offset 0'],
    ['\\x4', '\\x needs 2 hex digits at offset 0'],
    ['^(?=x)', 'lookaround is not supported at offset 1'], // offsets count the stripped '^'
  ])('%s: %s', (pattern, message) => {
    expect(refusal(pattern)).toBe(`regex: ${message}`);
  });
});
