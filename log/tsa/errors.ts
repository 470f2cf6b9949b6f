/**
 * TsaErrorCode names every way the timestamp authority refuses a request or fails to start. The
 * code is stable: log/tsa/http.ts maps it to a status and answers `{ code, message }`, and the
 * request counter uses it as a label.
 *
 * - request_too_large (413): the request body is over the limit.
 * - unsupported_media_type (415): the body is neither application/timestamp-query nor JSON.
 * - malformed_request (400): the body is not one DER TimeStampReq (or JSON request) of version 1.
 * - unsupported_algorithm (400): the message imprint's hash is not SHA-256/384/512, or its length
 *   does not match the hash.
 * - unsupported_policy (400): the request names a TSA policy other than this TSA's.
 * - unsupported_extension (400): the request carries extensions (RFC 3161 §2.4.1: none are known).
 * - invalid_config (start-up): the TSA folder's files are missing, unreadable or inconsistent.
 * - tsa_exists (start-up): initTsa found TSA files already; a TSA is made once.
 */
export type TsaErrorCode =
  | 'request_too_large'
  | 'unsupported_media_type'
  | 'malformed_request'
  | 'unsupported_algorithm'
  | 'unsupported_policy'
  | 'unsupported_extension'
  | 'invalid_config'
  | 'tsa_exists';

/** TsaError is the one error class of the timestamp authority. */
export class TsaError extends Error {
  override readonly name = 'TsaError';
  readonly code: TsaErrorCode;

  constructor(code: TsaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** isTsaError reports whether err is a TsaError, optionally with the given code. */
export function isTsaError(err: unknown, code?: TsaErrorCode): err is TsaError {
  return err instanceof TsaError && (code === undefined || err.code === code);
}
