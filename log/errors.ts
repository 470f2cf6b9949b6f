/**
 * LogErrorCode names every way the log refuses a request or an entry. The code is stable: the
 * HTTP layer maps it to a status (the 400/413/422 family, with a `{ code, message }` body), and
 * metrics use it as a label.
 *
 * - request_too_large: the request body is over the configured byte limit.
 * - malformed_request: the body is not UTF-8 JSON, or not a JSON object of the expected shape.
 * - malformed_entry: a field of the entry is missing, unknown, of the wrong type or badly encoded.
 * - unsupported_kind: the kind, apiVersion or v2 request type is not one this log accepts.
 * - unsupported_algorithm: the key type, size, curve or hash is not in the allowed set.
 * - malformed_public_key: the verifier's public key does not parse.
 * - malformed_certificate: the verifier's certificate does not parse.
 * - invalid_signature: a signature does not verify.
 * - untrusted_certificate: the certificate does not chain to the log's CA roots at the
 *   integration time, or breaks the code-signing profile (EKU, key usage, CA flag).
 * - entry_too_large: the canonical body is over the entry limit (65,535 bytes, a tile bundle's).
 * - invalid_config: trust material given by the operator is unusable (a start-up error).
 *
 * Storage, sequencer and read side (log/store.ts, sequencer.ts, read.ts, log.ts):
 * - invalid_argument (400): a read argument is malformed or out of range (first size > last, …).
 * - not_found (404): no such entry (an index at or beyond the tree size).
 * - overloaded (503 + Retry-After): the pool is full (maxPendingEntries or maxPendingBytes).
 * - batch_failed (503): the batch holding the entry was not committed, or its commit outcome is
 *   unknown; the entry was NOT acknowledged, and a retry logs it or finds it as a duplicate.
 * - pending_timeout (503): a process that does not sequence waited too long for the sequencer.
 * - sequencer_halted (503): a fatal error stopped the sequencer until an operator restarts it.
 * - closed (503): the log is shutting down.
 * - storage_failed (500/503): a database operation failed; durable state may be unknown.
 * - log_exists / log_missing: initLog found a log already / loadLog found none (start-up).
 * - config_mismatch: the configured origin or checkpoint key is not the stored log's (start-up).
 * - corrupt_state: stored tiles, bundle or checkpoint do not recombine to the stored state (fatal).
 * - root_mismatch: two independent computations of a new root disagree (fatal: nothing is signed).
 * - state_conflict: the compare-and-swap on log_state failed (another writer); the state reloads.
 */
export type LogErrorCode =
  | 'request_too_large'
  | 'malformed_request'
  | 'malformed_entry'
  | 'unsupported_kind'
  | 'unsupported_algorithm'
  | 'malformed_public_key'
  | 'malformed_certificate'
  | 'invalid_signature'
  | 'untrusted_certificate'
  | 'entry_too_large'
  | 'invalid_config'
  | 'invalid_argument'
  | 'not_found'
  | 'overloaded'
  | 'batch_failed'
  | 'pending_timeout'
  | 'sequencer_halted'
  | 'closed'
  | 'storage_failed'
  | 'log_exists'
  | 'log_missing'
  | 'config_mismatch'
  | 'corrupt_state'
  | 'root_mismatch'
  | 'state_conflict';

/**
 * LogError is the one error class of the log component. Parsers of untrusted input throw it (never
 * a SyntaxError, RangeError or TlogError) with a message that names the field and says what was
 * wrong with it.
 */
export class LogError extends Error {
  override readonly name = 'LogError';
  readonly code: LogErrorCode;

  constructor(code: LogErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** isLogError reports whether err is a LogError, optionally with the given code. */
export function isLogError(err: unknown, code?: LogErrorCode): err is LogError {
  return err instanceof LogError && (code === undefined || err.code === code);
}

/** errorMessage returns err's message, or its string form when it is not an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
