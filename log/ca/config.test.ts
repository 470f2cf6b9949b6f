// The CA's issuer list: valid lists parse, and every problem of a bad one is reported at once.
import { describe, expect, it } from 'vitest';
import { parseIssuers } from './config.ts';

describe('parseIssuers', () => {
  it('reads issuers of every kind', () => {
    const issuers = parseIssuers(JSON.stringify({ issuers: [
      { issuerUrl: 'https://token.actions.githubusercontent.com', clientId: 'sigstore', kind: 'github-workflow' },
      { issuerUrl: 'https://gitlab.com', clientId: 'sigstore', kind: 'gitlab-pipeline', ciUrl: 'https://gitlab.com' },
      { issuerUrl: 'https://accounts.google.com', clientId: 'sigstore', kind: 'email' },
      { issuerUrl: 'https://ci.example.com', clientId: 'sigstore', kind: 'uri', subjectDomain: 'https://ci.example.com/' },
    ] }));
    expect(issuers.map((i) => i.kind)).toEqual(['github-workflow', 'gitlab-pipeline', 'email', 'uri']);
    expect(issuers[3]).toEqual({ issuerUrl: 'https://ci.example.com', clientId: 'sigstore', kind: 'uri', subjectDomain: 'https://ci.example.com/' });
  });

  it('reports every problem at once', () => {
    const text = JSON.stringify({ issuers: [
      { issuerUrl: 'ftp://x', clientId: '', kind: 'email' },
      { issuerUrl: 'https://a.test', clientId: 'sigstore', kind: 'username', extra: 1 },
      { issuerUrl: 'https://b.test', clientId: 'sigstore', kind: 'uri' },
      { issuerUrl: 'https://c.test', clientId: 'sigstore', kind: 'email' },
      { issuerUrl: 'https://c.test', clientId: 'sigstore', kind: 'email' },
    ] });
    let message = '';
    try {
      parseIssuers(text);
    } catch (err) {
      message = (err as Error).message;
    }
    for (const part of ['issuers[0].clientId', 'issuers[0].issuerUrl', 'issuers[1].kind', 'issuers[1].extra', 'issuers[2].subjectDomain', 'https://c.test is listed twice']) {
      expect(message).toContain(part);
    }
    expect(() => parseIssuers('{')).toThrow(/not JSON/);
    expect(() => parseIssuers('[]')).toThrow(/"issuers"/);
  });
});
