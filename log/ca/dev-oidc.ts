// dev-oidc.ts is the development OIDC issuer (DESIGN.md "Development OIDC issuer"): for local use
// and tests only. It is never on by default: the operator (or `vigil up`, bound to loopback) mounts
// it and lists its URL among the CA's issuers. Anyone who can reach it gets a token for any
// identity, so it must never be reachable from outside the machine.
//
//   GET  <prefix>/.well-known/openid-configuration   discovery (issuer, jwks_uri, ...)
//   GET  <prefix>/jwks                                {"keys": [the ES256 public key]}
//   POST <prefix>/token  {"email": "a@b.c"}           → {"id_token": ...} (email, email_verified: true)
//                        {"sub": "...", "claims": {...}}  → {"id_token": ...} (sub plus the claims)
//
// The signing key (ECDSA P-256, ES256) persists in the CA folder as dev-oidc.key (0600), so tokens
// stay verifiable across restarts.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK } from 'jose';
import type { Clock } from '../../platform/clock.ts';
import type { ErrorBody } from '../../platform/http.ts';
import { errorMessage } from '../errors.ts';
import { CaError } from './errors.ts';

/** DEV_OIDC_KEY_FILE is the development issuer's key file in the CA folder. */
export const DEV_OIDC_KEY_FILE = 'dev-oidc.key';
/** DEFAULT_DEV_TOKEN_LIFETIME_SECONDS is how long a development token is valid (10 minutes). */
export const DEFAULT_DEV_TOKEN_LIFETIME_SECONDS = 600;
const MAX_BODY_BYTES = 16 * 1024;
const RESERVED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'email', 'email_verified']);

/** DevOidcKey is the issuer's signing key and its public JWK (kid = RFC 7638 thumbprint). */
export interface DevOidcKey {
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
  readonly kid: string;
}

async function toDevKey(privateKey: KeyObject): Promise<DevOidcKey> {
  const jwk = await exportJWK(createPublicKey(privateKey));
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' }, kid };
}

/** initDevOidcKey creates dev-oidc.key in `dir` (0600); CaError 'ca_exists' if it is there already. */
export async function initDevOidcKey(dir: string): Promise<DevOidcKey> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const file = join(dir, DEV_OIDC_KEY_FILE);
  try {
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const exists = (err as NodeJS.ErrnoException).code === 'EEXIST';
    throw new CaError(exists ? 'ca_exists' : 'invalid_config', `couldn't create ${file}: ${exists ? 'the file already exists' : errorMessage(err)}`, { cause: err });
  }
  return toDevKey(privateKey);
}

/** loadDevOidcKey reads dev-oidc.key from `dir`; CaError 'invalid_config' (naming the file only) if it cannot. */
export async function loadDevOidcKey(dir: string): Promise<DevOidcKey> {
  const file = join(dir, DEV_OIDC_KEY_FILE);
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CaError('invalid_config', `couldn't load the development issuer key ${file}`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new CaError('invalid_config', `${file} is not an ECDSA P-256 key`);
  }
  return toDevKey(key);
}

/** DevOidcConfig configures createDevOidcRouter. */
export interface DevOidcConfig {
  /** issuerUrl is the issuer's public URL: where the router is reachable, plus pathPrefix. */
  readonly issuerUrl: string;
  /** pathPrefix is where the routes live inside the app (default "/oidc"). */
  readonly pathPrefix?: string;
  /** audience is every token's `aud` (default "sigstore", the CA's usual client ID). */
  readonly audience?: string;
  /** tokenLifetimeSeconds is every token's lifetime (DEFAULT_DEV_TOKEN_LIFETIME_SECONDS). */
  readonly tokenLifetimeSeconds?: number;
  /** allowNonLoopback permits an issuerUrl whose host is not loopback (default false: refused). */
  readonly allowNonLoopback?: boolean;
}

/** isLoopbackUrl reports whether `url`'s host is localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** DevOidcDeps are the issuer's key and clock. */
export interface DevOidcDeps {
  readonly key: DevOidcKey;
  readonly clock: Clock;
}

type Claims = Record<string, unknown>;

/** readTokenRequest reads {"email"} or {"sub", "claims"} (attacker-controlled; loopback only). */
function readTokenRequest(body: unknown): Claims {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new CaError('malformed_request', 'the body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.email === 'string' && b.email.length > 0 && b.email.length <= 256 && b.sub === undefined && b.claims === undefined) {
    return { sub: b.email, email: b.email, email_verified: true };
  }
  if (typeof b.sub !== 'string' || b.sub.length === 0 || b.sub.length > 1024 || b.email !== undefined) {
    throw new CaError('malformed_request', 'the body must be {"email": "..."} or {"sub": "...", "claims": {...}}');
  }
  const claims = b.claims ?? {};
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new CaError('malformed_request', 'claims must be an object');
  const reserved = Object.keys(claims).find((k) => RESERVED.has(k));
  if (reserved !== undefined) throw new CaError('malformed_request', `claims may not set ${reserved}`);
  return { ...(claims as Claims), sub: b.sub };
}

/**
 * createDevOidcRouter returns the development issuer's router (routes above, under pathPrefix).
 * It refuses (CaError 'invalid_config') an issuerUrl off loopback unless allowNonLoopback. Mount it on the app whose URL issuerUrl names, before any catch-all 404, and list
 * `{issuerUrl, clientId: audience, kind: 'email'}` among the CA's issuers.
 */
export function createDevOidcRouter(config: DevOidcConfig, deps: DevOidcDeps): Router {
  const prefix = config.pathPrefix ?? '/oidc';
  const audience = config.audience ?? 'sigstore';
  const lifetime = config.tokenLifetimeSeconds ?? DEFAULT_DEV_TOKEN_LIFETIME_SECONDS;
  const issuer = config.issuerUrl;
  if (!isLoopbackUrl(issuer) && config.allowNonLoopback !== true) {
    throw new CaError('invalid_config', `the development OIDC issuer hands out tokens for any identity: its URL ${issuer} must be on loopback`);
  }
  const router = express.Router();
  router.get(`${prefix}/.well-known/openid-configuration`, (_req, res) => {
    res.json({
      issuer,
      jwks_uri: `${issuer}/jwks`,
      token_endpoint: `${issuer}/token`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    });
  });
  router.get(`${prefix}/jwks`, (_req, res) => {
    res.json({ keys: [deps.key.publicJwk] });
  });
  router.post(`${prefix}/token`, express.json({ limit: MAX_BODY_BYTES, type: () => true }), async (req: Request, res: Response) => {
    try {
      const claims = readTokenRequest(req.body);
      const now = Math.floor(deps.clock.nowMs() / 1000);
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: deps.key.kid, typ: 'JWT' })
        .setIssuer(issuer).setAudience(audience).setIssuedAt(now).setNotBefore(now).setExpirationTime(now + lifetime)
        .sign(deps.key.privateKey);
      res.json({ id_token: token });
    } catch (err) {
      const code = err instanceof CaError ? err.code : 'internal';
      res.status(err instanceof CaError ? 400 : 500).json({ code, message: err instanceof CaError ? err.message : 'internal error' } satisfies ErrorBody);
    }
  });
  // express.json's own failures (bad JSON, too large) as {code, message}.
  router.use(prefix, ((err, _req, res, next) => {
    const type = (err as { type?: string }).type;
    if (type === undefined) return next(err);
    const status = type === 'entity.too.large' ? 413 : 400;
    res.status(status).json({ code: status === 413 ? 'request_too_large' : 'malformed_request', message: `couldn't read the request body: ${errorMessage(err)}` } satisfies ErrorBody);
  }) as express.ErrorRequestHandler);
  return router;
}
