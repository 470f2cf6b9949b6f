// The witness component's one error class. Every refusal of an add-checkpoint request and every
// internal failure has a code; the code is the metrics label and selects the HTTP status
// (ADD_CHECKPOINT_STATUS in add-checkpoint.ts).

/**
 * WitnessErrorCode names every way the witness refuses a request or fails. Codes are stable:
 * they label metrics (`vigil_witness_add_checkpoint_total{code}`) and pick protocol statuses.
 *
 * Request refusals, in the order add-checkpoint checks them (c2sp.org/tlog-witness, add-checkpoint):
 * - malformed_request: the body does not parse (old line, proof lines, blank line, size limit).
 * - unknown_log: the checkpoint's origin is not a followed log.
 * - malformed_note: the checkpoint note's signature block does not parse, so no trusted
 *   signature can be established.
 * - unverified_checkpoint: no signature from a trusted key of the log.
 * - invalid_signature: a line of a trusted (name, key ID) does not verify.
 * - malformed_checkpoint: the signed text is not a checkpoint.
 * - checkpoint_extensions: the checkpoint has extension lines, which Vigil does not cosign.
 * - old_size_too_large: the old size is above the checkpoint size.
 * - invalid_empty_root: a size-0 checkpoint whose root is not SHA-256("").
 * - size_conflict: the old size is not the size of the latest cosigned checkpoint (409).
 * - unexpected_proof: old size 0 with a non-empty proof.
 * - invalid_proof: the consistency proof does not verify.
 * - root_mismatch: the checkpoint has the latest cosigned size but another root.
 *
 * Internal failures: store_failed (the store threw; durable state unknown), store_contention
 * (compare-and-swap kept failing), clock_invalid (the clock gave no positive POSIX second),
 * internal_error (a should-not-happen check failed). Configuration: invalid_config.
 */
export type WitnessErrorCode =
  | 'malformed_request'
  | 'unknown_log'
  | 'malformed_note'
  | 'unverified_checkpoint'
  | 'invalid_signature'
  | 'malformed_checkpoint'
  | 'checkpoint_extensions'
  | 'old_size_too_large'
  | 'invalid_empty_root'
  | 'size_conflict'
  | 'unexpected_proof'
  | 'invalid_proof'
  | 'root_mismatch'
  | 'store_failed'
  | 'store_contention'
  | 'clock_invalid'
  | 'internal_error'
  | 'invalid_config';

/**
 * WitnessError is the one error class of the witness component: a code, a message that says what
 * was being attempted and why it failed, and the underlying cause. For 'size_conflict',
 * `latestSize` is the size of the latest cosigned checkpoint (the 409 body).
 */
export class WitnessError extends Error {
  override readonly name = 'WitnessError';
  readonly code: WitnessErrorCode;
  readonly latestSize: bigint | undefined;

  constructor(code: WitnessErrorCode, message: string, options?: { cause?: unknown; latestSize?: bigint }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.latestSize = options?.latestSize;
  }
}

/** isWitnessError reports whether err is a WitnessError, optionally with the given code. */
export function isWitnessError(err: unknown, code?: WitnessErrorCode): err is WitnessError {
  return err instanceof WitnessError && (code === undefined || err.code === code);
}
