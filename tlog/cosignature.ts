// C2SP tlog-cosignature, cosignature/v1 (note signature type 0x04): a witness's timestamped
// Ed25519 signature over "cosignature/v1\ntime <t>\n" + the checkpoint text. The ML-DSA-44
// subtree/v1 form (type 0x06) is not implemented: Node 20 has no ML-DSA.
import { type KeyObject } from 'node:crypto';
import { parseCheckpoint } from './checkpoint.ts';
import { TlogError } from './errors.ts';
import { encodeUtf8, formatKeyId, formatSignatureLine, isValidKeyName, parseSignatureLine, type NoteSignature } from './note.ts';
import {
  ED25519_SIGNATURE_BYTES,
  ed25519PrivateKeyFromSeed,
  ed25519PublicKeyFromBytes,
  ed25519PublicKeyOfSeed,
  signEd25519,
  verifyEd25519,
  type VerifierKey,
} from './note-ed25519.ts';
import { NOTE_KEY_TYPE_COSIGNATURE_V1, NOTE_KEY_TYPE_ED25519, computeKeyId, decodeVerifierKey } from './note-key-id.ts';

/** COSIGNATURE_V1_HEADER is the domain-separation line that starts every cosignature/v1 message. */
export const COSIGNATURE_V1_HEADER = 'cosignature/v1\n';
/** MAX_COSIGNATURE_TIMESTAMP is the largest allowed timestamp, 2^63 - 1 (tlog-cosignature). */
export const MAX_COSIGNATURE_TIMESTAMP = 2n ** 63n - 1n;
/** COSIGNATURE_V1_SIGNATURE_BYTES is the size after the key ID: u64 timestamp || Ed25519 signature. */
export const COSIGNATURE_V1_SIGNATURE_BYTES = 8 + ED25519_SIGNATURE_BYTES;

/**
 * CosignatureVerifier verifies cosignature/v1 lines of one cosigner; its type is always 0x04 and its
 * key ID the 0x04 key ID. As a NoteVerifier, `verify(checkpointText, sig)` takes the 72 bytes after
 * the key ID, so verifyNote and openCheckpoint accept it beside log keys.
 */
export interface CosignatureVerifier extends VerifierKey {
  readonly type: typeof NOTE_KEY_TYPE_COSIGNATURE_V1;
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

function verifyTimestamped(key: KeyObject, msg: Uint8Array, sig: Uint8Array): boolean {
  // NoteVerifier.verify never throws: read the fields here rather than via parseTimestampedSignature.
  if (sig.length !== COSIGNATURE_V1_SIGNATURE_BYTES) return false;
  const timestamp = new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0);
  if (timestamp > MAX_COSIGNATURE_TIMESTAMP) return false;
  return verifyEd25519(key, formatCosignatureMessage(msg, timestamp), sig.subarray(8));
}

/**
 * parseCosignerKey parses a cosigner's vkey published as type 0x04 or as type 0x01 (as the
 * ArmoredWitness keys are) and returns its cosignature/v1 verifier, which matches lines on the 0x04
 * key ID (transparency-dev/formats NewVerifierForCosignatureV1). Throws 'malformed_key' or
 * 'unsupported_key_type'.
 */
export function parseCosignerKey(vkey: string): CosignatureVerifier {
  const parts = decodeVerifierKey(vkey);
  if (parts.type !== NOTE_KEY_TYPE_COSIGNATURE_V1 && parts.type !== NOTE_KEY_TYPE_ED25519) {
    throw new TlogError('unsupported_key_type', 'cosigner keys must be Ed25519 vkeys of type 0x04 or 0x01');
  }
  return newCosignatureVerifier(parts.name, parts.publicKey);
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
 * parseTimestampedSignature decodes the 72 bytes after a cosignature's key ID into the timestamp and
 * Ed25519 signature. Throws 'malformed_cosignature' for any other length or a timestamp ≥ 2^63.
 */
export function parseTimestampedSignature(sig: Uint8Array): TimestampedSignature {
  // sig is attacker-controlled.
  if (sig.length !== COSIGNATURE_V1_SIGNATURE_BYTES) {
    throw new TlogError('malformed_cosignature', `cosignature is ${sig.length} bytes after the key ID, not 72`);
  }
  const timestamp = new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0);
  if (timestamp > MAX_COSIGNATURE_TIMESTAMP) {
    throw new TlogError('malformed_cosignature', 'cosignature timestamp exceeds 2^63 - 1');
  }
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
  const { timestamp } = parseTimestampedSignature(sig.signature);
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
