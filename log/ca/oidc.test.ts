// Issue 8, Done-when 2: the token suite. Every bad token or proof is refused by POST
// /api/v2/signingCert with a clear 4xx {code, message}; the CA fetches the development issuer's
// discovery document and JWKS over real HTTP on loopback.
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT, base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../platform/clock.ts';
import { fetchDevToken, startCaTestServer, type CaTestServer } from './ca-test-server.ts';
import { createDevOidcRouter, isLoopbackUrl } from './dev-oidc.ts';

let server: CaTestServer;

beforeAll(async () => {
  // A long minimum refresh interval: the rate limit on unknown kids is observable.
  server = await startCaTestServer({ oidc: { jwksMinRefreshMs: 3_600_000 } });
});
afterAll(async () => {
  await server?.close();
});

const EMAIL = 'bob@vigil.test';
const now = () => Math.floor(Date.now() / 1000);

function newKey(): { privateKey: KeyObject; publicPem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicPem: createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString() };
}

interface MintOptions {
  claims?: Record<string, unknown>;
  iss?: string;
  aud?: string;
  exp?: number;
  nbf?: number;
  kid?: string;
  key?: KeyObject;
}

/** mint signs a token with the dev issuer's key (or another), with any claims. */
async function mint(o: MintOptions = {}): Promise<string> {
  return new SignJWT({ sub: EMAIL, email: EMAIL, email_verified: true, ...o.claims })
    .setProtectedHeader({ alg: 'ES256', kid: o.kid ?? server.devKey.kid })
    .setIssuer(o.iss ?? server.issuerUrl)
    .setAudience(o.aud ?? 'sigstore')
    .setIssuedAt(now() - 5)
    .setNotBefore(o.nbf ?? now() - 5)
    .setExpirationTime(o.exp ?? now() + 600)
    .sign(o.key ?? server.devKey.privateKey);
}

function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${enc(header)}.${enc(payload)}.`;
}

/** request posts a signingCert request with a proof of possession over `challenge` by `key`. */
async function request(token: string, o: { key?: ReturnType<typeof newKey>; proofKey?: KeyObject; challenge?: string } = {}) {
  const key = o.key ?? newKey();
  const proof = sign('sha256', Buffer.from(o.challenge ?? EMAIL), o.proofKey ?? key.privateKey).toString('base64');
  const res = await fetch(`${server.url}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ credentials: { oidcIdentityToken: token }, publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: key.publicPem }, proofOfPossession: proof } }),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
}

describe('the token suite: every bad token is a clear 4xx', () => {
  it('accepts a good token (the baseline every case below changes one thing of)', async () => {
    const { status, body } = await request(await mint());
    expect(status).toBe(201);
    expect(body).toHaveProperty('signedCertificateEmbeddedSct.chain.certificates');
  });

  const cases: [string, () => Promise<string>, number, string][] = [
    ['wrong issuer', () => mint({ iss: 'https://accounts.example.com' }), 401, 'unknown_issuer'],
    ['wrong audience', () => mint({ aud: 'not-sigstore' }), 401, 'wrong_audience'],
    ['expired', () => mint({ exp: now() - 3600 }), 401, 'token_expired'],
    ['not yet valid', () => mint({ nbf: now() + 3600 }), 401, 'token_not_yet_valid'],
    ['alg none', async () => unsigned({ alg: 'none', typ: 'JWT' }, { iss: server.issuerUrl, aud: 'sigstore', sub: EMAIL, email: EMAIL, email_verified: true, exp: now() + 600 }), 401, 'token_algorithm'],
    ['HS256 with the public key as the secret', async () => {
      const secret = new TextEncoder().encode(createPublicKey(server.devKey.privateKey).export({ format: 'pem', type: 'spki' }).toString());
      return new SignJWT({ sub: EMAIL, email: EMAIL, email_verified: true })
        .setProtectedHeader({ alg: 'HS256', kid: server.devKey.kid })
        .setIssuer(server.issuerUrl).setAudience('sigstore').setExpirationTime(now() + 600)
        .sign(secret);
    }, 401, 'token_algorithm'],
    ['signature by another key', () => mint({ key: newKey().privateKey }), 401, 'invalid_token_signature'],
    ['email_verified false', () => mint({ claims: { email_verified: false } }), 403, 'email_not_verified'],
    ['email_verified missing', () => mint({ claims: { email_verified: undefined } }), 403, 'email_not_verified'],
    ['not a JWT', async () => 'not.a.jwt', 401, 'invalid_token'],
  ];
  for (const [name, token, status, code] of cases) {
    it(`refuses ${name}: ${status} ${code}`, async () => {
      const res = await request(await token());
      expect(res.status).toBe(status);
      expect(res.body.code).toBe(code);
      expect(res.body.message).toEqual(expect.any(String));
    });
  }

  it('refuses an unknown kid after one refresh of the JWKS, and rate-limits further refreshes', async () => {
    await request(await mint()); // the JWKS is cached now
    const before = server.jwksFetches();
    const first = await request(await mint({ kid: 'no-such-kid', key: newKey().privateKey }));
    expect(first).toMatchObject({ status: 401, body: { code: 'unknown_key' } });
    expect(server.jwksFetches()).toBe(before); // fetched less than jwksMinRefreshMs ago: no refresh
  });

  it('refuses a failed proof of possession: another key signed the challenge', async () => {
    const res = await request(await mint(), { proofKey: newKey().privateKey });
    expect(res).toMatchObject({ status: 400, body: { code: 'invalid_proof_of_possession' } });
  });

  it('refuses a failed proof of possession: the key signed another claim than the challenge', async () => {
    const res = await request(await mint(), { challenge: 'someone-else@vigil.test' });
    expect(res).toMatchObject({ status: 400, body: { code: 'invalid_proof_of_possession' } });
  });

  it('refuses a key outside the profile (P-224) and a malformed body', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp224r1' });
    const weak = { privateKey, publicPem: createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString() };
    expect(await request(await mint(), { key: weak })).toMatchObject({ status: 400, body: { code: 'unsupported_public_key' } });
    const res = await fetch(`${server.url}/api/v2/signingCert`, { method: 'POST', body: '{"credentials":' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'malformed_request' });
    const big = await fetch(`${server.url}/api/v2/signingCert`, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(big.status).toBe(413);
  });
});

describe('the development issuer', () => {
  it('serves discovery and JWKS, and tokens for {email} and {sub, claims}', async () => {
    const discovery = (await (await fetch(`${server.issuerUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer: server.issuerUrl, jwks_uri: `${server.issuerUrl}/jwks` });
    const jwks = (await (await fetch(`${server.issuerUrl}/jwks`)).json()) as { keys: { kid: string; kty: string; d?: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid: server.devKey.kid, kty: 'EC' });
    expect(jwks.keys[0]!.d).toBeUndefined(); // never the private part
    const token = await fetchDevToken(server.issuerUrl, { email: EMAIL });
    expect((await request(token)).status).toBe(201);
    const ci = await fetchDevToken(server.issuerUrl, { sub: 'repo:org/repo:ref:refs/heads/main', claims: { repository: 'org/repo' } });
    const payload = JSON.parse(Buffer.from(ci.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ iss: server.issuerUrl, aud: 'sigstore', sub: 'repo:org/repo:ref:refs/heads/main', repository: 'org/repo' });
    // An email issuer needs an email: the sub-only token is refused, with a reason.
    expect(await request(ci, { challenge: 'repo:org/repo:ref:refs/heads/main' })).toMatchObject({ status: 403, body: { code: 'identity_refused' } });
  });

  it('refuses to run off loopback unless told to', () => {
    expect(isLoopbackUrl('http://127.0.0.1:7370/oidc')).toBe(true);
    expect(isLoopbackUrl('http://[::1]:7370/oidc')).toBe(true);
    expect(isLoopbackUrl('http://localhost/oidc')).toBe(true);
    expect(isLoopbackUrl('https://vigil.example.com/oidc')).toBe(false);
    expect(isLoopbackUrl('http://127.0.0.1.evil.test/oidc')).toBe(false);
    expect(() => createDevOidcRouter({ issuerUrl: 'https://vigil.example.com/oidc' }, { key: server.devKey, clock: systemClock })).toThrow(/loopback/);
    expect(() => createDevOidcRouter({ issuerUrl: 'https://vigil.example.com/oidc', allowNonLoopback: true }, { key: server.devKey, clock: systemClock })).not.toThrow();
  });

  it('refuses bad token requests with {code, message}', async () => {
    for (const body of ['{', '[]', '{"sub":"x","claims":{"iss":"https://evil"}}', '{"email":"a@b","sub":"x"}']) {
      const res = await fetch(`${server.issuerUrl}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status, body).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'malformed_request' });
    }
  });
});

describe('bad input is a 4xx, never a 500', () => {
  it('random JSON bodies and random key requests with a good token', async () => {
    const good = await mint();
    const body = fc.oneof(
      fc.json(),
      fc.record({ credentials: fc.record({ oidcIdentityToken: fc.oneof(fc.string(), fc.constant(good)) }), publicKeyRequest: fc.jsonValue() }),
      fc.record({
        credentials: fc.constant({ oidcIdentityToken: good }),
        publicKeyRequest: fc.record({ publicKey: fc.record({ algorithm: fc.string(), content: fc.oneof(fc.string(), fc.base64String(), fc.constant('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')) }), proofOfPossession: fc.oneof(fc.base64String(), fc.string()) }),
      }),
      fc.record({ credentials: fc.constant({ oidcIdentityToken: good }), certificateSigningRequest: fc.oneof(fc.string(), fc.base64String(), fc.jsonValue()) }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const res = await fetch(`${server.url}/api/v2/signingCert`, { method: 'POST', body: typeof b === 'string' ? b : JSON.stringify(b) });
        const json = (await res.json()) as { code?: string };
        expect(res.status, JSON.stringify(json)).toBeGreaterThanOrEqual(400);
        expect(res.status, JSON.stringify(json)).toBeLessThan(500);
        expect(json.code).toEqual(expect.any(String));
      }),
      { numRuns: 150 },
    );
  });
});
