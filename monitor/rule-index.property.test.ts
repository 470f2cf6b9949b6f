// RuleIndex.match against a naive loop over every rule and policy (test/monitor-reference.ts), on
// random rule sets and events drawn from small pools of realistic values, so that exact, glob and
// regex patterns of every target both hit and miss; and again after removing a random subset.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceMatch } from '../test/monitor-reference.ts';
import { buildRuleIndex, type RuleMatch } from './rule-index.ts';
import type { AllowedSigner, SignerPolicy, WatchRule, WatchTarget } from './rules.ts';
import type { SigningEvent } from './signing-event.ts';

const ISSUERS = ['https://token.actions.githubusercontent.com', 'https://accounts.google.com', 'https://Token.Actions.GitHubUserContent.com'];
const IDENTITIES = [
  'alice@example.com',
  'Bob@Example.com',
  'carol@example.org',
  'https://github.com/org/foo/.github/workflows/release.yml@refs/tags/v1.0.0',
  'https://github.com/Org/foo/.github/workflows/ci.yml@refs/heads/main',
  'https://github.com/other/bar/.github/workflows/release.yml@refs/tags/v2',
  'https://gitlab.com/group/proj//.gitlab-ci.yml@refs/heads/main',
];
const NAMESPACES = [
  'pkg:npm/foo',
  'pkg:npm/%40scope/a@1.0.0',
  'pkg:npm/@Scope/b',
  'pkg:pypi/Foo_Bar',
  'https://github.com/org/foo',
  'https://github.com/Other/bar',
  'example.com',
  'mail.example.org',
];
const KEYS = ['ab'.repeat(32), 'AB'.repeat(32), 'cd'.repeat(32)];
const WORKFLOWS = ['org/foo/.github/workflows/release.yml', 'org/foo/.github/workflows/ci.yml'];
const REFS = ['refs/tags/v1.0.0', 'refs/heads/main', 'refs/tags/a/b'];
const POOLS: Record<WatchTarget, string[]> = { identity: IDENTITIES, namespace: NAMESPACES, key: KEYS };

// patternArb turns a pool value into a pattern of the given mode that matches it or values like
// it: the value itself, a glob with one stretch replaced by * or **, or an escaped regex with one
// stretch replaced by a wildcard expression.
function patternArb(pool: string[], mode: WatchRule['match']): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...pool), fc.nat(), fc.nat(), fc.nat()).map(([value, a, b, w]) => {
    if (mode === 'exact') return value;
    const i = a % (value.length + 1);
    const j = i + (b % (value.length - i + 1));
    const esc = (s: string): string => (mode === 'regex' ? s.replace(/[^A-Za-z0-9]/g, '\\$&') : s);
    const wild = mode === 'glob' ? ['*', '**', ''][w % 3]! : ['.*', '[^/]*', '[a-z]+', '(?:foo|bar)'][w % 4]!;
    return esc(value.slice(0, i)) + wild + esc(value.slice(j));
  });
}

const modeArb = fc.constantFrom<WatchRule['match']>('exact', 'glob', 'regex');
const targetArb = fc.constantFrom<WatchTarget>('identity', 'namespace', 'key');
const REF_GLOBS = ['refs/tags/*', 'refs/heads/main', 'refs/**'];
const PACKAGES = NAMESPACES.map((n) => n.replace(/@1\.0\.0$/, '')); // policy namespaces name no version

function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined });
}

const ruleArb = (id: string): fc.Arbitrary<WatchRule> =>
  fc.tuple(targetArb, modeArb, optional(fc.constantFrom(...ISSUERS))).chain(([target, match, issuer]) =>
    patternArb(POOLS[target], match).map((pattern) => ({
      id,
      subscriberId: 's',
      target,
      match,
      pattern,
      ...(target === 'identity' && issuer !== undefined ? { issuer } : {}),
    })),
  );

const signerArb: fc.Arbitrary<AllowedSigner> = fc
  .tuple(fc.constantFrom(...ISSUERS), modeArb, optional(fc.constantFrom(...WORKFLOWS)), optional(fc.constantFrom(...REF_GLOBS)))
  .chain(([issuer, match, workflow, ref]) =>
    patternArb(IDENTITIES, match).map((pattern) => ({
      issuer,
      identity: { match, pattern },
      ...(workflow === undefined ? {} : { workflow }),
      ...(ref === undefined ? {} : { ref }),
    })),
  );

const policyArb = (id: string): fc.Arbitrary<SignerPolicy> =>
  fc.tuple(patternArb(PACKAGES, 'glob'), fc.array(signerArb, { minLength: 1, maxLength: 3 })).map(([namespace, allowedSigners]) => ({
    id,
    subscriberId: 's',
    namespace,
    allowedSigners,
  }));

const eventArb: fc.Arbitrary<SigningEvent> = fc
  .record({
    bareKey: fc.boolean(),
    san: fc.constantFrom(...IDENTITIES),
    issuer: fc.constantFrom(...ISSUERS),
    workflow: optional(fc.constantFrom(...WORKFLOWS)),
    ref: optional(fc.constantFrom(...REFS)),
    key: fc.constantFrom(...KEYS),
    namespaces: fc.subarray(NAMESPACES, { maxLength: 3 }),
  })
  .map((r) => ({
    logOrigin: 'log.example/v1',
    index: 1n,
    integratedTimeSec: undefined,
    entryKind: 'hashedrekord' as const,
    identity: r.bareKey ? { kind: 'key' as const, san: r.key } : { kind: 'uri' as const, san: r.san, issuer: r.issuer, ci: { workflow: r.workflow, ref: r.ref } },
    keyFingerprint: r.key,
    artifactDigests: [],
    namespaces: r.namespaces.map((value) => ({ kind: 'purl' as const, value })),
  }));

function keys(matches: RuleMatch[]): string[] {
  return matches.map((m) => `${m.kind}:${'ruleId' in m ? m.ruleId : m.policyId}`).sort();
}

describe('RuleIndex.match equals a loop over all rules (property)', () => {
  const setsArb = fc.tuple(fc.nat({ max: 30 }), fc.nat({ max: 8 })).chain(([nr, np]) =>
    fc.tuple(
      fc.tuple(...Array.from({ length: nr }, (_, i) => ruleArb(`r${i}`))),
      fc.tuple(...Array.from({ length: np }, (_, i) => policyArb(`p${i}`))),
      fc.array(eventArb, { minLength: 1, maxLength: 10 }),
      fc.array(fc.boolean(), { minLength: nr + np, maxLength: nr + np }),
    ),
  );

  it('on random rules, policies and events, before and after removals', () => {
    fc.assert(
      fc.property(setsArb, ([rules, policies, events, removeMask]) => {
        const index = buildRuleIndex(rules, policies);
        for (const e of events) expect(keys(index.match(e))).toEqual(referenceMatch(rules, policies, e).map((m) => `${m.kind}:${m.id}`).sort());
        const keptRules = rules.filter((r, i) => !removeMask[i] || !index.removeRule(r.id));
        const keptPolicies = policies.filter((p, i) => !removeMask[rules.length + i] || !index.removePolicy(p.id));
        for (const e of events) expect(keys(index.match(e))).toEqual(referenceMatch(keptRules, keptPolicies, e).map((m) => `${m.kind}:${m.id}`).sort());
      }),
      { numRuns: 300 },
    );
  });
});
