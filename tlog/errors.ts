/**
 * TlogErrorCode names every way a tlog primitive refuses its input. The code is stable: callers
 * map it to protocol statuses, and metrics use it as a label.
 */
export type TlogErrorCode =
  | 'malformed_base64'
  | 'malformed_hash'
  | 'malformed_note'
  | 'malformed_key'
  | 'malformed_checkpoint'
  | 'malformed_signature'
  | 'malformed_cosignature'
  | 'malformed_proof'
  | 'malformed_tile'
  | 'malformed_bundle'
  | 'malformed_policy'
  | 'malformed_log_list'
  | 'malformed_request'
  | 'unsupported_key_type'
  | 'ambiguous_key'
  | 'unverified_note'
  | 'invalid_signature'
  | 'invalid_proof'
  | 'invalid_tile'
  | 'invalid_argument'
  | 'missing_hash';

/**
 * TlogError is the one error class of the tlog package. Parsers of untrusted input throw it (never
 * a SyntaxError or RangeError) with a message that says what was wrong.
 */
export class TlogError extends Error {
  override readonly name = 'TlogError';
  readonly code: TlogErrorCode;

  constructor(code: TlogErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** isTlogError reports whether err is a TlogError, optionally with the given code. */
export function isTlogError(err: unknown, code?: TlogErrorCode): err is TlogError {
  return err instanceof TlogError && (code === undefined || err.code === code);
}
