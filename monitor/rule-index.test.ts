import { describe, expect, it } from 'vitest';
import { isMonitorError } from './errors.ts';
import { buildRuleIndex, RuleIndex, type RuleMatch } from './rule-index.ts';
import type { SignerPolicy, WatchRule } from './rules.ts';
import type { Namespace, SignerIdentity, SigningEvent } from './signing-event.ts';

const GITHUB = 'https://token.actions.githubusercontent.com';
const GOOGLE = 'https://accounts.google.com';
const KEY = 'ab'.repeat(32);
const RELEASE_SAN = 'https://github.com/org/foo/.github/workflows/release.yml@refs/tags/v1.0.0';

function event(identity: SignerIdentity, namespaces: Namespace[] = [], keyFingerprint = KEY): SigningEvent {
  return { logOrigin: 'log.example/v1', index: 7n, integratedTimeSec: undefined, entryKind: 'dsse', identity, keyFingerprint, artifactDigests: [], namespaces };
}

function email(san: string, issuer = GOOGLE): SignerIdentity {
  return { kind: 'email', san, issuer, ci: {} };
}

function rule(id: string, target: WatchRule['target'], match: WatchRule['match'], pattern: string, issuer?: string): WatchRule {
  return { id, subscriberId: `sub-${id}`, target, match, pattern, ...(issuer === undefined ? {} : { issuer }) };
}

function ids(matches: RuleMatch[]): string[] {
  return matches.map((m) => `${m.kind}:${'ruleId' in m ? m.ruleId : m.policyId}`).sort();
}

const RELEASE_POLICY: SignerPolicy = {
  id: 'p-foo',
  subscriberId: 'maintainer',
  namespace: 'pkg:npm/foo',
  allowedSigners: [{ issuer: GITHUB, identity: { match: 'glob', pattern: 'https://github.com/org/foo/.github/workflows/release.yml@refs/tags/*' }, ref: 'refs/tags/*' }],
};

describe('RuleIndex: watch rules', () => {
  const index = buildRuleIndex(
    [
      rule('email-exact', 'identity', 'exact', 'Alice@Example.com'),
      rule('email-glob', 'identity', 'glob', '*@example.com'),
      rule('email-regex', 'identity', 'regex', '[a-z]+@example\\.(?:com|org)'),
      rule('uri-glob', 'identity', 'glob', 'https://github.com/Org/*/.github/workflows/release.yml@refs/tags/*', GITHUB),
      rule('uri-google', 'identity', 'glob', 'https://github.com/org/**', GOOGLE),
      rule('scope', 'namespace', 'glob', 'pkg:npm/%40scope/*'),
      rule('repo', 'namespace', 'exact', 'https://github.com/org/foo'),
      rule('domain', 'namespace', 'glob', '*.example.com'),
      rule('key', 'key', 'exact', KEY.toUpperCase()),
    ],
    [],
  );

  it('matches emails case-insensitively, by exact, glob and regex', () => {
    const m = index.match(event(email('ALICE@example.com')));
    expect(ids(m)).toEqual(['identity-used:email-exact', 'identity-used:email-glob', 'identity-used:email-regex', 'key-used:key']);
    expect(m.find((x) => 'ruleId' in x && x.ruleId === 'email-glob')).toEqual({
      kind: 'identity-used',
      ruleId: 'email-glob',
      subscriberId: 'sub-email-glob',
      value: 'alice@example.com',
      reason: 'identity "alice@example.com" matches glob "*@example.com"',
    });
  });

  it('matches URI identities with the issuer constraint', () => {
    const id: SignerIdentity = { kind: 'uri', san: RELEASE_SAN, issuer: GITHUB, ci: {} };
    const m = index.match(event(id, [], 'cd'.repeat(32)));
    expect(ids(m)).toEqual(['identity-used:uri-glob']);
    expect(m[0]!.reason).toBe(
      `identity "${RELEASE_SAN}" matches glob "https://github.com/org/*/.github/workflows/release.yml@refs/tags/*" with issuer "${GITHUB}"`,
    );
  });

  it('matches namespaces of every kind, once per rule', () => {
    const namespaces: Namespace[] = [
      { kind: 'purl', value: 'pkg:npm/%40scope/a@1.0.0' },
      { kind: 'purl', value: 'pkg:npm/@Scope/b' },
      { kind: 'repository', value: 'https://GitHub.com/Org/Foo' },
      { kind: 'email-domain', value: 'mail.Example.com' },
    ];
    const m = index.match(event(email('x@y.z'), namespaces, 'ef'.repeat(32)));
    expect(ids(m)).toEqual(['namespace-used:domain', 'namespace-used:repo', 'namespace-used:scope']);
    expect(m.find((x) => x.kind === 'namespace-used' && x.ruleId === 'scope')!.value).toBe('pkg:npm/@scope/a');
  });

  it('matches keys and bare-key identities', () => {
    const m = index.match(event({ kind: 'key', san: KEY }));
    expect(ids(m)).toEqual(['key-used:key']);
    expect(m[0]!.reason).toBe(`key fingerprint "${KEY}" matches exact "${KEY}"`);
  });
});

describe('RuleIndex: expected-signer policies', () => {
  const index = buildRuleIndex([], [RELEASE_POLICY, { ...RELEASE_POLICY, id: 'p-scope', namespace: 'pkg:npm/@scope/**' }]);
  const ns = (value: string): Namespace[] => [{ kind: 'purl', value }];

  it('says nothing when an allowed signer signed', () => {
    const id: SignerIdentity = { kind: 'uri', san: RELEASE_SAN, issuer: GITHUB, ci: { ref: 'refs/tags/v1.0.0' } };
    expect(index.match(event(id, ns('pkg:npm/foo@1.0.0')))).toEqual([]);
  });

  it('reports an unexpected signer with the namespace, the policy and the differences', () => {
    expect(index.match(event(email('mallory@example.com'), ns('pkg:npm/foo@1.0.1')))).toEqual([
      {
        kind: 'unexpected-signer',
        policyId: 'p-foo',
        subscriberId: 'maintainer',
        value: 'pkg:npm/foo',
        reason:
          'namespace "pkg:npm/foo" falls under policy "p-foo" (exact "pkg:npm/foo"); no allowed signer fits; nearest is allowedSigners[0]: ' +
          `issuer "${GOOGLE}" is not "${GITHUB}"; identity "mallory@example.com" does not match glob ` +
          '"https://github.com/org/foo/.github/workflows/release.yml@refs/tags/*"; ref is absent, glob "refs/tags/*" is required',
      },
    ]);
  });

  it('applies glob namespaces, once per policy', () => {
    const m = index.match(event(email('m@x.y'), [...ns('pkg:npm/@scope/a'), ...ns('pkg:npm/%40scope/b'), ...ns('pkg:npm/bar')]));
    expect(ids(m)).toEqual(['unexpected-signer:p-scope']);
  });
});

describe('RuleIndex: incremental changes', () => {
  it('adds and removes rules and policies without a rebuild', () => {
    const index = new RuleIndex();
    const e = event(email('alice@example.com'), [{ kind: 'purl', value: 'pkg:npm/foo' }]);
    index.addRule(rule('a', 'identity', 'glob', '*@example.com'));
    index.addRule(rule('b', 'identity', 'glob', '*@EXAMPLE.com')); // the same pattern once normalised
    index.addPolicy(RELEASE_POLICY);
    expect(ids(index.match(e))).toEqual(['identity-used:a', 'identity-used:b', 'unexpected-signer:p-foo']);
    expect(index.removeRule('a')).toBe(true);
    expect(index.removeRule('a')).toBe(false);
    expect(index.removePolicy('p-foo')).toBe(true);
    expect(ids(index.match(e))).toEqual(['identity-used:b']);
    expect([index.ruleCount, index.policyCount]).toEqual([1, 0]);
    index.removeRule('b');
    expect(index.match(e)).toEqual([]);
  });

  it('refuses a duplicate id and a bad pattern, leaving the index unchanged', () => {
    const index = buildRuleIndex([rule('a', 'key', 'exact', KEY)], [RELEASE_POLICY]);
    for (const add of [() => index.addRule(rule('a', 'key', 'exact', KEY)), () => index.addPolicy(RELEASE_POLICY)]) {
      expect(() => add()).toThrow(expect.objectContaining({ code: 'duplicate_id' }));
    }
    try {
      index.addRule(rule('bad', 'identity', 'regex', '(a)\\1'));
      expect.unreachable();
    } catch (err) {
      expect(isMonitorError(err, 'malformed_pattern')).toBe(true);
    }
    expect([index.ruleCount, index.policyCount]).toEqual([1, 1]);
  });

  it('keeps rule ids and policy ids apart', () => {
    const index = buildRuleIndex([rule('same', 'namespace', 'exact', 'pkg:npm/foo')], [{ ...RELEASE_POLICY, id: 'same' }]);
    const e = event(email('m@x.y'), [{ kind: 'purl', value: 'pkg:npm/foo' }]);
    expect(ids(index.match(e))).toEqual(['namespace-used:same', 'unexpected-signer:same']);
    expect(index.removePolicy('same')).toBe(true);
    expect(ids(index.match(e))).toEqual(['namespace-used:same']);
  });

  it('counts the patterns that every value is tested against', () => {
    const index = buildRuleIndex([rule('all', 'identity', 'glob', '**'), rule('mid', 'identity', 'regex', '.*foo.*'), rule('p', 'identity', 'glob', 'a*')], []);
    expect(index.scanCount).toBe(2);
  });
});
