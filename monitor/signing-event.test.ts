import { describe, expect, it } from 'vitest';
import { namespacesOfIdentity } from './signing-event.ts';

describe('namespacesOfIdentity', () => {
  it('gives the source repository and the email domain', () => {
    expect(
      namespacesOfIdentity({
        kind: 'uri',
        san: 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1',
        issuer: 'https://token.actions.githubusercontent.com',
        ci: { sourceRepositoryUri: 'https://github.com/org/repo' },
      }),
    ).toEqual([{ kind: 'repository', value: 'https://github.com/org/repo' }]);
    expect(namespacesOfIdentity({ kind: 'email', san: 'a@b@Example.com', issuer: 'https://accounts.google.com', ci: {} })).toEqual([
      { kind: 'email-domain', value: 'Example.com' },
    ]);
  });

  it('gives nothing for bare keys and malformed emails', () => {
    expect(namespacesOfIdentity({ kind: 'key', san: 'ab'.repeat(32) })).toEqual([]);
    expect(namespacesOfIdentity({ kind: 'email', san: 'nobody@', issuer: 'https://accounts.google.com', ci: {} })).toEqual([]);
  });
});
