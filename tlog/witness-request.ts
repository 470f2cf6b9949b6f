// C2SP tlog-witness wire formats (c2sp.org/tlog-witness), pure and without HTTP: the
// add-checkpoint and sign-subtree request bodies, the add-checkpoint response, the 409 Conflict
// body and the monitoring path. Statuses are the caller's business: every parse error here is a
// malformed body, which the witness answers with 400 Bad Request.
import { decodeBase64, encodeBase64, encodeHex } from './base64.ts';
import { TlogError } from './errors.ts';
import { HASH_SIZE, MAX_UINT64, type Hash } from './merkle.ts';
import { parseSignatureLine, parseSignatureLines, type NoteSignature } from './note.ts';
import { sha256 } from './sha256.ts';

/** MAX_CONSISTENCY_PROOF_LINES is the most proof lines a client may send (tlog-witness). */
export const MAX_CONSISTENCY_PROOF_LINES = 63;

/** MAX_SUBTREE_COSIGNATURE_LINES is the most subtree cosignature lines a sign-subtree body may carry. */
export const MAX_SUBTREE_COSIGNATURE_LINES = 8;

/** MAX_SIGN_SUBTREE_CHECKPOINT_SIGNATURES is the most signatures on a sign-subtree reference checkpoint. */
export const MAX_SIGN_SUBTREE_CHECKPOINT_SIGNATURES = 8;

/**
 * DEFAULT_MAX_WITNESS_BODY_BYTES bounds request and response bodies: Sunlight's witness limit
 * (transparency-dev/witness uses 16 KiB, too little for several ML-DSA-44 signatures).
 */
export const DEFAULT_MAX_WITNESS_BODY_BYTES = 128 * 1024;

/** TLOG_SIZE_CONTENT_TYPE is the exact Content-Type of a 409 Conflict answer to add-checkpoint. */
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';

const DECIMAL = '(0|[1-9][0-9]*)';
const OLD_LINE = new RegExp(`^old ${DECIMAL}$`);
const SUBTREE_LINE = new RegExp(`^subtree ${DECIMAL} ${DECIMAL}$`);
const CONFLICT_BODY = new RegExp(`^${DECIMAL}\\n$`);
const SIGNATURE_LINE_START = '\u2014';

/** AddCheckpointRequest is a parsed `POST <submission prefix>/add-checkpoint` body. */
export interface AddCheckpointRequest {
  /** oldSize is the size of the checkpoint the client believes the witness last cosigned. */
  oldSize: bigint;
  /** proof is the RFC 6962 consistency proof from oldSize to the checkpoint's size. */
  proof: Hash[];
  /** checkpointNote is the signed checkpoint, unparsed and unverified. */
  checkpointNote: string;
}

/**
 * parseAddCheckpointRequest parses an add-checkpoint body (attacker-controlled): `old <n>` with no
 * leading zeros, at most 63 lines each the strict base64 of a 32-byte hash, a blank line, then
 * the checkpoint note, which the caller parses and verifies. It does not apply the protocol rules
 * that have their own statuses (old > size, a proof for old 0). Throws TlogError
 * 'malformed_request' naming the line.
 */
export function parseAddCheckpointRequest(
  body: string | Uint8Array,
  maxBodyBytes = DEFAULT_MAX_WITNESS_BODY_BYTES,
): AddCheckpointRequest {
  const text = decodeBody(body, maxBodyBytes, 'add-checkpoint request');
  const { header, checkpoint } = splitAtBlankLine(text, 'add-checkpoint request');
  const m = OLD_LINE.exec(header[0] ?? '');
  if (!m) throw requestError(1, `want "old <size>" in decimal without leading zeros, got ${quote(header[0] ?? '')}`);
  const oldSize = parseUint64(m[1] ?? '', 1, 'old size');
  const proof = parseProofLines(header.slice(1), 2);
  return { oldSize, proof, checkpointNote: checkpoint };
}

/**
 * formatAddCheckpointRequest writes an add-checkpoint body. It throws 'invalid_argument' for an
 * old size outside uint64, more than 63 proof hashes, a hash that is not 32 bytes, or an empty note.
 */
export function formatAddCheckpointRequest(req: AddCheckpointRequest): string {
  checkUint64Arg(req.oldSize, 'old size');
  checkProofArg(req.proof);
  if (req.checkpointNote === '') throw new TlogError('invalid_argument', 'add-checkpoint request needs a checkpoint');
  return `old ${req.oldSize}\n${formatProofLines(req.proof)}\n${req.checkpointNote}`;
}

/**
 * parseAddCheckpointResponse parses a 200 answer to add-checkpoint (attacker-controlled): one or
 * more note signature lines, each ending in a newline. The caller verifies them as cosignatures
 * of the checkpoint it sent, ignoring unknown keys. Throws 'malformed_request' for an oversized
 * or non-UTF-8 body and 'malformed_note' for a bad line.
 */
export function parseAddCheckpointResponse(
  body: string | Uint8Array,
  maxBodyBytes = DEFAULT_MAX_WITNESS_BODY_BYTES,
): NoteSignature[] {
  return parseSignatureLines(decodeBody(body, maxBodyBytes, 'add-checkpoint response'));
}

/**
 * parseConflictResponse reads the witness's size from a 409 answer to add-checkpoint
 * (attacker-controlled), as strictly as sigsum-go: the Content-Type must be exactly
 * `text/x.tlog.size` (no parameters) and the body exactly `<decimal size>\n` with no leading zeros.
 * Throws 'malformed_request'.
 */
export function parseConflictResponse(contentType: string | null | undefined, body: string | Uint8Array): bigint {
  if (contentType !== TLOG_SIZE_CONTENT_TYPE) {
    throw new TlogError('malformed_request', `409 response has Content-Type ${quote(contentType ?? '')}, want exactly ${TLOG_SIZE_CONTENT_TYPE}`);
  }
  // 20 digits hold any uint64; anything longer is refused before decoding.
  const text = decodeBody(body, 21, '409 response');
  const m = CONFLICT_BODY.exec(text);
  if (!m) throw new TlogError('malformed_request', `409 response body ${quote(text)} is not "<size>\\n" in decimal without leading zeros`);
  return parseUint64(m[1] ?? '', 1, '409 response size');
}

/** formatConflictBody writes the body of a 409 answer: the witness's latest cosigned size and "\n". */
export function formatConflictBody(size: bigint): string {
  checkUint64Arg(size, 'size');
  return `${size}\n`;
}

/** witnessOriginHash is the lowercase hex SHA-256 of a log origin, which names it in witness URLs. */
export function witnessOriginHash(origin: string): string {
  if (origin === '' || origin.includes('\n')) {
    throw new TlogError('invalid_argument', `invalid log origin ${quote(origin)}`);
  }
  return encodeHex(sha256(new TextEncoder().encode(origin)));
}

/**
 * witnessCheckpointPath is the path under a witness's monitoring prefix of the latest checkpoint
 * it cosigned for an origin: `<lowercase hex SHA-256(origin)>/checkpoint`.
 */
export function witnessCheckpointPath(origin: string): string {
  return `${witnessOriginHash(origin)}/checkpoint`;
}

/** SignSubtreeRequest is a parsed `POST <submission prefix>/sign-subtree` body (optional API). */
export interface SignSubtreeRequest {
  start: bigint;
  end: bigint;
  subtreeHash: Hash;
  /** subtreeCosignatures are the optional DoS-protection cosignatures over the subtree. */
  subtreeCosignatures: NoteSignature[];
  /** proof is the subtree consistency proof from [start, end) to the checkpoint. */
  proof: Hash[];
  /** checkpoint is the reference checkpoint: a signed note, or only its text if unsigned. */
  checkpoint: string;
}

/**
 * parseSignSubtreeRequest parses a sign-subtree body (attacker-controlled): `subtree <start>
 * <end>` with start < end, the subtree hash, at most 8 cosignature lines, at most 63 proof lines, a
 * blank line, and the checkpoint with at most 8 signatures or none. Whether [start, end) is a
 * valid subtree within the checkpoint is the caller's check. Throws 'malformed_request'.
 */
export function parseSignSubtreeRequest(
  body: string | Uint8Array,
  maxBodyBytes = DEFAULT_MAX_WITNESS_BODY_BYTES,
): SignSubtreeRequest {
  const text = decodeBody(body, maxBodyBytes, 'sign-subtree request');
  const { header, checkpoint } = splitAtBlankLine(text, 'sign-subtree request');
  const m = SUBTREE_LINE.exec(header[0] ?? '');
  if (!m) throw requestError(1, `want "subtree <start> <end>" in decimal without leading zeros, got ${quote(header[0] ?? '')}`);
  const start = parseUint64(m[1] ?? '', 1, 'subtree start');
  const end = parseUint64(m[2] ?? '', 1, 'subtree end');
  if (start >= end) throw requestError(1, `subtree start ${start} is not below its end ${end}`);
  const subtreeHash = parseHashLine(header[1], 2, 'subtree hash');
  let i = 2;
  const subtreeCosignatures: NoteSignature[] = [];
  for (; i < header.length && (header[i] ?? '').startsWith(SIGNATURE_LINE_START); i++) {
    if (subtreeCosignatures.length === MAX_SUBTREE_COSIGNATURE_LINES) {
      throw requestError(i + 1, `more than ${MAX_SUBTREE_COSIGNATURE_LINES} subtree cosignature lines`);
    }
    subtreeCosignatures.push(parseCosignatureLine(header[i] ?? '', i + 1));
  }
  const proof = parseProofLines(header.slice(i), i + 1);
  checkReferenceCheckpoint(checkpoint, header.length + 2);
  return { start, end, subtreeHash, subtreeCosignatures, proof, checkpoint };
}

function decodeBody(body: string | Uint8Array, maxBytes: number, what: string): string {
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (size > maxBytes) throw new TlogError('malformed_request', `${what} body is ${size} bytes, over the limit of ${maxBytes}`);
  if (typeof body === 'string') return body;
  try {
    // ignoreBOM keeps a leading BOM in the text, where it fails the first line's check.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch (err) {
    throw new TlogError('malformed_request', `${what} body is not valid UTF-8`, { cause: err });
  }
}

// The header ends at the first blank line: header lines are never empty, so the first "\n\n" is
// the end of the last header line followed by the empty line.
function splitAtBlankLine(text: string, what: string): { header: string[]; checkpoint: string } {
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw new TlogError('malformed_request', `${what} has no blank line before the checkpoint`);
  const checkpoint = text.slice(blank + 2);
  if (checkpoint === '') throw new TlogError('malformed_request', `${what} has no checkpoint after the blank line`);
  return { header: text.slice(0, blank).split('\n'), checkpoint };
}

function parseProofLines(lines: string[], firstLineNo: number): Hash[] {
  if (lines.length > MAX_CONSISTENCY_PROOF_LINES) {
    throw requestError(firstLineNo + MAX_CONSISTENCY_PROOF_LINES, `more than ${MAX_CONSISTENCY_PROOF_LINES} consistency proof lines`);
  }
  return lines.map((line, j) => parseHashLine(line, firstLineNo + j, 'consistency proof hash'));
}

function parseHashLine(line: string | undefined, lineNo: number, what: string): Hash {
  let hash: Uint8Array;
  try {
    hash = decodeBase64(line ?? '', what);
  } catch (err) {
    throw requestError(lineNo, `${what} ${quote(line ?? '')} is not strict base64`, err);
  }
  if (hash.length !== HASH_SIZE) throw requestError(lineNo, `${what} is ${hash.length} bytes, want ${HASH_SIZE}`);
  return hash;
}

function parseCosignatureLine(line: string, lineNo: number): NoteSignature {
  try {
    return parseSignatureLine(line);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw requestError(lineNo, `invalid subtree cosignature line: ${reason}`, err);
  }
}

// A reference checkpoint either carries 1..8 signature lines after its last blank line, or none
// at all, in which case it is only the checkpoint text ending in a newline, without blank lines.
function checkReferenceCheckpoint(checkpoint: string, lineNo: number): void {
  if (!checkpoint.endsWith('\n')) throw requestError(lineNo, 'checkpoint does not end in a newline');
  const blank = checkpoint.lastIndexOf('\n\n');
  if (blank < 0) return;
  const signatures = checkpoint.slice(blank + 2).split('\n').length - 1;
  if (signatures === 0) throw requestError(lineNo, 'checkpoint has a blank line but no signatures');
  if (signatures > MAX_SIGN_SUBTREE_CHECKPOINT_SIGNATURES) {
    throw requestError(lineNo, `checkpoint has ${signatures} signatures, more than ${MAX_SIGN_SUBTREE_CHECKPOINT_SIGNATURES}`);
  }
}

function parseUint64(digits: string, lineNo: number, what: string): bigint {
  const v = BigInt(digits); // digits matched DECIMAL, so BigInt cannot throw
  if (v > MAX_UINT64) throw requestError(lineNo, `${what} ${digits} does not fit in 64 bits`);
  return v;
}

function formatProofLines(proof: readonly Hash[]): string {
  return proof.map((h) => `${encodeBase64(h)}\n`).join('');
}

function checkUint64Arg(v: bigint, what: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > MAX_UINT64) {
    throw new TlogError('invalid_argument', `${what} must be a uint64 bigint`);
  }
}

function checkProofArg(proof: readonly Hash[]): void {
  if (proof.length > MAX_CONSISTENCY_PROOF_LINES) {
    throw new TlogError('invalid_argument', `a consistency proof has at most ${MAX_CONSISTENCY_PROOF_LINES} hashes, got ${proof.length}`);
  }
  if (proof.some((h) => h.length !== HASH_SIZE)) {
    throw new TlogError('invalid_argument', `every consistency proof hash must be ${HASH_SIZE} bytes`);
  }
}

function requestError(lineNo: number, message: string, cause?: unknown): TlogError {
  return new TlogError('malformed_request', `line ${lineNo}: ${message}`, cause === undefined ? undefined : { cause });
}

// Quotes attacker-controlled text for an error message, cut short so messages stay small.
function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
