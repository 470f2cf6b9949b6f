// The monitor component's one error class. Codes are stable: they label metrics and select HTTP
// statuses in monitor/http.ts. Findings (an unexpected signer, a split view) are never errors.

/**
 * MonitorErrorCode names every way the monitor refuses input or fails.
 *
 * Watch rules and expected-signer policies (subscriber input, monitor/rules.ts):
 * - malformed_rule: a watch rule is not an object of the documented shape.
 * - malformed_policy: an expected-signer policy is not an object of the documented shape.
 * - malformed_pattern: a pattern does not parse as its match mode (exact, glob, regex) or uses
 *   syntax Vigil refuses (backreferences, lookaround, unanchored forms).
 * - pattern_too_large: a pattern is longer than MAX_PATTERN_LENGTH or expands (counted
 *   repetition) to more automaton states than MAX_PATTERN_STATES.
 * - duplicate_id: a rule or policy id is already in the rule set or index.
 *
 * Following logs (monitor/config.ts, tailer.ts, worker.ts):
 * - invalid_config: the monitor's configuration or rules file is wrong (every problem named).
 * - fetch_failed: a checkpoint, tile or entry bundle could not be fetched (retryable).
 * - unknown_log: a job or command names a log origin that is not configured.
 * - not_verified: a range or checkpoint the monitor needs has not been verified yet.
 *
 * Log entries and search (monitor/entry-parse.ts, monitor/search*.ts):
 * - unparseable_entry: a log entry's leaf bytes are not a supported entry of the documented shape.
 * - payload_mismatch: a DSSE payload given with an entry does not hash to its payloadHash.
 * - invalid_search: a search query has a missing, malformed or out-of-bounds parameter.
 * - search_failed: a search server could not be reached or answered something unreadable.
 * - unverified_result: a search result's entry or inclusion proof does not verify.
 */
export type MonitorErrorCode =
  | 'malformed_rule'
  | 'malformed_policy'
  | 'malformed_pattern'
  | 'pattern_too_large'
  | 'duplicate_id'
  | 'invalid_config'
  | 'fetch_failed'
  | 'unknown_log'
  | 'not_verified'
  | 'unparseable_entry'
  | 'payload_mismatch'
  | 'invalid_search'
  | 'search_failed'
  | 'unverified_result';

/**
 * MonitorError is the one error class of the monitor. Parsers of subscriber input throw it (never
 * a SyntaxError or RangeError) with a message naming the field and what was wrong with it.
 */
export class MonitorError extends Error {
  override readonly name = 'MonitorError';
  readonly code: MonitorErrorCode;

  constructor(code: MonitorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** isMonitorError reports whether err is a MonitorError, optionally with the given code. */
export function isMonitorError(err: unknown, code?: MonitorErrorCode): err is MonitorError {
  return err instanceof MonitorError && (code === undefined || err.code === code);
}
