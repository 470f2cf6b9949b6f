// Subscriber input is attacker-controlled: addresses that could add recipients or headers are
// refused, rules are validated by the monitor's parser with the ids assigned here, and every list
// is bounded.
import { describe, expect, it } from 'vitest';
import { cleanText } from './finding-facts.ts';
import { clientKey } from './rate-limit.ts';
import { parseEmail, parseSubscribeRequest, ruleSpecsFromForm } from './subscribe-request.ts';

const LIMITS = { maxRules: 3, maxPolicies: 1, maxLogs: 2 };

describe('parseEmail', () => {
  it('accepts plain addresses and refuses anything that could add a recipient or a header', () => {
    expect(parseEmail(' Alice@Example.com ')).toBe('Alice@Example.com');
    for (const bad of ['a@b.com\r\nBcc: x@y.com', 'a@b.com, c@d.com', '<a@b.com>', '"a b"@c.com', 'a@localhost', `${'a'.repeat(250)}@b.com`, 'a@-b.com', 7]) {
      expect(() => parseEmail(bad), String(bad)).toThrowError(expect.objectContaining({ code: 'invalid_email' }) as Error);
    }
  });
});

describe('parseSubscribeRequest', () => {
  const rule = { target: 'identity', match: 'exact', pattern: 'a@example.com' };
  it('validates rules with the monitor parser and names the field', () => {
    const ok = parseSubscribeRequest({ email: 'a@example.com', rules: [rule], delivery: 'daily' }, LIMITS);
    expect(ok).toEqual({ email: 'a@example.com', rules: [rule], policies: [], delivery: 'daily', logs: ['*'] });
    expect(() => parseSubscribeRequest({ email: 'a@example.com', rules: [{ ...rule, match: 'regex', pattern: '(?=a)' }] }, LIMITS)).toThrowError(/rules\[0\]\.pattern/);
    expect(() => parseSubscribeRequest({ email: 'a@example.com', rules: [{ ...rule, id: 'mine' }] }, LIMITS)).toThrowError(/assigned by the server/);
    expect(() => parseSubscribeRequest({ email: 'a@example.com', rules: [] }, LIMITS)).toThrowError(/at least one/);
    expect(() => parseSubscribeRequest({ email: 'a@example.com', rules: [rule, rule, rule, rule] }, LIMITS)).toThrowError(expect.objectContaining({ code: 'too_many_rules' }) as Error);
    expect(() => parseSubscribeRequest({ email: 'a@example.com', rules: [rule], admin: true }, LIMITS)).toThrowError(/not a known field/);
    expect(() => parseSubscribeRequest({ email: 'a@example.com', rules: [rule], logs: ['a b'] }, LIMITS)).toThrowError(/logs/);
    expect(() => parseSubscribeRequest({ email: 'a@example.com', rules: [rule], delivery: 'weekly' }, LIMITS)).toThrowError(/delivery/);
  });

  it('reads the page form: one pattern per line, globs, regexes and a policy', () => {
    const specs = ruleSpecsFromForm({ identities: 'a@example.com\r\n*@corp.example\n', issuer: 'https://accounts.example.com', namespaces: 'regex:pkg:npm/foo-.*', policy_namespace: 'pkg:npm/foo', policy_issuer: 'https://token.actions.githubusercontent.com', policy_identity: 'https://github.com/org/foo/**', policy_ref: 'refs/tags/*' });
    expect(specs.rules).toEqual([
      { target: 'identity', match: 'exact', pattern: 'a@example.com', issuer: 'https://accounts.example.com' },
      { target: 'identity', match: 'glob', pattern: '*@corp.example', issuer: 'https://accounts.example.com' },
      { target: 'namespace', match: 'regex', pattern: 'pkg:npm/foo-.*' },
    ]);
    expect(specs.policies).toEqual([{ namespace: 'pkg:npm/foo', allowedSigners: [{ issuer: 'https://token.actions.githubusercontent.com', identity: { match: 'glob', pattern: 'https://github.com/org/foo/**' }, ref: 'refs/tags/*' }] }]);
  });
});

describe('clientKey and cleanText', () => {
  it('counts IPv6 clients by /64 and unwraps IPv4-mapped addresses', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
  });

  it('escapes line breaks, controls and bidi overrides so a value cannot fake lines or reorder text', () => {
    expect(cleanText('a\r\nClick here\u202Egnp.exe')).toBe('a\\u000d\\u000aClick here\\u202egnp.exe');
    expect(cleanText('x'.repeat(400))).toHaveLength(301);
  });
});
