import { describe, expect, it } from 'vitest';
import { isMonitorError, type MonitorErrorCode } from './errors.ts';
import { parseRuleSet, parseRuleSetJson, parseSignerPolicy, parseWatchRule, type SignerPolicy, type WatchRule } from './rules.ts';

const GITHUB = 'https://token.actions.githubusercontent.com';
const NOT_A_PACKAGE = 'names a package version, qualifiers or subpath: a namespace is a package (pkg:<type>/<name>)';
const RULE: WatchRule = { id: 'r1', subscriberId: 'sub-1', target: 'identity', match: 'exact', pattern: 'alice@example.com' };
const POLICY: SignerPolicy = {
  id: 'p1',
  subscriberId: 'sub-1',
  namespace: 'pkg:npm/foo',
  allowedSigners: [
    {
      issuer: GITHUB,
      identity: { match: 'glob', pattern: 'https://github.com/org/foo/.github/workflows/release.yml@refs/tags/*' },
      workflow: 'org/foo/.github/workflows/release.yml',
      ref: 'refs/tags/*',
    },
  ],
};

function refusal(fn: () => unknown): { code: MonitorErrorCode; message: string } {
  try {
    fn();
  } catch (err) {
    if (isMonitorError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('accepted');
}

describe('parseWatchRule', () => {
  it('accepts every target and mode', () => {
    expect(parseWatchRule(RULE)).toEqual(RULE);
    expect(parseWatchRule({ ...RULE, issuer: GITHUB, match: 'glob', pattern: 'https://github.com/org/*/**' })).toMatchObject({ issuer: GITHUB });
    expect(parseWatchRule({ ...RULE, target: 'namespace', match: 'glob', pattern: 'pkg:npm/@scope/*' }).target).toBe('namespace');
    expect(parseWatchRule({ ...RULE, target: 'key', pattern: 'AB'.repeat(32) }).pattern).toBe('AB'.repeat(32));
    expect(parseWatchRule({ ...RULE, match: 'regex', pattern: '[a-z]+@example\\.com' }).match).toBe('regex');
  });

  it.each<[string, unknown, MonitorErrorCode, string]>([
    ['not an object', [RULE], 'malformed_rule', 'rule: must be an object'],
    ['null', null, 'malformed_rule', 'rule: must be an object'],
    ['unknown field', { ...RULE, patern: 'x' }, 'malformed_rule', 'rule.patern: is not a known field'],
    ['missing id', { ...RULE, id: undefined }, 'malformed_rule', 'rule.id: is missing'],
    ['id with a space', { ...RULE, id: 'a b' }, 'malformed_rule', 'rule.id: must be 1 to 128 printable ASCII characters without spaces'],
    ['id too long', { ...RULE, id: 'x'.repeat(129) }, 'malformed_rule', 'rule.id: must be 1 to 128 printable ASCII characters without spaces'],
    ['numeric subscriber', { ...RULE, subscriberId: 7 }, 'malformed_rule', 'rule.subscriberId: must be a string'],
    ['bad target', { ...RULE, target: 'email' }, 'malformed_rule', 'rule.target: must be one of identity, namespace, key'],
    ['bad mode', { ...RULE, match: 'prefix' }, 'malformed_rule', 'rule.match: must be one of exact, glob, regex'],
    ['empty pattern', { ...RULE, pattern: '' }, 'malformed_rule', 'rule.pattern: is empty'],
    ['padded pattern', { ...RULE, pattern: ' a@b.c' }, 'malformed_rule', 'rule.pattern: has leading or trailing whitespace'],
    ['control character', { ...RULE, pattern: 'a@b.c\n' }, 'malformed_rule', 'rule.pattern: contains a control character'],
    ['issuer on a key rule', { ...RULE, target: 'key', pattern: 'ab'.repeat(32), issuer: GITHUB }, 'malformed_rule', 'rule.issuer: applies only to identity rules'],
    ['issuer not a URL', { ...RULE, issuer: 'github' }, 'malformed_rule', 'rule.issuer: must be an http(s) URL, the OIDC issuer identifier'],
    ['short key', { ...RULE, target: 'key', pattern: 'abcd' }, 'malformed_rule', 'rule.pattern: must be 64 hex digits (SHA-256 of the key)'],
    ['versioned purl', { ...RULE, target: 'namespace', pattern: 'pkg:npm/foo@1.0.0' }, 'malformed_rule', `rule.pattern: ${NOT_A_PACKAGE}`],
    ['purl without name', { ...RULE, target: 'namespace', pattern: 'pkg:npm' }, 'malformed_rule', 'rule.pattern: is not a purl: pkg:<type>/[<namespace>/]<name>'],
    ['lookahead', { ...RULE, match: 'regex', pattern: '(?=a).*' }, 'malformed_pattern', 'rule.pattern: regex: lookaround is not supported at offset 0'],
    ['backreference', { ...RULE, match: 'regex', pattern: '(a+)\\1' }, 'malformed_pattern', 'rule.pattern: regex: backreferences are not supported at offset 4'],
    ['huge repetition', { ...RULE, match: 'regex', pattern: '(?:[a-z]{200}){30}' }, 'pattern_too_large',
      'rule.pattern: pattern needs more than 4096 automaton states'],
    ['too long', { ...RULE, match: 'regex', pattern: 'a'.repeat(1025) }, 'pattern_too_large', 'rule.pattern: pattern is 1025 characters, above 1024'],
    ['too long exact', { ...RULE, pattern: 'a'.repeat(1025) }, 'pattern_too_large', 'rule.pattern: pattern is 1025 characters, above 1024'],
    ['issuer too long', { ...RULE, issuer: `https://${'a'.repeat(1020)}` }, 'malformed_rule', 'rule.issuer: is longer than 1024 characters'],
  ])('refuses %s', (_name, value, code, message) => {
    expect(refusal(() => parseWatchRule(value))).toEqual({ code, message });
  });
});

describe('parseSignerPolicy', () => {
  it('accepts a policy with optional workflow and ref', () => {
    expect(parseSignerPolicy(POLICY)).toEqual(POLICY);
    const minimal = { ...POLICY, namespace: 'pkg:npm/@scope/*', allowedSigners: [{ issuer: GITHUB, identity: { match: 'regex', pattern: '.*' } }] };
    expect(parseSignerPolicy(minimal)).toEqual(minimal);
  });

  const signer = POLICY.allowedSigners[0]!;
  it.each<[string, unknown, MonitorErrorCode, string]>([
    ['no signers', { ...POLICY, allowedSigners: [] }, 'malformed_policy', 'policy.allowedSigners: must have 1 to 64 elements'],
    ['signers not an array', { ...POLICY, allowedSigners: {} }, 'malformed_policy', 'policy.allowedSigners: must be an array'],
    ['missing signers', { ...POLICY, allowedSigners: undefined }, 'malformed_policy', 'policy.allowedSigners: is missing'],
    ['versioned namespace', { ...POLICY, namespace: 'pkg:npm/foo?x=1' }, 'malformed_policy', `policy.namespace: ${NOT_A_PACKAGE}`],
    ['signer without issuer', { ...POLICY, allowedSigners: [{ ...signer, issuer: undefined }] }, 'malformed_policy', 'policy.allowedSigners[0].issuer: is missing'],
    ['identity not an object', { ...POLICY, allowedSigners: [{ ...signer, identity: 'x' }] }, 'malformed_policy',
      'policy.allowedSigners[0].identity: must be an object'],
    ['identity mode', { ...POLICY, allowedSigners: [{ ...signer, identity: { match: 'fuzzy', pattern: 'x' } }] }, 'malformed_policy',
      'policy.allowedSigners[0].identity.match: must be one of exact, glob, regex'],
    ['identity regex', { ...POLICY, allowedSigners: [signer, { ...signer, identity: { match: 'regex', pattern: 'a(?<!b)' } }] }, 'malformed_pattern',
      'policy.allowedSigners[1].identity.pattern: regex: lookaround is not supported at offset 1'],
    ['empty workflow', { ...POLICY, allowedSigners: [{ ...signer, workflow: '' }] }, 'malformed_policy', 'policy.allowedSigners[0].workflow: is empty'],
    ['ref not a string', { ...POLICY, allowedSigners: [{ ...signer, ref: 1 }] }, 'malformed_policy', 'policy.allowedSigners[0].ref: must be a string'],
    ['unknown signer field', { ...POLICY, allowedSigners: [{ ...signer, branch: 'main' }] }, 'malformed_policy',
      'policy.allowedSigners[0].branch: is not a known field'],
  ])('refuses %s', (_name, value, code, message) => {
    expect(refusal(() => parseSignerPolicy(value))).toEqual({ code, message });
  });
});

describe('parseRuleSet', () => {
  it('parses a document, with paths in errors', () => {
    expect(parseRuleSetJson(JSON.stringify({ rules: [RULE], policies: [POLICY] }))).toEqual({ rules: [RULE], policies: [POLICY] });
    expect(parseRuleSet({})).toEqual({ rules: [], policies: [] });
    expect(refusal(() => parseRuleSet({ rules: [RULE, { ...RULE, id: 'r2', target: 'x' }] }))).toEqual({
      code: 'malformed_rule',
      message: 'rules[1].target: must be one of identity, namespace, key',
    });
  });

  it('refuses duplicate ids and non-JSON', () => {
    expect(refusal(() => parseRuleSet({ rules: [RULE, RULE] }))).toEqual({ code: 'duplicate_id', message: 'rules[1].id: "r1" is also rules[0].id' });
    expect(refusal(() => parseRuleSetJson('{"rules": ['))).toMatchObject({ code: 'malformed_rule' });
    expect(refusal(() => parseRuleSetJson('{"rules": ['))).toMatchObject({ message: expect.stringMatching(/^rule set is not JSON: /) });
  });
});
