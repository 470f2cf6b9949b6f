/**
 * BundleErrorCode names every way a Sigstore bundle fails verification, and the ways signing
 * fails. Each check has its own code, so that a caller (and `vigil verify`) can say exactly what
 * was wrong. The code is stable and usable as a metrics label.
 *
 * Inputs:
 * - malformed_bundle: the bundle JSON is not a v0.3 (or v0.2) bundle of the expected shape.
 * - unsupported_bundle: a media type, entry kind or algorithm Vigil does not verify.
 * - malformed_trusted_root: the trusted root JSON is unusable.
 * - invalid_policy: the identity regex does not compile, or the issuer is empty.
 * Checks, in the order verifyBundle makes them:
 * - unknown_log: the entry's log ID is not a log of the trusted root.
 * - invalid_checkpoint: the checkpoint's signature does not verify with the log's key.
 * - invalid_inclusion_proof: the entry does not hash into the checkpoint's tree at its index.
 * - invalid_entry_timestamp: the signed entry timestamp (SET) does not verify.
 * - invalid_timestamp: an RFC 3161 timestamp does not verify against the trusted TSAs.
 * - missing_timestamp: there is no verified time (neither a SET nor an RFC 3161 timestamp).
 * - untrusted_certificate: the certificate does not chain to a trusted CA valid at the signing time.
 * - missing_sct / invalid_sct: no embedded SCT, or one that does not verify with a trusted CT key.
 * - entry_mismatch: the log entry's kind, signature or digest is not the bundle's.
 * - certificate_mismatch: the certificate in the log entry is not the bundle's certificate.
 * - invalid_signature: the signature over the artifact (or the DSSE PAE) does not verify.
 * - artifact_mismatch: the artifact is not the one signed (digest, or in-toto subject).
 * - identity_mismatch / issuer_mismatch: the certificate's SAN or OIDC issuer is not the policy's.
 * - predicate_mismatch: the policy asks for an attestation of a predicate type, and the bundle is
 *   not an in-toto attestation of that type.
 * Witnessing (witnessed.ts), after every check above:
 * - malformed_witness_policy: the witness policy does not parse, or names other logs only.
 * - not_witnessed: no checkpoint the policy's quorum cosigned covers the entry (offline: the
 *   bundle's checkpoint lacks the quorum; online: so does the log's published checkpoint).
 * - not_yet_witnessed: the log's published cosigned checkpoint is still smaller than the bundle's
 *   (retry later: witnesses have not caught up).
 * - inconsistent_checkpoint: the bundle's checkpoint is not a prefix of the published cosigned
 *   one (a fork shown to this verifier, or tiles that do not authenticate).
 * Signing (sign.ts):
 * - request_failed: the CA, log, TSA or OIDC issuer refused or could not be reached.
 * - invalid_response: a service answered something that is not what its API promises.
 * - invalid_attestation: the attestation to sign has no URI predicate type, no subject name, or a
 *   predicate that is not a JSON object.
 */
export type BundleErrorCode =
  | 'malformed_bundle'
  | 'unsupported_bundle'
  | 'malformed_trusted_root'
  | 'invalid_policy'
  | 'unknown_log'
  | 'invalid_checkpoint'
  | 'invalid_inclusion_proof'
  | 'invalid_entry_timestamp'
  | 'invalid_timestamp'
  | 'missing_timestamp'
  | 'untrusted_certificate'
  | 'missing_sct'
  | 'invalid_sct'
  | 'entry_mismatch'
  | 'certificate_mismatch'
  | 'invalid_signature'
  | 'artifact_mismatch'
  | 'identity_mismatch'
  | 'issuer_mismatch'
  | 'predicate_mismatch'
  | 'malformed_witness_policy'
  | 'not_witnessed'
  | 'not_yet_witnessed'
  | 'inconsistent_checkpoint'
  | 'request_failed'
  | 'invalid_response'
  | 'invalid_attestation';

/** BundleError is the one error class of log/bundle. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
  readonly code: BundleErrorCode;

  constructor(code: BundleErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** isBundleError reports whether err is a BundleError, optionally with the given code. */
export function isBundleError(err: unknown, code?: BundleErrorCode): err is BundleError {
  return err instanceof BundleError && (code === undefined || err.code === code);
}

/** rethrowAs runs fn and turns any error that is not a BundleError into one with `code`. */
export function rethrowAs<T>(code: BundleErrorCode, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(code, `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
