// The CA's HTTP surface (Fulcio v2 JSON shapes, research notes 3.1), thin: read a bounded body,
// call one function, answer. Mount the router at the root of the app that also serves the log
// (sigstore-js's FulcioSigner posts to `${fulcioBaseURL}/api/v2/signingCert`):
//
//   POST /api/v2/signingCert     CreateSigningCertificateRequest → SigningCertificate (embedded SCT)
//   GET  /api/v2/trustBundle     {chains: [{certificates: [intermediate PEM, root PEM]}]}
//   GET  /api/v2/configuration   {issuers: [{issuerUrl, audience, challengeClaim, issuerType}]}
//   GET  /api/v1/trusted_root.json  Sigstore TrustedRoot (trusted-root.ts)
//
// Refusals are `{code, message}` with the status of STATUS; nothing here answers 500 for bad input.
import express, { type Request, type Response, type Router } from 'express';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../platform/clock.ts';
import type { ErrorBody } from '../../platform/http.ts';
import type { Logger } from '../../platform/logger.ts';
import { errorMessage } from '../errors.ts';
import type { Log } from '../log.ts';
import { CaError, isCaError, type CaErrorCode } from './errors.ts';
import type { Ca } from './keys.ts';
import { createOidcVerifier, type OidcConfig, type OidcVerifier } from './oidc.ts';
import { formatConfiguration, formatTrustBundle, issueSigningCertificate } from './signing-cert.ts';
import type { TrustedRootJson } from './trusted-root.ts';

/** DEFAULT_MAX_CA_REQUEST_BYTES bounds a signingCert request body (64 KiB). */
export const DEFAULT_MAX_CA_REQUEST_BYTES = 64 * 1024;

/** CaRouterConfig configures createCaRouter. */
export interface CaRouterConfig {
  /** oidc lists the trusted issuers and the token checks' tunables (oidc.ts). */
  readonly oidc: OidcConfig;
  /** maxRequestBytes bounds a request body, in bytes (DEFAULT_MAX_CA_REQUEST_BYTES). */
  readonly maxRequestBytes?: number;
}

/** CaRouterDeps are the router's collaborators. */
export interface CaRouterDeps {
  /** ca is the loaded CA (loadCa or initCa). */
  readonly ca: Ca;
  /** log receives every precertificate before its certificate is issued (StartedLog.log). */
  readonly log: Pick<Log, 'addEntry'>;
  /** trustedRoot returns the TrustedRoot to serve (formatTrustedRoot); omitted: no such route. */
  readonly trustedRoot?: () => TrustedRootJson;
  /** verifier overrides the OIDC verifier built from config.oidc (tests share one). */
  readonly verifier?: OidcVerifier;
  readonly clock: Clock;
  readonly logger: Logger;
  /** metrics gets vigil_ca_certificates_total and vigil_ca_requests_rejected_total. */
  readonly metrics?: Registry;
}

/** STATUS maps every CaError code to its HTTP status. */
const STATUS: Readonly<Record<CaErrorCode, number>> = {
  request_too_large: 413, malformed_request: 400,
  invalid_token: 401, unknown_issuer: 401, wrong_audience: 401, token_expired: 401, token_not_yet_valid: 401,
  token_algorithm: 401, unknown_key: 401, invalid_token_signature: 401,
  email_not_verified: 403, identity_refused: 403,
  invalid_proof_of_possession: 400, unsupported_public_key: 400, malformed_public_key: 400, malformed_csr: 400,
  issuer_unavailable: 503, log_failed: 503, invalid_config: 500, ca_exists: 500,
};

/** statusFor maps an error to its HTTP status: the table for CaErrors, 500 for anything else. */
export function statusFor(err: unknown): number {
  return isCaError(err) ? STATUS[err.code] : 500;
}

/**
 * createCaRouter returns the CA's Express router (routes above). Mount it before any app that ends
 * in a catch-all 404 (createLogApp does): `outer.use(createCaRouter(...)); outer.use(started.app)`.
 */
export function createCaRouter(config: CaRouterConfig, deps: CaRouterDeps): Router {
  const verifier = deps.verifier ?? createOidcVerifier(config.oidc, { clock: deps.clock, logger: deps.logger });
  const limit = config.maxRequestBytes ?? DEFAULT_MAX_CA_REQUEST_BYTES;
  const router = express.Router();
  router.post('/api/v2/signingCert', signingCertHandler(verifier, jsonReader(limit), deps));

  router.get('/api/v2/trustBundle', (_req, res) => {
    res.json(formatTrustBundle(deps.ca));
  });

  router.get('/api/v2/configuration', (_req, res) => {
    res.json(formatConfiguration(verifier));
  });

  if (deps.trustedRoot !== undefined) {
    const trustedRoot = deps.trustedRoot;
    router.get('/api/v1/trusted_root.json', (_req, res) => {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Cache-Control', 'no-cache');
      res.send(JSON.stringify(trustedRoot(), null, 2));
    });
  }
  return router;
}

/** signingCertHandler answers POST /api/v2/signingCert: the certificate, or `{code, message}`. */
function signingCertHandler(verifier: OidcVerifier, readJson: (req: Request, res: Response) => Promise<unknown>, deps: CaRouterDeps) {
  const registers = deps.metrics ? [deps.metrics] : [];
  const issued = new Counter({ name: 'vigil_ca_certificates_total', help: 'Certificates issued, by issuer kind.', labelNames: ['issuer_kind'], registers });
  const rejected = new Counter({ name: 'vigil_ca_requests_rejected_total', help: 'signingCert requests refused, by code.', labelNames: ['code'], registers });
  return async (req: Request, res: Response) => {
    try {
      const result = await issueSigningCertificate(await readJson(req, res), { ca: deps.ca, verifier, log: deps.log, clock: deps.clock });
      issued.inc({ issuer_kind: result.kind });
      res.status(201).json(result.response);
    } catch (err) {
      const code = isCaError(err) ? err.code : 'internal';
      rejected.inc({ code });
      const status = statusFor(err);
      // Messages and causes name files and codes, never key material.
      if (status >= 500) deps.logger.error({ err: errorMessage(err), cause: errorMessage((err as Error).cause ?? ''), code }, 'signingCert failed');
      if (status === 503) res.setHeader('Retry-After', '5');
      // 500s say nothing of the internals; every other answer names its reason.
      const message = status === 500 ? 'internal error' : errorMessage(err);
      res.status(status).json({ code, message } satisfies ErrorBody);
    }
  };
}

/** jsonReader reads a bounded body (attacker-controlled) and parses it as JSON, whatever its type. */
function jsonReader(limit: number): (req: Request, res: Response) => Promise<unknown> {
  const raw = express.raw({ type: () => true, limit, inflate: false });
  return (req, res) =>
    new Promise((resolve, reject) => {
      raw(req, res, (err?: unknown) => {
        if (err !== undefined) {
          const tooLarge = (err as { type?: string }).type === 'entity.too.large';
          return reject(tooLarge ? new CaError('request_too_large', `request body is over the limit of ${limit} bytes`) : new CaError('malformed_request', `couldn't read the request body: ${errorMessage(err)}`));
        }
        const body: unknown = req.body;
        try {
          resolve(JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : ''));
        } catch {
          reject(new CaError('malformed_request', 'the request body is not JSON'));
        }
      });
    });
}
