// The log's identity for Sigstore clients and its signed entry timestamps (SETs).
//
// Log ID. Rekor v1 names its log by SHA-256(DER SPKI of the log key), and its checkpoint key hint
// is the first 4 bytes of that. Vigil's checkpoints are C2SP signed notes whose Ed25519 key hint is
// SHA-256(origin ‖ 0x0A ‖ 0x01 ‖ public key)[:4], and @sigstore/verify checks a checkpoint
// signature only when its hint equals the first 4 bytes of the trusted root's logId (research notes
// 5.6 step 3, 5.8 pitfalls 8-9, proof case F3). So Vigil uses ONE log ID everywhere: the full
// 32-byte C2SP key ID, exactly as Rekor v2 and public-good log2025-1 do. It is `logID` (lowercase
// hex) in v1 LogEntry responses and in the SET payload, `logId.keyId` (base64) in v2
// TransparencyLogEntry responses, and the `logId` of the log in trusted_root.json.
//
// SET. Rekor v1's inclusion promise (pkg/api/entries.go signEntry): the log's signature over the
// RFC 8785 canonical JSON {"body","integratedTime","logID","logIndex"}. An Ed25519 log key signs
// those bytes pure (research notes 5.6, case B). Ed25519 is deterministic, so signing the same
// entry again (v1 reads) gives the same SET.
import { encodeBase64, encodeHex } from '../tlog/base64.ts';
import { encodeUtf8 } from '../tlog/note.ts';
import { NOTE_KEY_TYPE_ED25519 } from '../tlog/note-key-id.ts';
import { ed25519PublicKeyFromBytes, verifyEd25519 } from '../tlog/note-ed25519.ts';
import { sha256 } from '../tlog/sha256.ts';
import { LogError } from './errors.ts';

/** LOG_ID_BYTES is the size of a log ID: a SHA-256. */
export const LOG_ID_BYTES = 32;

/**
 * computeLogId returns the full C2SP key ID of the log's Ed25519 checkpoint key:
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key), whose first 4 bytes are the note key hint.
 */
export function computeLogId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(encodeUtf8(name), new Uint8Array([0x0a, NOTE_KEY_TYPE_ED25519]), publicKey);
}

/** EntryTimestampFields are what a SET covers. */
export interface EntryTimestampFields {
  /** body is the entry's canonical body: the exact leaf bytes. */
  readonly body: Uint8Array;
  /** integratedTime is the Unix time, in seconds, at which the entry was integrated. */
  readonly integratedTime: number;
  /** logId is the 32-byte log ID (computeLogId). */
  readonly logId: Uint8Array;
  /** logIndex is the entry's index in the log. */
  readonly logIndex: bigint;
}

/**
 * formatEntryTimestampPayload returns the exact bytes a SET signs: RFC 8785 JSON with the members
 * in sorted order, body base64 and logID lowercase hex. Indices and times must be safe integers
 * (Rekor's canonicaliser reads numbers as float64; beyond 2^53 the form is not defined), else
 * LogError 'invalid_argument'.
 */
export function formatEntryTimestampPayload(f: EntryTimestampFields): Uint8Array {
  if (!Number.isSafeInteger(f.integratedTime) || f.integratedTime < 0) {
    throw new LogError('invalid_argument', `integrated time ${f.integratedTime} is not a non-negative safe integer`);
  }
  if (f.logIndex < 0n || f.logIndex > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LogError('invalid_argument', `log index ${f.logIndex} is beyond 2^53 - 1: a SET cannot encode it`);
  }
  if (f.logId.length !== LOG_ID_BYTES) throw new LogError('invalid_argument', `a log ID is ${LOG_ID_BYTES} bytes`);
  // Fixed members in RFC 8785 order (UTF-16 sort: body < integratedTime < logID < logIndex); base64
  // and hex need no escaping, and safe integers print in their shortest form.
  const text = `{"body":"${encodeBase64(f.body)}","integratedTime":${f.integratedTime},"logID":"${encodeHex(f.logId)}","logIndex":${f.logIndex}}`;
  return encodeUtf8(text);
}

/** EntryTimestampSigner is the log's Ed25519 key (an Ed25519Signer is one). */
export interface EntryTimestampSigner {
  sign(msg: Uint8Array): Uint8Array;
}

/** signEntryTimestamp returns the SET of an entry: the raw 64-byte Ed25519 signature. */
export function signEntryTimestamp(signer: EntryTimestampSigner, f: EntryTimestampFields): Uint8Array {
  return signer.sign(formatEntryTimestampPayload(f));
}

/**
 * isValidEntryTimestamp reports whether `set` (attacker-controlled when a client checks it) is the
 * Ed25519 signature of the log key `publicKey` (32 bytes) over the entry's SET payload.
 */
export function isValidEntryTimestamp(publicKey: Uint8Array, f: EntryTimestampFields, set: Uint8Array): boolean {
  return verifyEd25519(ed25519PublicKeyFromBytes(publicKey), formatEntryTimestampPayload(f), set);
}
