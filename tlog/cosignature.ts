// C2SP tlog-cosignature: a witness's timestamped signature of a checkpoint, in two forms.
// - cosignature/v1 (note signature type 0x04): Ed25519 over "cosignature/v1\ntime <t>\n" + the
//   checkpoint text (extension lines included).
// - subtree/v1 (type 0x06): ML-DSA-44 (FIPS 204, empty context) over the binary message
//   "subtree/v1\n\0" || u8 len || cosigner name || u64 t || u8 len || origin || u64 start ||
//   u64 end || root hash, with start 0 and end the size for a checkpoint; it does not cover
//   extension lines. Verified with @noble/post-quantum (Node 20 has no ML-DSA); Vigil's own
//   witnesses sign with Ed25519 only.
// Both lines carry keyID[4] || u64 timestamp || signature (64 or 2,420 bytes).
import { type KeyObject } from 'node:crypto';
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import { parseCheckpoint } from './checkpoint.ts';
import { TlogError } from './errors.ts';
import { decodeUtf8, encodeUtf8, formatKeyId, formatSignatureLine, isValidKeyName, parseSignatureLine, type NoteSignature } from './note.ts';
import {
  ED25519_SIGNATURE_BYTES,
  ed25519PrivateKeyFromSeed,
  ed25519PublicKeyFromBytes,
  ed25519PublicKeyOfSeed,
  signEd25519,
  verifyEd25519,
  type VerifierKey,
} from './note-ed25519.ts';
import {
  MLDSA44_PUBLIC_KEY_BYTES,
  NOTE_KEY_TYPE_COSIGNATURE_V1,
  NOTE_KEY_TYPE_ED25519,
  NOTE_KEY_TYPE_MLDSA44,
  computeKeyId,
  decodeVerifierKey,
  type VerifierKeyParts,
} from './note-key-id.ts';

/** COSIGNATURE_V1_HEADER is the domain-separation line that starts every cosignature/v1 message. */
export const COSIGNATURE_V1_HEADER = 'cosignature/v1\n';
/** MAX_COSIGNATURE_TIMESTAMP is the largest allowed timestamp, 2^63 - 1 (tlog-cosignature). */
export const MAX_COSIGNATURE_TIMESTAMP = 2n ** 63n - 1n;
/** COSIGNATURE_V1_SIGNATURE_BYTES is the size after the key ID: u64 timestamp || Ed25519 signature. */
export const COSIGNATURE_V1_SIGNATURE_BYTES = 8 + ED25519_SIGNATURE_BYTES;

/** SUBTREE_V1_LABEL is the 12-byte domain-separation prefix of every subtree/v1 message. */
export const SUBTREE_V1_LABEL = encodeUtf8('subtree/v1\n\0');
/** MLDSA44_SIGNATURE_BYTES is the size of an ML-DSA-44 signature (FIPS 204). */
export const MLDSA44_SIGNATURE_BYTES = 2420;
/** SUBTREE_V1_SIGNATURE_BYTES is the size after the key ID: u64 timestamp || ML-DSA-44 signature. */
export const SUBTREE_V1_SIGNATURE_BYTES = 8 + MLDSA44_SIGNATURE_BYTES;

/**
 * CosignatureVerifier verifies the cosignature lines of one cosigner: type 0x04 (cosignature/v1,
 * Ed25519) or 0x06 (subtree/v1, ML-DSA-44), with that type's key ID. As a NoteVerifier,
 * `verify(checkpointText, sig)` takes the bytes after the key ID, so verifyNote and openCheckpoint
 * accept it beside log keys.
 */
export interface CosignatureVerifier extends VerifierKey {
  readonly type: typeof NOTE_KEY_TYPE_COSIGNATURE_V1 | typeof NOTE_KEY_TYPE_MLDSA44;
}

/** CosignatureSigner holds a cosigner's Ed25519 key, named and identified by its 0x04 key ID. */
export interface CosignatureSigner {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** signMessage returns the raw 64-byte Ed25519 signature of a formatted cosignature message. */
  signMessage(message: Uint8Array): Uint8Array;
}

/** TimestampedSignature is a decoded cosignature/v1 signature: POSIX seconds and the Ed25519 bytes. */
export interface TimestampedSignature {
  readonly timestamp: bigint;
  readonly signature: Uint8Array;
}

/**
 * formatCosignatureMessage builds the signed message "cosignature/v1\ntime <t>\n" + checkpoint text
 * (the whole note text, extension lines included, no signature lines).
 */
export function formatCosignatureMessage(checkpointText: string | Uint8Array, timestamp: bigint): Uint8Array {
  const head = encodeUtf8(`${COSIGNATURE_V1_HEADER}time ${timestamp}\n`);
  const body = typeof checkpointText === 'string' ? encodeUtf8(checkpointText) : checkpointText;
  const msg = new Uint8Array(head.length + body.length);
  msg.set(head);
  msg.set(body, head.length);
  return msg;
}

/** newCosignatureVerifier makes the cosignature/v1 verifier of (name, 32-byte Ed25519 public key). */
export function newCosignatureVerifier(name: string, publicKey: Uint8Array): CosignatureVerifier {
  if (!isValidKeyName(name)) throw new TlogError('malformed_key', `invalid cosigner name ${JSON.stringify(name)}`);
  const key = ed25519PublicKeyFromBytes(publicKey);
  return {
    name,
    keyId: computeKeyId(name, NOTE_KEY_TYPE_COSIGNATURE_V1, publicKey),
    type: NOTE_KEY_TYPE_COSIGNATURE_V1,
    publicKey,
    verify: (msg, sig) => verifyTimestamped(key, msg, sig),
  };
}

/**
 * readTimestamp reads the u64 timestamp that starts the `size` bytes after a cosignature's key ID
 * (attacker-controlled); undefined for another length or a timestamp ≥ 2^63. Never throws, so
 * NoteVerifier.verify can use it as well as parseTimestampedSignature.
 */
function readTimestamp(sig: Uint8Array, size: number): bigint | undefined {
  if (sig.length !== size) return undefined;
  const timestamp = new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0);
  return timestamp > MAX_COSIGNATURE_TIMESTAMP ? undefined : timestamp;
}

function verifyTimestamped(key: KeyObject, msg: Uint8Array, sig: Uint8Array): boolean {
  const timestamp = readTimestamp(sig, COSIGNATURE_V1_SIGNATURE_BYTES);
  return timestamp !== undefined && verifyEd25519(key, formatCosignatureMessage(msg, timestamp), sig.subarray(8));
}

/**
 * formatSubtreeMessage builds the subtree/v1 message an ML-DSA-44 cosigner signs (c2sp.org/tlog-
 * cosignature): for a checkpoint, start is 0 and end its size. Names and origins are 1–255 bytes.
 */
export function formatSubtreeMessage(m: { cosigner: string; timestamp: bigint; origin: string; start: bigint; end: bigint; hash: Uint8Array }): Uint8Array {
  const name = encodeUtf8(m.cosigner);
  const origin = encodeUtf8(m.origin);
  if (name.length < 1 || name.length > 255 || origin.length < 1 || origin.length > 255 || m.hash.length !== 32) {
    throw new TlogError('invalid_argument', 'subtree/v1: names and origins are 1 to 255 bytes, hashes 32');
  }
  const out = new Uint8Array(SUBTREE_V1_LABEL.length + 1 + name.length + 8 + 1 + origin.length + 8 + 8 + 32);
  const view = new DataView(out.buffer);
  let at = 0;
  const put = (bytes: Uint8Array) => {
    out.set(bytes, at);
    at += bytes.length;
  };
  const u64 = (v: bigint) => {
    view.setBigUint64(at, v);
    at += 8;
  };
  put(SUBTREE_V1_LABEL);
  out[at++] = name.length;
  put(name);
  u64(m.timestamp);
  out[at++] = origin.length;
  put(origin);
  u64(m.start);
  u64(m.end);
  put(m.hash);
  return out;
}

/** newSubtreeCosignatureVerifier makes the subtree/v1 verifier of (name, 1,312-byte ML-DSA-44 public key). */
export function newSubtreeCosignatureVerifier(name: string, publicKey: Uint8Array): CosignatureVerifier {
  if (!isValidKeyName(name)) throw new TlogError('malformed_key', `invalid cosigner name ${JSON.stringify(name)}`);
  if (publicKey.length !== MLDSA44_PUBLIC_KEY_BYTES) throw new TlogError('malformed_key', `ML-DSA-44 public keys are ${MLDSA44_PUBLIC_KEY_BYTES} bytes`);
  return {
    name,
    keyId: computeKeyId(name, NOTE_KEY_TYPE_MLDSA44, publicKey),
    type: NOTE_KEY_TYPE_MLDSA44,
    publicKey,
    verify: (msg, sig) => verifySubtreeCosignature(name, publicKey, msg, sig),
  };
}

function verifySubtreeCosignature(name: string, publicKey: Uint8Array, checkpointText: Uint8Array, sig: Uint8Array): boolean {
  // Never throws (NoteVerifier.verify): every input here is attacker-controlled but the key.
  const timestamp = readTimestamp(sig, SUBTREE_V1_SIGNATURE_BYTES);
  if (timestamp === undefined) return false;
  let message: Uint8Array;
  try {
    const cp = parseCheckpoint(decodeUtf8(checkpointText));
    message = formatSubtreeMessage({ cosigner: name, timestamp, origin: cp.origin, start: 0n, end: cp.size, hash: cp.root });
  } catch {
    return false;
  }
  try {
    return ml_dsa44.verify(sig.subarray(8), message, publicKey);
  } catch {
    return false;
  }
}

/**
 * newPolicyCosignerVerifier makes the verifier of a witness key as policies and configs write it:
 * Ed25519 as type 0x04 or 0x01 (as the ArmoredWitness keys are; lines match on the 0x04 key ID,
 * transparency-dev/formats NewVerifierForCosignatureV1), or ML-DSA-44 as type 0x06. Throws
 * 'malformed_key' or 'unsupported_key_type'.
 */
export function newPolicyCosignerVerifier(key: VerifierKeyParts): CosignatureVerifier {
  switch (key.type) {
    case NOTE_KEY_TYPE_COSIGNATURE_V1:
    case NOTE_KEY_TYPE_ED25519:
      return newCosignatureVerifier(key.name, key.publicKey);
    case NOTE_KEY_TYPE_MLDSA44:
      return newSubtreeCosignatureVerifier(key.name, key.publicKey);
    default:
      throw new TlogError('unsupported_key_type', 'cosigner keys must be Ed25519 vkeys of type 0x04 or 0x01, or ML-DSA-44 of type 0x06');
  }
}

/** parseCosignerKey parses a cosigner's vkey (see newPolicyCosignerVerifier). */
export function parseCosignerKey(vkey: string): CosignatureVerifier {
  return newPolicyCosignerVerifier(decodeVerifierKey(vkey));
}

/** newCosignatureSigner makes a cosigner from its name and 32-byte Ed25519 seed. */
export function newCosignatureSigner(name: string, seed: Uint8Array): CosignatureSigner {
  if (!isValidKeyName(name)) throw new TlogError('invalid_argument', `invalid cosigner name ${JSON.stringify(name)}`);
  const key = ed25519PrivateKeyFromSeed(seed);
  const publicKey = ed25519PublicKeyOfSeed(seed);
  return {
    name,
    keyId: computeKeyId(name, NOTE_KEY_TYPE_COSIGNATURE_V1, publicKey),
    publicKey,
    signMessage: (message) => signEd25519(key, message),
  };
}

/**
 * signCosignature cosigns a checkpoint at `timestamp` (POSIX seconds, 0 ≤ t ≤ 2^63 - 1) and returns
 * the signature line `— <name> base64(keyID || u64 timestamp || sig)\n`. The text must be a valid
 * checkpoint ('malformed_checkpoint'); the caller has already decided it is consistent.
 */
export function signCosignature(signer: CosignatureSigner, checkpointText: string, timestamp: bigint): string {
  if (typeof timestamp !== 'bigint' || timestamp < 0n || timestamp > MAX_COSIGNATURE_TIMESTAMP) {
    throw new TlogError('invalid_argument', 'cosignature timestamp must be a bigint in [0, 2^63 - 1]');
  }
  parseCheckpoint(checkpointText);
  const sig = signer.signMessage(formatCosignatureMessage(checkpointText, timestamp));
  const blob = new Uint8Array(COSIGNATURE_V1_SIGNATURE_BYTES);
  new DataView(blob.buffer).setBigUint64(0, timestamp);
  blob.set(sig, 8);
  return formatSignatureLine({ name: signer.name, keyId: signer.keyId, signature: blob });
}

/**
 * parseTimestampedSignature decodes the bytes after a cosignature's key ID into the timestamp and
 * signature: 72 for cosignature/v1 (the default), SUBTREE_V1_SIGNATURE_BYTES for subtree/v1.
 * Throws 'malformed_cosignature' for any other length or a timestamp ≥ 2^63.
 */
export function parseTimestampedSignature(sig: Uint8Array, size = COSIGNATURE_V1_SIGNATURE_BYTES): TimestampedSignature {
  // sig is attacker-controlled.
  if (sig.length !== size) {
    throw new TlogError('malformed_cosignature', `cosignature is ${sig.length} bytes after the key ID, not ${size}`);
  }
  const timestamp = readTimestamp(sig, size);
  if (timestamp === undefined) throw new TlogError('malformed_cosignature', 'cosignature timestamp exceeds 2^63 - 1');
  return { timestamp, signature: sig.subarray(8) };
}

/**
 * verifyCosignature checks one parsed signature of a checkpoint against a cosigner and returns its
 * timestamp. Throws 'unverified_note' if the signature is not this cosigner's (name or key ID
 * differ: callers ignore it), 'malformed_cosignature' for a bad layout, 'invalid_signature' if it
 * does not verify.
 */
export function verifyCosignature(verifier: CosignatureVerifier, checkpointText: string, sig: NoteSignature): bigint {
  // sig and checkpointText are attacker-controlled.
  if (sig.name !== verifier.name || sig.keyId !== verifier.keyId) {
    throw new TlogError('unverified_note', `signature is not from cosigner ${verifier.name}+${formatKeyId(verifier.keyId)}`);
  }
  const { timestamp } = parseTimestampedSignature(sig.signature, verifier.type === NOTE_KEY_TYPE_MLDSA44 ? SUBTREE_V1_SIGNATURE_BYTES : COSIGNATURE_V1_SIGNATURE_BYTES);
  if (!verifier.verify(encodeUtf8(checkpointText), sig.signature)) {
    throw new TlogError('invalid_signature', `invalid cosignature for key ${sig.name}+${formatKeyId(sig.keyId)}`);
  }
  return timestamp;
}

/**
 * verifyCosignatureLine is verifyCosignature for one signature line (with or without its final
 * newline); a malformed line is 'malformed_cosignature'.
 */
export function verifyCosignatureLine(verifier: CosignatureVerifier, checkpointText: string, line: string): bigint {
  // line is attacker-controlled.
  let sig: NoteSignature;
  try {
    sig = parseSignatureLine(line.endsWith('\n') ? line.slice(0, -1) : line);
  } catch (err) {
    throw new TlogError('malformed_cosignature', 'cosignature line is malformed', { cause: err });
  }
  return verifyCosignature(verifier, checkpointText, sig);
}
