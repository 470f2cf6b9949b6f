import { describe, expect, it } from 'vitest';
import type { SignerPolicy } from './rules.ts';
import { compileSignerPolicy, explainUnexpectedSigner, signerFactsOf } from './signer-policy.ts';
import type { CiClaims, SignerIdentity } from './signing-event.ts';

const GITHUB = 'https://token.actions.githubusercontent.com';
const GOOGLE = 'https://accounts.google.com';
const RELEASE = 'https://github.com/org/foo/.github/workflows/release.yml';

// The research note's example (monitors-and-alerting.md §5.2): pkg:npm/foo may only be signed by
// GitHub Actions, repository org/foo, workflow release.yml, on refs/tags/*.
const POLICY: SignerPolicy = {
  id: 'foo-releases',
  subscriberId: 'maintainer',
  namespace: 'pkg:npm/foo',
  allowedSigners: [
    {
      issuer: GITHUB,
      identity: { match: 'glob', pattern: `${RELEASE}@refs/tags/*` },
      workflow: 'org/foo/.github/workflows/release.yml',
      ref: 'refs/tags/*',
    },
    { issuer: GOOGLE, identity: { match: 'exact', pattern: 'maintainer@example.com' } },
  ],
};

function github(san: string, ci: CiClaims, issuer = GITHUB): SignerIdentity {
  return { kind: 'uri', san, issuer, ci };
}

function explain(identity: SignerIdentity): string | undefined {
  return explainUnexpectedSigner(compileSignerPolicy(POLICY), signerFactsOf(identity));
}

const TAG_CI: CiClaims = { workflow: 'org/foo/.github/workflows/release.yml', ref: 'refs/tags/v1.2.3' };

describe('explainUnexpectedSigner', () => {
  it('accepts each allowed signer', () => {
    expect(explain(github(`${RELEASE}@refs/tags/v1.2.3`, TAG_CI))).toBeUndefined();
    expect(explain(github(`HTTPS://GitHub.com/Org/Foo/.github/workflows/release.yml@refs/tags/v1.2.3`, TAG_CI))).toBeUndefined();
    expect(explain({ kind: 'email', san: 'Maintainer@Example.com', issuer: GOOGLE, ci: {} })).toBeUndefined();
  });

  it('names the one field that differs from the nearest signer: the ref', () => {
    const ci = { ...TAG_CI, ref: 'refs/heads/main' };
    expect(explain(github(`${RELEASE}@refs/tags/v1.2.3`, ci))).toBe(
      'no allowed signer fits; nearest is allowedSigners[0]: ref "refs/heads/main" does not match glob "refs/tags/*"',
    );
  });

  it('names the identity and the workflow when another workflow signed', () => {
    const ci = { workflow: 'org/foo/.github/workflows/ci.yml', ref: 'refs/tags/v1' };
    expect(explain(github('https://github.com/org/foo/.github/workflows/ci.yml@refs/tags/v1', ci))).toBe(
      'no allowed signer fits; nearest is allowedSigners[0]: identity "https://github.com/org/foo/.github/workflows/ci.yml@refs/tags/v1" ' +
        'does not match glob "https://github.com/org/foo/.github/workflows/release.yml@refs/tags/*"; ' +
        'workflow "org/foo/.github/workflows/ci.yml" is not "org/foo/.github/workflows/release.yml"',
    );
  });

  it('picks the signer with fewest differences: an email from another issuer', () => {
    expect(explain({ kind: 'email', san: 'maintainer@example.com', issuer: 'https://login.microsoftonline.com', ci: {} })).toBe(
      'no allowed signer fits; nearest is allowedSigners[1]: issuer "https://login.microsoftonline.com" is not "https://accounts.google.com"',
    );
  });

  it('says when required claims are absent', () => {
    expect(explain(github(`${RELEASE}@refs/tags/v1`, {}))).toBe(
      'no allowed signer fits; nearest is allowedSigners[0]: workflow is absent, "org/foo/.github/workflows/release.yml" is required; ' +
        'ref is absent, glob "refs/tags/*" is required',
    );
  });

  it('refuses bare keys, which no certificate signer fits', () => {
    expect(explain({ kind: 'key', san: 'AB'.repeat(32) })).toBe(
      `signed by the bare key "${'ab'.repeat(32)}", and the policy allows only certificate identities`,
    );
  });

  it('quotes attacker-controlled values safely', () => {
    const reason = explain(github('https://evil.example/"\n', { ref: 'x'.repeat(1000) }));
    expect(reason).toContain('identity "https://evil.example/\\"\\n"');
    expect(reason!.length).toBeLessThan(1000);
  });
});
