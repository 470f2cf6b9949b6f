// The OIDC verifier's key handling over real HTTP on loopback: discovery and JWKS are fetched once
// and cached, an unknown kid refreshes them (so a rotated issuer key is picked up), refreshes are
// rate-limited, and an issuer that cannot be reached is a 503-class 'issuer_unavailable'.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import express from 'express';
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../platform/clock.ts';
import { listen, type Listening } from '../../platform/http.ts';
import { silentLogger } from '../../platform/logger.ts';
import { isCaError } from './errors.ts';
import { createOidcVerifier } from './oidc.ts';

interface IssuerKey {
  privateKey: KeyObject;
  jwk: JWK;
  kid: string;
}

async function newIssuerKey(): Promise<IssuerKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, jwk: { ...jwk, kid }, kid };
}

let listening: Listening;
let issuerUrl: string;
let published: IssuerKey[] = [];
let fetches = 0;

beforeAll(async () => {
  const app = express();
  app.get('/.well-known/openid-configuration', (_req, res) => {
    res.json({ issuer: issuerUrl, jwks_uri: `${issuerUrl}/keys` });
  });
  app.get('/keys', (_req, res) => {
    fetches++;
    res.json({ keys: published.map((k) => k.jwk) });
  });
  listening = await listen(app, '127.0.0.1', 0);
  issuerUrl = listening.url;
});
afterAll(async () => {
  await listening?.close();
});

const START = 1_900_000_000_000;

async function token(key: IssuerKey, nowMs: number): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({ sub: 'x', email: 'x@vigil.test', email_verified: true })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(issuerUrl).setAudience('sigstore').setIssuedAt(now).setExpirationTime(now + 600)
    .sign(key.privateKey);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isCaError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

describe('the OIDC verifier fetches, caches and refreshes issuer keys', () => {
  it('picks up a rotated key through one refresh, and rate-limits refreshes for unknown kids', async () => {
    const clock = manualClock(START);
    const verifier = createOidcVerifier({ issuers: [{ issuerUrl, clientId: 'sigstore', kind: 'email' }], jwksMinRefreshMs: 60_000 }, { clock, logger: silentLogger() });
    const first = await newIssuerKey();
    published = [first];
    fetches = 0;
    expect((await verifier.verifyToken(await token(first, clock.nowMs()))).claims.sub).toBe('x');
    expect(await codeOf(verifier.verifyToken(await token(first, clock.nowMs())))).toBe('ok');
    expect(fetches).toBe(1); // cached

    const second = await newIssuerKey();
    published = [first, second];
    // Within the minimum interval an unknown kid does not refresh.
    expect(await codeOf(verifier.verifyToken(await token(second, clock.nowMs())))).toBe('unknown_key');
    expect(fetches).toBe(1);
    clock.advance(60_000);
    expect(await codeOf(verifier.verifyToken(await token(second, clock.nowMs())))).toBe('ok');
    expect(fetches).toBe(2);
    // A kid that is still unknown after the refresh is refused.
    clock.advance(60_000);
    expect(await codeOf(verifier.verifyToken(await token(await newIssuerKey(), clock.nowMs())))).toBe('unknown_key');
    expect(fetches).toBe(3);
  });

  it('answers issuer_unavailable when the issuer cannot be reached, and refuses HS algorithms in its config', async () => {
    const clock = manualClock(START);
    const gone = 'http://127.0.0.1:1';
    const verifier = createOidcVerifier({ issuers: [{ issuerUrl: gone, clientId: 'sigstore', kind: 'email' }], fetchTimeoutMs: 2000 }, { clock, logger: silentLogger() });
    const key = await newIssuerKey();
    const t = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setIssuer(gone).setAudience('sigstore').setExpirationTime(Math.floor(START / 1000) + 600).sign(key.privateKey);
    expect(await codeOf(verifier.verifyToken(t))).toBe('issuer_unavailable');
    expect(() => createOidcVerifier({ issuers: [], algorithms: ['ES256', 'HS256'] }, { clock, logger: silentLogger() })).toThrow(/HS256/);
    expect(() => createOidcVerifier({ issuers: [{ issuerUrl: 'https://x.test', clientId: 'sigstore', kind: 'uri' }] }, { clock, logger: silentLogger() })).toThrow(/subjectDomain/);
  });
});
