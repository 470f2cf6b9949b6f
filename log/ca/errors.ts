/**
 * CaErrorCode names every way the certificate authority refuses a request or fails to start. The
 * code is stable: log/ca/http.ts maps it to a status (STATUS there) and answers `{ code, message }`.
 *
 * Requests (POST /api/v2/signingCert):
 * - request_too_large (413): the body is over the limit.
 * - malformed_request (400): the body is not the Fulcio v2 JSON shape.
 * - invalid_token (401): the identity token is not a well-formed JWT, or lacks a claim it needs.
 * - unknown_issuer (401): the token's `iss` is not a configured issuer.
 * - wrong_audience (401): the token's `aud` does not hold the issuer's configured client ID.
 * - token_expired (401) / token_not_yet_valid (401): `exp` / `nbf` (or `iat`) outside the skew.
 * - token_algorithm (401): the token's `alg` is not in the allowlist (none, HS*, ...).
 * - unknown_key (401): no key of the issuer's JWKS has the token's `kid`, even after a refresh.
 * - invalid_token_signature (401): the token's signature does not verify with the issuer's key.
 * - email_not_verified (403): an email issuer's token lacks `email_verified: true`.
 * - identity_refused (403): the token's identity does not fit the issuer's kind (a URI subject
 *   outside the subject domain, a CI token without its workflow claims).
 * - invalid_proof_of_possession (400): the challenge signature or the CSR signature does not verify.
 * - unsupported_public_key (400): the key is not ECDSA P-256/384/521, RSA 2048–4096 or Ed25519.
 * - malformed_public_key (400) / malformed_csr (400): the key or CSR does not parse.
 * - issuer_unavailable (503): the issuer's discovery document or JWKS could not be fetched.
 * - log_failed (503): the precertificate could not be logged; no certificate was issued.
 *
 * Start-up: invalid_config (files unreadable or inconsistent), ca_exists (initCa found CA files).
 */
export type CaErrorCode =
  | 'request_too_large'
  | 'malformed_request'
  | 'invalid_token'
  | 'unknown_issuer'
  | 'wrong_audience'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_algorithm'
  | 'unknown_key'
  | 'invalid_token_signature'
  | 'email_not_verified'
  | 'identity_refused'
  | 'invalid_proof_of_possession'
  | 'unsupported_public_key'
  | 'malformed_public_key'
  | 'malformed_csr'
  | 'issuer_unavailable'
  | 'log_failed'
  | 'invalid_config'
  | 'ca_exists';

/** CaError is the one error class of the certificate authority. */
export class CaError extends Error {
  override readonly name = 'CaError';
  readonly code: CaErrorCode;

  constructor(code: CaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** isCaError reports whether err is a CaError, optionally with the given code. */
export function isCaError(err: unknown, code?: CaErrorCode): err is CaError {
  return err instanceof CaError && (code === undefined || err.code === code);
}
