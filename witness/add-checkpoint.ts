// The witness's add-checkpoint logic (c2sp.org/tlog-witness, "add-checkpoint"), pure of HTTP:
// openAddCheckpointRequest parses and authenticates a body, decideAddCheckpoint applies the
// protocol rules against the stored state, commitAddCheckpoint cosigns and persists with a
// compare-and-swap, and processAddCheckpoint ties them together and maps errors to the statuses
// of the spec. The checks run in the order of Sunlight's witness (internal/witness/witness.go),
// the strictest implementation: parse (400), origin (404), signature (403), checkpoint text and
// extension lines (400), old > size (400), size-0 root (422), old ≠ latest size (409), proof (422).
import { formatCheckpoint, openCheckpoint, openCheckpointAsync, type Checkpoint, type OpenedCheckpoint } from '../tlog/checkpoint.ts';
import { signCosignature, type CosignatureSigner } from '../tlog/cosignature.ts';
import { isTlogError } from '../tlog/errors.ts';
import { EMPTY_ROOT, equalBytes, type Hash } from '../tlog/merkle.ts';
import { formatNote, type NoteSignature } from '../tlog/note.ts';
import type { VerifierKey } from '../tlog/note-ed25519.ts';
import { verifyConsistency } from '../tlog/proof.ts';
import {
  DEFAULT_MAX_WITNESS_BODY_BYTES,
  TLOG_SIZE_CONTENT_TYPE,
  formatConflictBody,
  parseAddCheckpointRequest,
  type AddCheckpointRequest,
} from '../tlog/witness-request.ts';
import { WitnessError, type WitnessErrorCode } from './errors.ts';
import type { CosignedCheckpoint, WitnessStore, WitnessTreeState } from './store.ts';
import type { FollowedLog, FollowedLogs } from './witness-config.ts';

/**
 * MAX_ADD_CHECKPOINT_ATTEMPTS bounds the read-decide-swap loop. Every failed swap means another
 * request grew the tree, after which a retry almost always ends in a 409, so a correct store never
 * needs more than three attempts; hitting the bound means the store is misbehaving.
 */
export const MAX_ADD_CHECKPOINT_ATTEMPTS = 8;

/** WITNESS_TEXT_CONTENT_TYPE is the Content-Type of every add-checkpoint answer except a 409. */
export const WITNESS_TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * ADD_CHECKPOINT_STATUS maps every WitnessErrorCode to the add-checkpoint HTTP status
 * (c2sp.org/tlog-witness, add-checkpoint). The spec names no status for an unparsable body; 400
 * is Sunlight's. 'malformed_note' is 403: a signature block that does not parse carries no
 * signature the witness can verify (Go-based witnesses answer 403 for a trusted key's line whose
 * base64 they decode leniently). 'root_mismatch' is 422 as at C2SP HEAD (v1.0.0 said 409).
 */
export const ADD_CHECKPOINT_STATUS: Readonly<Record<WitnessErrorCode, number>> = {
  malformed_request: 400,
  unknown_log: 404,
  malformed_note: 403,
  unverified_checkpoint: 403,
  invalid_signature: 403,
  malformed_checkpoint: 400,
  checkpoint_extensions: 400,
  old_size_too_large: 400,
  invalid_empty_root: 422,
  size_conflict: 409,
  unexpected_proof: 422,
  invalid_proof: 422,
  root_mismatch: 422,
  store_failed: 500,
  store_contention: 503,
  clock_invalid: 500,
  internal_error: 500,
  invalid_config: 500,
};

/** AddCheckpointDeps is what processAddCheckpoint needs; main.ts wires the real ones. */
export interface AddCheckpointDeps {
  /** logs are the followed logs and their keys. */
  logs: FollowedLogs;
  /** store holds the latest cosigned checkpoint per origin. */
  store: WitnessStore;
  /** signer is the witness's cosignature/v1 key. */
  signer: CosignatureSigner;
  /** clock returns the time in milliseconds since the Unix epoch; cosignatures carry its seconds. */
  clock: () => number;
  /** maxBodyBytes bounds the request body; default DEFAULT_MAX_WITNESS_BODY_BYTES (128 KiB). */
  maxBodyBytes?: number;
}

/**
 * AddCheckpointResponse is the answer to send, to the byte: the status, the Content-Type and the
 * body. `error` is the refusal or failure behind any non-200 answer: its code labels metrics, and
 * for a 5xx its cause must be logged (the body never reveals it). `origin` is set once the origin
 * is known to be followed, so it is a bounded metrics label.
 */
export interface AddCheckpointResponse {
  status: number;
  contentType?: string;
  body: string;
  error?: WitnessError;
  origin?: string;
  /** decision is set on a 200: whether the tree grew or the same tree was re-cosigned. */
  decision?: AddCheckpointDecision;
}

/** OpenedAddCheckpoint is an add-checkpoint request whose checkpoint a trusted log key signed. */
export interface OpenedAddCheckpoint {
  readonly log: FollowedLog;
  readonly oldSize: bigint;
  readonly proof: readonly Hash[];
  readonly checkpoint: Checkpoint;
  /** text is the signed checkpoint text, equal to formatCheckpoint(checkpoint). */
  readonly text: string;
  /** logSignatures are the verified signatures of the log's keys; unknown signatures are dropped. */
  readonly logSignatures: readonly NoteSignature[];
}

/** AddCheckpointDecision says what cosigning does: grow the tree, or re-cosign the same tree. */
export type AddCheckpointDecision = 'append' | 'refresh';

/**
 * processAddCheckpoint answers a `POST <submission prefix>/add-checkpoint` body
 * (attacker-controlled): it opens the request, decides against the stored state, and returns the
 * witness's cosignature line only after the new state is committed. It never rejects: every
 * outcome, including store failures (500) and contention (503), is an AddCheckpointResponse.
 */
export async function processAddCheckpoint(body: Uint8Array | string, deps: AddCheckpointDeps): Promise<AddCheckpointResponse> {
  let origin: string | undefined;
  try {
    const found = findAddCheckpointLog(body, deps.logs, deps.maxBodyBytes);
    origin = found.log.origin;
    // The log's signature, the largest CPU cost of a request (~0.1 ms), is checked on libuv's
    // thread pool: the event loop serves other requests meanwhile (bench/witness: the closed-loop
    // maximum rose from ~3.0k to ~3.7k requests/s on PostgreSQL, ~2.4k to ~3.0k on PGlite).
    const opened = await openLogCheckpointAsync(found.request.checkpointNote, found.log);
    const { cosignature, decision } = await commitAddCheckpoint(checkAddCheckpointRequest(found, opened), deps);
    return { status: 200, contentType: WITNESS_TEXT_CONTENT_TYPE, body: cosignature, origin, decision };
  } catch (err) {
    const response = formatAddCheckpointError(asWitnessError(err));
    return origin === undefined ? response : { ...response, origin };
  }
}

/**
 * formatAddCheckpointError renders a refusal as the spec wants it: a 409 is exactly `<size>\n`
 * with Content-Type `text/x.tlog.size`; other 4xx are a short plain-text reason; 5xx say only
 * "internal error" (the cause is for the log, not for the client).
 */
export function formatAddCheckpointError(err: WitnessError): AddCheckpointResponse {
  if (err.code === 'size_conflict' && err.latestSize !== undefined) {
    return { status: 409, contentType: TLOG_SIZE_CONTENT_TYPE, body: formatConflictBody(err.latestSize), error: err };
  }
  const status = ADD_CHECKPOINT_STATUS[err.code];
  const body = status >= 500 ? 'internal error\n' : `${err.message}\n`;
  return { status, contentType: WITNESS_TEXT_CONTENT_TYPE, body, error: err };
}

/**
 * openAddCheckpointRequest parses an add-checkpoint body (attacker-controlled), finds the log by
 * the checkpoint's first line, verifies the log's signature and parses the checkpoint. Throws
 * WitnessError 'malformed_request', 'unknown_log', 'malformed_note', 'unverified_checkpoint',
 * 'invalid_signature', 'malformed_checkpoint' or 'checkpoint_extensions'. Vigil does not cosign
 * extension lines (C2SP tlog-checkpoint: NOT RECOMMENDED; DESIGN: checkpoints have none), as
 * Sunlight does not.
 */
export function openAddCheckpointRequest(
  body: Uint8Array | string,
  logs: FollowedLogs,
  maxBodyBytes = DEFAULT_MAX_WITNESS_BODY_BYTES,
): OpenedAddCheckpoint {
  const found = findAddCheckpointLog(body, logs, maxBodyBytes);
  return checkAddCheckpointRequest(found, openLogCheckpoint(found.request.checkpointNote, found.log));
}

interface FoundAddCheckpoint {
  readonly request: AddCheckpointRequest;
  readonly log: FollowedLog;
}

// findAddCheckpointLog parses the body (attacker-controlled) and finds the log: 400, then 404.
function findAddCheckpointLog(body: Uint8Array | string, logs: FollowedLogs, maxBodyBytes = DEFAULT_MAX_WITNESS_BODY_BYTES): FoundAddCheckpoint {
  let request: AddCheckpointRequest;
  try {
    request = parseAddCheckpointRequest(body, maxBodyBytes);
  } catch (err) {
    throw new WitnessError('malformed_request', `malformed request: ${messageOf(err)}`, { cause: err });
  }
  // The origin is the note's first line, looked up before anything else in the note is trusted:
  // an unknown log is a 404 whatever its signatures say (tlog-witness, add-checkpoint).
  const note = request.checkpointNote;
  const origin = note.slice(0, note.includes('\n') ? note.indexOf('\n') : note.length);
  const log = logs.get(origin);
  if (log === undefined) throw new WitnessError('unknown_log', `unknown log ${quote(origin)}`);
  return { request, log };
}

// checkAddCheckpointRequest checks the text of a checkpoint whose log signature verified (400).
function checkAddCheckpointRequest({ request, log }: FoundAddCheckpoint, { checkpoint, note: verified }: OpenedCheckpoint<VerifierKey>): OpenedAddCheckpoint {
  if (checkpoint.extensions.length > 0) {
    throw new WitnessError('checkpoint_extensions', 'invalid checkpoint: extension lines are not supported');
  }
  // Cosign only what we interpreted (Sunlight signs a re-encoding); the strict parser makes the
  // re-encoding equal to the signed text, and if it ever did not, refusing fails safe.
  const text = formatCheckpoint(checkpoint);
  if (text !== verified.text) throw new WitnessError('malformed_checkpoint', 'invalid checkpoint: text is not in canonical form');
  const logSignatures = verified.verified.map((v) => v.signature);
  return { log, oldSize: request.oldSize, proof: request.proof, checkpoint, text, logSignatures };
}

/**
 * decideAddCheckpoint applies the add-checkpoint rules that depend on the stored state, in order,
 * to a request whose signature already verified. `latest` is the latest cosigned tree (undefined:
 * never cosigned, which counts as size 0). Pure and synchronous; throws WitnessError
 * 'old_size_too_large', 'invalid_empty_root', 'size_conflict' (with latestSize),
 * 'unexpected_proof', 'root_mismatch' or 'invalid_proof'.
 */
export function decideAddCheckpoint(
  req: { readonly oldSize: bigint; readonly proof: readonly Hash[]; readonly checkpoint: WitnessTreeState },
  latest: WitnessTreeState | undefined,
): AddCheckpointDecision {
  const { oldSize, proof } = req;
  const { size, root } = req.checkpoint;
  // "The old size MUST be equal to or lower than the checkpoint size", else 400.
  if (oldSize > size) throw new WitnessError('old_size_too_large', `old size ${oldSize} is larger than the checkpoint size ${size}`);
  // The empty tree's root is SHA-256("") (RFC 6962 §2.1); C2SP HEAD answers 422 for any other.
  if (size === 0n && !equalBytes(root, EMPTY_ROOT)) {
    throw new WitnessError('invalid_empty_root', 'invalid checkpoint: a tree of size 0 must have the root SHA-256("")');
  }
  // "The witness MUST check that the old size matches the size of the latest checkpoint it
  // cosigned ... (or zero if it never cosigned a checkpoint for that origin)", else 409.
  const latestSize = latest?.size ?? 0n;
  if (oldSize !== latestSize) {
    throw new WitnessError('size_conflict', `old size ${oldSize} is not the latest cosigned size ${latestSize}`, { latestSize });
  }
  if (oldSize === 0n) {
    // "The proof MUST be empty if the old size is zero": every tree extends the empty one.
    if (proof.length !== 0) throw new WitnessError('unexpected_proof', 'bad consistency proof: it must be empty when the old size is 0');
    return latest !== undefined && size === 0n ? 'refresh' : 'append';
  }
  if (latest === undefined) throw new WitnessError('internal_error', 'no stored state for a non-zero old size');
  if (oldSize === size && proof.length === 0 && !equalBytes(root, latest.root)) {
    // Two roots for one size, both signed by the log: a split view. 422 at C2SP HEAD.
    throw new WitnessError('root_mismatch', `checkpoint of size ${size} has a different root from the one this witness cosigned`);
  }
  try {
    verifyConsistency(oldSize, size, latest.root, root, proof);
  } catch (err) {
    throw new WitnessError('invalid_proof', `bad consistency proof: ${messageOf(err)}`, { cause: err });
  }
  return oldSize === size ? 'refresh' : 'append';
}

/**
 * commitAddCheckpoint cosigns an opened request and persists it: read the latest state, decide,
 * cosign, then compare-and-swap from the state that was read. If the swap fails, another request
 * moved the state in between, so it reads and decides again (the answer may become a 409). The
 * cosignature is returned only after the swap committed, so every released cosignature is for a
 * checkpoint stored as an extension of the one before it: the witness never cosigns two
 * inconsistent checkpoints (DESIGN, Security model). Returns the cosignature line and the
 * decision; throws the errors of decideAddCheckpoint, 'store_failed', 'store_contention' and
 * 'clock_invalid'.
 */
export async function commitAddCheckpoint(
  req: OpenedAddCheckpoint,
  deps: Pick<AddCheckpointDeps, 'store' | 'signer' | 'clock'>,
): Promise<{ cosignature: string; decision: AddCheckpointDecision }> {
  const { origin } = req.log;
  for (let attempt = 0; attempt < MAX_ADD_CHECKPOINT_ATTEMPTS; attempt++) {
    const latest = await readLatest(deps.store, origin);
    const decision = decideAddCheckpoint(req, latest);
    const cosignature = signCosignature(deps.signer, req.text, cosignatureTimestamp(deps.clock));
    // The stored note keeps the log signatures that verified, not unverified lines, which might
    // be crafted to collide with ours (Sunlight), plus our cosignature: what monitors fetch.
    const next: CosignedCheckpoint = {
      size: req.checkpoint.size,
      root: req.checkpoint.root,
      note: formatNote(req.text, req.logSignatures) + cosignature,
    };
    const expectedOld = latest === undefined ? undefined : { size: latest.size, root: latest.root };
    if (await swap(deps.store, origin, expectedOld, next)) return { cosignature, decision };
    // The swap failed: the signature is dropped unreleased and the loop re-reads the new state.
  }
  throw new WitnessError('store_contention', `couldn't store a checkpoint for ${quote(origin)}: ${MAX_ADD_CHECKPOINT_ATTEMPTS} compare-and-swap attempts failed`);
}

/**
 * getCosignedCheckpoint returns the latest checkpoint note the witness cosigned for an origin
 * (log signatures and the witness's cosignature), or undefined if none: the body of the
 * monitoring endpoint `GET <monitoring prefix>/<hex SHA-256(origin)>/checkpoint`, whose path
 * witnessCheckpointPath builds and FollowedLogs.getByOriginHash resolves. Throws 'store_failed'.
 */
export async function getCosignedCheckpoint(origin: string, store: WitnessStore): Promise<string | undefined> {
  return (await readLatest(store, origin))?.note;
}

// openLogCheckpoint verifies the log's signature (403) and parses the checkpoint (400).
function openLogCheckpoint(note: string, log: FollowedLog): OpenedCheckpoint<VerifierKey> {
  try {
    return openCheckpoint(note, log.verifiers, { origin: log.origin });
  } catch (err) {
    throw logCheckpointError(err);
  }
}

// openLogCheckpointAsync is openLogCheckpoint with the signatures checked on libuv's thread pool.
async function openLogCheckpointAsync(note: string, log: FollowedLog): Promise<OpenedCheckpoint<VerifierKey>> {
  try {
    return await openCheckpointAsync(note, log.verifiers, { origin: log.origin });
  } catch (err) {
    throw logCheckpointError(err);
  }
}

function logCheckpointError(err: unknown): unknown {
  if (!isTlogError(err)) return err;
  switch (err.code) {
    case 'malformed_note':
      return new WitnessError('malformed_note', `invalid signature: the checkpoint note does not parse: ${err.message}`, { cause: err });
    case 'unverified_note':
      return new WitnessError('unverified_checkpoint', 'invalid signature: no signature by a trusted key of this log', { cause: err });
    case 'invalid_signature':
      return new WitnessError('invalid_signature', `invalid signature: ${err.message}`, { cause: err });
    case 'malformed_checkpoint':
      return new WitnessError('malformed_checkpoint', `invalid checkpoint: ${err.message}`, { cause: err });
    default: // 'ambiguous_key': newFollowedLogs refuses two keys with one (name, key ID).
      return new WitnessError('internal_error', `couldn't verify the checkpoint: ${err.message}`, { cause: err });
  }
}

function cosignatureTimestamp(clock: () => number): bigint {
  const seconds = Math.floor(clock() / 1000);
  // tlog-witness: add-checkpoint cosignatures carry a non-zero timestamp.
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new WitnessError('clock_invalid', `couldn't cosign: the clock reads ${seconds} seconds since the epoch`);
  }
  return BigInt(seconds);
}

async function readLatest(store: WitnessStore, origin: string): Promise<CosignedCheckpoint | undefined> {
  try {
    return await store.getLatest(origin);
  } catch (err) {
    throw new WitnessError('store_failed', `couldn't read the latest checkpoint of ${quote(origin)}`, { cause: err });
  }
}

async function swap(store: WitnessStore, origin: string, expectedOld: WitnessTreeState | undefined, next: CosignedCheckpoint): Promise<boolean> {
  try {
    return await store.compareAndSwap(origin, expectedOld, next);
  } catch (err) {
    // The write may or may not have committed; the cosignature is not released either way, and
    // the next request re-reads whatever is stored.
    throw new WitnessError('store_failed', `couldn't store the checkpoint of ${quote(origin)}`, { cause: err });
  }
}

function asWitnessError(err: unknown): WitnessError {
  if (err instanceof WitnessError) return err;
  return new WitnessError('internal_error', `add-checkpoint failed unexpectedly: ${messageOf(err)}`, { cause: err });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// Quotes attacker-controlled text for a message, cut short so answers stay small.
function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
