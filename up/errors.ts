// The errors of `vigil up`. Errors of the components it runs (LogError, WitnessError) pass through
// unchanged, so their codes stay what the component documents.

/**
 * UpErrorCode names why `vigil up` cannot start.
 * - invalid_config: a flag is malformed (port, host, origin).
 * - key_missing: the data folder holds a log but its checkpoint key is gone; a new key would fork
 *   the identity clients trust, so `vigil up` refuses to make one.
 * - origin_mismatch: --origin names another origin than the key in the data folder.
 * - locked: another live `vigil up` runs on the data folder.
 * - demo_failed: a step of the `--demo` traffic generator failed (printed; `vigil up` runs on).
 */
export type UpErrorCode = 'invalid_config' | 'key_missing' | 'origin_mismatch' | 'locked' | 'demo_failed';

/** UpError is the one error class of `vigil up`. */
export class UpError extends Error {
  readonly code: UpErrorCode;

  constructor(code: UpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpError';
    this.code = code;
  }
}

/** isUpError tells an UpError (of `code`, when given) from anything else. */
export function isUpError(err: unknown, code?: UpErrorCode): err is UpError {
  return err instanceof UpError && (code === undefined || err.code === code);
}
