import { describe, expect, it } from 'vitest';
import { normaliseIdentity, normaliseIssuer, normaliseKeyFingerprint, normaliseNamespace, normaliseUri } from './normalise.ts';

describe('normaliseIdentity', () => {
  it.each([
    ['Alice@Example.COM', 'alice@example.com'],
    // GitHub owner and repository are case-insensitive; the workflow path and ref are not.
    [
      'HTTPS://GitHub.com/Org/Repo/.github/workflows/Release.yml@refs/heads/Main',
      'https://github.com/org/repo/.github/workflows/Release.yml@refs/heads/Main',
    ],
    ['https://gitlab.com/Group/Project//.gitlab-ci.yml@refs/heads/main', 'https://gitlab.com/Group/Project//.gitlab-ci.yml@refs/heads/main'],
    ['spiffe://Example.ORG/ns/Prod', 'spiffe://example.org/ns/Prod'],
    ['AB'.repeat(32), 'ab'.repeat(32)],
    ['SomeUser', 'SomeUser'],
  ])('%s → %s', (input, want) => {
    expect(normaliseIdentity(input)).toBe(want);
  });

  it('keeps globs intact', () => {
    expect(normaliseIdentity('https://GitHub.com/Org/*/.github/workflows/*@refs/tags/*')).toBe(
      'https://github.com/org/*/.github/workflows/*@refs/tags/*',
    );
    expect(normaliseIdentity('*@Example.com')).toBe('*@example.com');
  });
});

describe('normaliseUri', () => {
  it('lowercases scheme and host only, and leaves non-URIs alone', () => {
    expect(normaliseUri('HTTPS://Example.com/A/B?Q=1#F')).toBe('https://example.com/A/B?Q=1#F');
    expect(normaliseUri('https://github.com/Org')).toBe('https://github.com/org');
    expect(normaliseUri('https://github.com/Org/Repo')).toBe('https://github.com/org/repo');
    expect(normaliseUri('https://github.com')).toBe('https://github.com');
    expect(normaliseUri('1ab://X')).toBe('1ab://X');
    expect(normaliseUri('://X')).toBe('://X');
  });
});

describe('normaliseIssuer, normaliseKeyFingerprint', () => {
  it('compares issuers exactly but for scheme and host case', () => {
    expect(normaliseIssuer('https://Token.Actions.GitHubUserContent.com')).toBe('https://token.actions.githubusercontent.com');
    expect(normaliseIssuer('https://accounts.google.com/')).toBe('https://accounts.google.com/');
  });
  it('lowercases fingerprints', () => {
    expect(normaliseKeyFingerprint('ABCdef')).toBe('abcdef');
  });
});

describe('normaliseNamespace', () => {
  it.each([
    ['pkg:npm/%40Scope/Name@1.0.0', 'pkg:npm/@scope/name'],
    ['https://GitHub.com/Org/Repo', 'https://github.com/org/repo'],
    ['Example.COM.', 'example.com'],
    ['*.Example.com', '*.example.com'],
  ])('%s → %s', (input, want) => {
    expect(normaliseNamespace(input)).toBe(want);
  });
});
