// oidc.ts verifies OIDC identity tokens against the configured issuers (DESIGN.md "CA", research
// notes 3.1). Per issuer, the discovery document (<issuer>/.well-known/openid-configuration) names
// the JWKS; both are fetched with undici, bounded in size and time, and cached. A token whose `kid`
// is not in the cached JWKS triggers one refresh, at most every jwksMinRefreshMs per issuer, so a
// flood of tokens with random kids cannot make us hammer the issuer. Tokens are verified with jose:
// algorithm allowlist (never none or HS*: an HMAC "signed" with the public key would otherwise
// verify), `iss` exactly a configured issuer, `aud` its client ID, `exp` required, `exp`/`nbf` with
// a small clock skew.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { request, type Dispatcher } from 'undici';
import type { Clock } from '../../platform/clock.ts';
import type { Logger } from '../../platform/logger.ts';
import { errorMessage } from '../errors.ts';
import { CaError } from './errors.ts';

/** IssuerKind is how an issuer's tokens become a certificate identity (identity.ts). */
export type IssuerKind = 'email' | 'github-workflow' | 'gitlab-pipeline' | 'uri';

/** IssuerConfig is one trusted OIDC issuer (Fulcio's `oidc-issuers` entry). */
export interface IssuerConfig {
  /** issuerUrl is the exact `iss` of its tokens, and where its discovery document lives. */
  readonly issuerUrl: string;
  /** clientId is the audience its tokens must name (Fulcio's public instance: "sigstore"). */
  readonly clientId: string;
  readonly kind: IssuerKind;
  /** subjectDomain is, for kind "uri", the URL prefix every `sub` must start with. */
  readonly subjectDomain?: string;
  /** ciUrl is, for CI kinds, the server URL (default https://github.com or https://gitlab.com). */
  readonly ciUrl?: string;
  /** skipEmailVerification accepts email tokens without `email_verified` (Fulcio's option; default false). */
  readonly skipEmailVerification?: boolean;
}

/** DEFAULT_TOKEN_ALGORITHMS is the algorithm allowlist: asymmetric signatures only. */
export const DEFAULT_TOKEN_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** DEFAULT_CLOCK_SKEW_SECONDS is the tolerance on `exp` and `nbf`, in seconds (60). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
/** DEFAULT_JWKS_MIN_REFRESH_MS is the least time between two JWKS fetches of one issuer (60 s). */
export const DEFAULT_JWKS_MIN_REFRESH_MS = 60_000;
/** DEFAULT_JWKS_MAX_AGE_MS is how long a JWKS is used before it is fetched again (1 hour). */
export const DEFAULT_JWKS_MAX_AGE_MS = 3_600_000;
/** DEFAULT_FETCH_TIMEOUT_MS bounds each discovery or JWKS request (10 s). */
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000;
/** MAX_DOCUMENT_BYTES bounds a discovery document or JWKS (256 KiB). */
export const MAX_DOCUMENT_BYTES = 256 * 1024;
/** MAX_TOKEN_BYTES bounds an identity token (16 KiB). */
export const MAX_TOKEN_BYTES = 16 * 1024;
const MAX_JWKS_KEYS = 100;
const HS_OR_NONE = /^(none|HS\d+)$/i;

/** OidcConfig configures createOidcVerifier; every tunable has a named default. */
export interface OidcConfig {
  readonly issuers: readonly IssuerConfig[];
  readonly algorithms?: readonly string[];
  readonly clockSkewSeconds?: number;
  readonly jwksMinRefreshMs?: number;
  readonly jwksMaxAgeMs?: number;
  readonly fetchTimeoutMs?: number;
}

/** OidcDeps: the clock (token times, cache ages), a logger, and optionally an undici dispatcher. */
export interface OidcDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly dispatcher?: Dispatcher;
}

/** VerifiedToken is a token whose signature and claims checked out, with the issuer that made it. */
export interface VerifiedToken {
  readonly issuer: IssuerConfig;
  readonly claims: JWTPayload;
}

/** OidcVerifier verifies identity tokens; safe for concurrent use. */
export interface OidcVerifier {
  readonly issuers: readonly IssuerConfig[];
  /** verifyToken throws CaError (invalid_token, unknown_issuer, wrong_audience, token_expired, ...). */
  verifyToken(token: string): Promise<VerifiedToken>;
}

interface KeyCache {
  keys: ReturnType<typeof createLocalJWKSet> | undefined;
  fetchedAtMs: number;
  inflight: Promise<void> | undefined;
}

type KeySet = ReturnType<typeof createLocalJWKSet>;

/**
 * createKeyStore returns keysOf(issuer, forceRefresh): the issuer's cached JWKS, fetched when
 * missing or older than maxAgeMs, and refreshed for an unknown kid (forceRefresh) at most every
 * minRefreshMs. Concurrent callers share one fetch. A failed refresh keeps the cached keys.
 */
function createKeyStore(config: OidcConfig, deps: OidcDeps): (issuer: IssuerConfig, forceRefresh: boolean) => Promise<KeySet> {
  const caches = new Map<string, KeyCache>();
  const minRefreshMs = config.jwksMinRefreshMs ?? DEFAULT_JWKS_MIN_REFRESH_MS;
  const maxAgeMs = config.jwksMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS;
  const timeoutMs = config.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const refresh = (issuer: IssuerConfig, cache: KeyCache): Promise<void> => {
    cache.inflight ??= fetchJwks(issuer, timeoutMs, deps.dispatcher)
      .then((jwks) => {
        cache.keys = createLocalJWKSet(jwks);
        cache.fetchedAtMs = deps.clock.nowMs();
      })
      .finally(() => {
        cache.inflight = undefined;
      });
    return cache.inflight;
  };
  return async (issuer, forceRefresh) => {
    let cache = caches.get(issuer.issuerUrl);
    if (cache === undefined) caches.set(issuer.issuerUrl, (cache = { keys: undefined, fetchedAtMs: 0, inflight: undefined }));
    const age = deps.clock.nowMs() - cache.fetchedAtMs;
    const stale = cache.keys === undefined || age >= maxAgeMs;
    if (stale || (forceRefresh && age >= minRefreshMs)) {
      try {
        await refresh(issuer, cache);
      } catch (err) {
        if (cache.keys === undefined) throw err;
        deps.logger.warn({ issuer: issuer.issuerUrl, err: errorMessage(err) }, 'JWKS refresh failed; using the cached keys');
      }
    }
    return cache.keys!;
  };
}

/** createOidcVerifier returns a verifier for `config.issuers`; it fetches nothing until a token arrives. */
export function createOidcVerifier(config: OidcConfig, deps: OidcDeps): OidcVerifier {
  const algorithms = [...(config.algorithms ?? DEFAULT_TOKEN_ALGORITHMS)];
  const bad = algorithms.find((a) => HS_OR_NONE.test(a));
  if (bad !== undefined) throw new CaError('invalid_config', `token algorithm ${bad} may not be allowed: only asymmetric signatures`);
  const byUrl = new Map<string, IssuerConfig>();
  for (const issuer of config.issuers) {
    checkIssuerConfig(issuer);
    byUrl.set(issuer.issuerUrl, issuer);
  }
  const keysOf = createKeyStore(config, deps);
  return {
    issuers: [...byUrl.values()],
    async verifyToken(token: string): Promise<VerifiedToken> {
      const issuer = preflight(token, algorithms, byUrl);
      const verify = async (forceRefresh: boolean) =>
        jwtVerify(token, await keysOf(issuer, forceRefresh), {
          algorithms,
          issuer: issuer.issuerUrl,
          audience: issuer.clientId,
          requiredClaims: ['exp'],
          clockTolerance: config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
          currentDate: new Date(deps.clock.nowMs()),
        });
      try {
        try {
          return { issuer, claims: (await verify(false)).payload };
        } catch (err) {
          // An unknown kid may be a rotated key: refresh (rate-limited) and try once more.
          if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
          return { issuer, claims: (await verify(true)).payload };
        }
      } catch (err) {
        throw tokenError(err, issuer);
      }
    },
  };
}

function checkIssuerConfig(issuer: IssuerConfig): void {
  let url: URL;
  try {
    url = new URL(issuer.issuerUrl);
  } catch (err) {
    throw new CaError('invalid_config', `issuer URL ${JSON.stringify(issuer.issuerUrl)} is not a URL`, { cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CaError('invalid_config', `issuer URL ${issuer.issuerUrl} is not http(s)`);
  if (issuer.clientId === '') throw new CaError('invalid_config', `issuer ${issuer.issuerUrl} needs a client ID (the audience)`);
  if (issuer.kind === 'uri' && (issuer.subjectDomain === undefined || issuer.subjectDomain === '')) {
    throw new CaError('invalid_config', `issuer ${issuer.issuerUrl} of kind uri needs a subjectDomain`);
  }
}

/** preflight reads the unverified header and payload (attacker-controlled) to pick the issuer. */
function preflight(token: string, algorithms: readonly string[], byUrl: ReadonlyMap<string, IssuerConfig>): IssuerConfig {
  if (typeof token !== 'string' || token.length === 0) throw new CaError('invalid_token', 'the identity token is missing');
  if (token.length > MAX_TOKEN_BYTES) throw new CaError('invalid_token', `the identity token is over ${MAX_TOKEN_BYTES} bytes`);
  let alg: unknown;
  let iss: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
    iss = decodeJwt(token).iss;
  } catch (err) {
    throw new CaError('invalid_token', `the identity token is not a well-formed JWT: ${errorMessage(err)}`, { cause: err });
  }
  if (typeof alg !== 'string' || !algorithms.includes(alg)) {
    throw new CaError('token_algorithm', `token algorithm ${JSON.stringify(String(alg).slice(0, 32))} is not allowed (allowed: ${algorithms.join(', ')})`);
  }
  if (typeof iss !== 'string') throw new CaError('invalid_token', 'the identity token has no iss claim');
  const issuer = byUrl.get(iss);
  if (issuer === undefined) throw new CaError('unknown_issuer', `issuer ${JSON.stringify(iss.slice(0, 200))} is not trusted by this CA`);
  return issuer;
}

function tokenError(err: unknown, issuer: IssuerConfig): CaError {
  if (err instanceof CaError) return err;
  const e = err as { code?: string; claim?: string; message?: string };
  const why = errorMessage(err);
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return new CaError('token_expired', `the identity token has expired (${why})`, { cause: err });
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'aud') return new CaError('wrong_audience', `the identity token's audience is not ${JSON.stringify(issuer.clientId)}`, { cause: err });
      if (e.claim === 'nbf' || e.claim === 'iat') return new CaError('token_not_yet_valid', `the identity token is not valid yet (${why})`, { cause: err });
      if (e.claim === 'iss') return new CaError('unknown_issuer', `the identity token's issuer is not ${issuer.issuerUrl}`, { cause: err });
      return new CaError('invalid_token', `the identity token's claims are invalid: ${why}`, { cause: err });
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return new CaError('token_algorithm', `the identity token's algorithm is not allowed: ${why}`, { cause: err });
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return new CaError('unknown_key', `no key of ${issuer.issuerUrl}'s JWKS matches the identity token's kid`, { cause: err });
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new CaError('invalid_token', `the identity token names no kid and ${issuer.issuerUrl} has several keys`, { cause: err });
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new CaError('invalid_token_signature', `the identity token's signature does not verify with ${issuer.issuerUrl}'s key`, { cause: err });
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new CaError('invalid_token', `the identity token is invalid: ${why}`, { cause: err });
    default:
      return new CaError('issuer_unavailable', `couldn't verify the identity token against ${issuer.issuerUrl}: ${why}`, { cause: err });
  }
}

/** fetchJson GETs a bounded JSON document (attacker-influenced: the issuer's server answers it). */
async function fetchJson(url: string, timeoutMs: number, dispatcher: Dispatcher | undefined): Promise<unknown> {
  const res = await request(url, {
    method: 'GET',
    headers: { accept: 'application/json' },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    ...(dispatcher === undefined ? {} : { dispatcher }),
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_DOCUMENT_BYTES) {
      res.body.destroy();
      throw new Error(`${url} answered more than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  if (res.statusCode !== 200) throw new Error(`${url} answered HTTP ${res.statusCode}`);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Error(`${url} did not answer JSON`);
  }
}

async function fetchJwks(issuer: IssuerConfig, timeoutMs: number, dispatcher: Dispatcher | undefined): Promise<JSONWebKeySet> {
  try {
    const base = issuer.issuerUrl.replace(/\/+$/, '');
    const doc = (await fetchJson(`${base}/.well-known/openid-configuration`, timeoutMs, dispatcher)) as Record<string, unknown> | null;
    // OpenID Connect Discovery 1.0 §4.3: the document's issuer MUST equal the issuer it was fetched for.
    if (doc === null || typeof doc !== 'object' || doc.issuer !== issuer.issuerUrl) throw new Error('the discovery document names another issuer');
    if (typeof doc.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
    const jwksUrl = new URL(doc.jwks_uri);
    // Plain http only for an issuer configured as http (the development issuer on loopback).
    if (jwksUrl.protocol !== 'https:' && !(jwksUrl.protocol === 'http:' && issuer.issuerUrl.startsWith('http:'))) throw new Error('jwks_uri is not https');
    const jwks = (await fetchJson(jwksUrl.href, timeoutMs, dispatcher)) as { keys?: unknown } | null;
    if (jwks === null || typeof jwks !== 'object' || !Array.isArray(jwks.keys) || jwks.keys.length > MAX_JWKS_KEYS) {
      throw new Error(`the JWKS is not {"keys": [...]} with at most ${MAX_JWKS_KEYS} keys`);
    }
    return jwks as JSONWebKeySet;
  } catch (err) {
    throw new CaError('issuer_unavailable', `couldn't fetch the keys of issuer ${issuer.issuerUrl}: ${errorMessage(err)}`, { cause: err });
  }
}
