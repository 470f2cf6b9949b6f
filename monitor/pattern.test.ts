import { describe, expect, it } from 'vitest';
import { isMonitorError } from './errors.ts';
import { parseGlob } from './glob.ts';
import { compilePattern, describePattern, MAX_PATTERN_LENGTH, MAX_REASON_VALUE_LENGTH, quoteValue, requiredLiteral } from './pattern.ts';
import { parseRegex } from './regex-syntax.ts';

describe('compilePattern', () => {
  it('normalises exact and glob patterns for their domain, and not regexes', () => {
    expect(compilePattern('identity', 'exact', 'Alice@Example.com').source).toBe('alice@example.com');
    expect(compilePattern('identity', 'glob', 'HTTPS://GitHub.com/Org/*').source).toBe('https://github.com/org/*');
    expect(compilePattern('namespace', 'glob', 'pkg:npm/%40Scope/*').source).toBe('pkg:npm/@scope/*');
    expect(compilePattern('key', 'exact', 'AB'.repeat(32)).source).toBe('ab'.repeat(32));
    expect(compilePattern('ref', 'glob', 'refs/Tags/*').source).toBe('refs/Tags/*');
    expect(compilePattern('identity', 'regex', 'Alice@x\\.com').source).toBe('Alice@x\\.com');
  });

  it.each([
    ['glob', 'https://github.com/org/*', 'https://github.com/org/', ''],
    ['glob', '*@example.com', '', '@example.com'],
    ['glob', 'pkg:npm/@scope/*-plugin', 'pkg:npm/@scope/', '-plugin'],
    ['glob', '**', '', ''],
    ['regex', 'https://github\\.com/(?:a|b)/x', 'https://github.com/', '/x'],
    ['regex', '(?:foo|foobar)baz', 'foo', 'baz'],
    ['regex', 'ab+c', 'ab', 'bc'],
    ['regex', '[ab]c', '', 'c'],
    ['regex', '(?:ab){2}x*', 'abab', ''],
    ['regex', '.*', '', ''],
  ] as const)('%s %s has prefix %j and suffix %j', (mode, pattern, prefix, suffix) => {
    const p = compilePattern('identity', mode, pattern);
    expect(p.literal).toBeUndefined();
    expect([p.prefix, p.suffix]).toEqual([prefix, suffix]);
  });

  it.each([
    ['regex', '.*org5[a-z]*x.*', 'org5'],
    ['regex', '.*(?:abc)+d.*', 'abc'],
    ['regex', '.*(?:abc|abd).*', ''],
    ['regex', '(?:xyz)?a', 'a'],
    ['glob', '**foo**bar-baz**', 'bar-baz'],
  ] as const)('%s %s requires %j', (mode, pattern, want) => {
    expect(requiredLiteral(mode === 'glob' ? parseGlob(pattern) : parseRegex(pattern))).toBe(want);
  });

  it('checks the required literal before running the automaton, with the same answers', () => {
    const p = compilePattern('identity', 'regex', '.*org5[a-z]*x.*');
    expect(['org5x', 'aorg5bbxc', 'org6x', 'org5', ''].map((v) => p.test(v))).toEqual([true, true, false, false, false]);
  });

  it('treats patterns that match one value as literals, sharing one key', () => {
    const exact = compilePattern('identity', 'exact', 'a.b@x.com');
    const glob = compilePattern('identity', 'glob', 'A.B@x.com');
    const regex = compilePattern('identity', 'regex', 'a\\.b@x\\.(?:com)');
    expect([glob.literal, regex.literal]).toEqual(['a.b@x.com', 'a.b@x.com']);
    expect(new Set([exact.key, glob.key, regex.key]).size).toBe(1);
    expect(compilePattern('identity', 'regex', 'a.b@x.com').literal).toBeUndefined(); // '.' is any character
  });

  it('bounds the pattern length', () => {
    expect(() => compilePattern('identity', 'exact', 'a'.repeat(MAX_PATTERN_LENGTH))).not.toThrow();
    try {
      compilePattern('identity', 'glob', 'a'.repeat(MAX_PATTERN_LENGTH + 1));
      expect.unreachable();
    } catch (err) {
      expect(isMonitorError(err, 'pattern_too_large')).toBe(true);
    }
  });
});

describe('quoteValue, describePattern', () => {
  it('escapes control characters and cuts long values', () => {
    expect(quoteValue('a"b\n\u0007')).toBe('"a\\"b\\n\\u0007"');
    expect(quoteValue('x'.repeat(500))).toBe(JSON.stringify(`${'x'.repeat(MAX_REASON_VALUE_LENGTH)}…`));
  });

  it('calls a glob without wildcard exact', () => {
    expect(describePattern(compilePattern('namespace', 'glob', 'pkg:npm/foo'))).toBe('exact "pkg:npm/foo"');
    expect(describePattern(compilePattern('namespace', 'glob', 'pkg:npm/*'))).toBe('glob "pkg:npm/*"');
  });
});
