// Note key types, key IDs and the vkey text encoding (c2sp.org/signed-note, tlog-cosignature,
// static-ct-api). Pure decoding and hashing: the signature algorithms live in note-ed25519.ts,
// note-ecdsa.ts and cosignature.ts, and note-key.ts turns a vkey into a working verifier.
import { decodeBase64, encodeBase64 } from './base64.ts';
import { TlogError } from './errors.ts';
import { encodeUtf8, formatKeyId, isValidKeyName } from './note.ts';
import { sha256 } from './sha256.ts';

/** NOTE_KEY_TYPE_ED25519 (0x01): Ed25519 over the note text; key = 32-byte public key. */
export const NOTE_KEY_TYPE_ED25519 = 0x01;
/** NOTE_KEY_TYPE_ECDSA (0x02): ECDSA over SHA-256 of the text (transparency-dev/witness); key = DER SPKI. */
export const NOTE_KEY_TYPE_ECDSA = 0x02;
/** NOTE_KEY_TYPE_COSIGNATURE_V1 (0x04): timestamped Ed25519 cosignature (tlog-cosignature); key = 32 bytes. */
export const NOTE_KEY_TYPE_COSIGNATURE_V1 = 0x04;
/** NOTE_KEY_TYPE_RFC6962 (0x05): RFC 6962 TreeHeadSignature (static-ct-api); key = DER SPKI of the CT key. */
export const NOTE_KEY_TYPE_RFC6962 = 0x05;
/** NOTE_KEY_TYPE_MLDSA44 (0x06): ML-DSA-44 subtree/v1 cosignature; key = 1312 bytes (tlog/cosignature.ts). */
export const NOTE_KEY_TYPE_MLDSA44 = 0x06;

/** ED25519_PUBLIC_KEY_BYTES is the size of an Ed25519 public key (RFC 8032). */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** MLDSA44_PUBLIC_KEY_BYTES is the size of an ML-DSA-44 public key (FIPS 204). */
export const MLDSA44_PUBLIC_KEY_BYTES = 1312;
/** MAX_SPKI_BYTES bounds DER SubjectPublicKeyInfo keys (RSA-4096 SPKI is 550 bytes). */
export const MAX_SPKI_BYTES = 2048;

/**
 * VerifierKeyParts is a decoded vkey `<name>+<hex8 key ID>+<base64(type || publicKey)>`, with the
 * key ID already checked against the key material.
 */
export interface VerifierKeyParts {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  readonly publicKey: Uint8Array;
}

/**
 * computeKeyId is the signed-note recommended key ID: SHA-256(name || 0x0A || type || keyMaterial)[:4]
 * as a big-endian uint32.
 */
export function computeKeyId(name: string, type: number, keyMaterial: Uint8Array): number {
  const h = sha256(encodeUtf8(name), new Uint8Array([0x0a, type]), keyMaterial);
  return new DataView(h.buffer, h.byteOffset, 4).getUint32(0);
}

/**
 * keyIdForKey computes the key ID a key of the given type carries: the name formula for 0x01, 0x04
 * and 0x06; SHA-256(DER SPKI)[:4] for 0x02 (no name); the name formula over the 32-byte RFC 6962
 * LogID = SHA-256(DER SPKI) for 0x05. Throws 'unsupported_key_type' for other types.
 */
export function keyIdForKey(name: string, type: number, publicKey: Uint8Array): number {
  switch (type) {
    case NOTE_KEY_TYPE_ED25519:
    case NOTE_KEY_TYPE_COSIGNATURE_V1:
    case NOTE_KEY_TYPE_MLDSA44:
      return computeKeyId(name, type, publicKey);
    case NOTE_KEY_TYPE_ECDSA: {
      const h = sha256(publicKey);
      return new DataView(h.buffer, h.byteOffset, 4).getUint32(0);
    }
    case NOTE_KEY_TYPE_RFC6962:
      return computeKeyId(name, type, sha256(publicKey));
    default:
      throw new TlogError('unsupported_key_type', `unsupported note key type 0x${hexByte(type)}`);
  }
}

/**
 * decodeVerifierKey parses a vkey strictly: a valid key name, exactly 8 lowercase hex digits,
 * strict base64 of a known type byte and key material of that type's size, and a key ID that
 * matches the key. It does not check that SPKI keys are usable (note-key.ts does). Throws
 * TlogError 'malformed_key' or, for an unknown type byte, 'unsupported_key_type'.
 */
export function decodeVerifierKey(vkey: string): VerifierKeyParts {
  // vkey comes from configuration or log lists: validate everything.
  const plus1 = vkey.indexOf('+');
  const plus2 = plus1 < 0 ? -1 : vkey.indexOf('+', plus1 + 1);
  if (plus2 < 0) throw new TlogError('malformed_key', 'verifier key must have the form name+hex8+base64');
  const name = vkey.slice(0, plus1);
  const hex8 = vkey.slice(plus1 + 1, plus2);
  if (!isValidKeyName(name)) throw new TlogError('malformed_key', 'verifier key has an invalid name');
  if (!/^[0-9a-f]{8}$/.test(hex8)) throw new TlogError('malformed_key', 'verifier key ID must be 8 lowercase hex digits');
  let raw: Uint8Array;
  try {
    raw = decodeBase64(vkey.slice(plus2 + 1), 'verifier key');
  } catch (err) {
    throw new TlogError('malformed_key', 'verifier key material is not valid base64', { cause: err });
  }
  if (raw.length < 2) throw new TlogError('malformed_key', 'verifier key material is too short');
  const type = raw[0] as number;
  const publicKey = raw.subarray(1);
  checkKeyLength(type, publicKey);
  const keyId = keyIdForKey(name, type, publicKey);
  if (formatKeyId(keyId) !== hex8) {
    throw new TlogError('malformed_key', `verifier key ID ${hex8} does not match the key (want ${formatKeyId(keyId)})`);
  }
  return { name, keyId, type, publicKey };
}

/** encodeVerifierKey renders `<name>+<hex8>+<base64(type || publicKey)>`, computing the key ID. */
export function encodeVerifierKey(key: { name: string; type: number; publicKey: Uint8Array }): string {
  if (!isValidKeyName(key.name)) throw new TlogError('invalid_argument', `invalid key name ${JSON.stringify(key.name)}`);
  try {
    checkKeyLength(key.type, key.publicKey);
  } catch (err) {
    throw new TlogError('invalid_argument', 'public key does not fit its key type', { cause: err });
  }
  const raw = new Uint8Array(1 + key.publicKey.length);
  raw[0] = key.type;
  raw.set(key.publicKey, 1);
  return `${key.name}+${formatKeyId(keyIdForKey(key.name, key.type, key.publicKey))}+${encodeBase64(raw)}`;
}

function checkKeyLength(type: number, publicKey: Uint8Array): void {
  let ok: boolean;
  switch (type) {
    case NOTE_KEY_TYPE_ED25519:
    case NOTE_KEY_TYPE_COSIGNATURE_V1:
      ok = publicKey.length === ED25519_PUBLIC_KEY_BYTES;
      break;
    case NOTE_KEY_TYPE_MLDSA44:
      ok = publicKey.length === MLDSA44_PUBLIC_KEY_BYTES;
      break;
    case NOTE_KEY_TYPE_ECDSA:
    case NOTE_KEY_TYPE_RFC6962:
      ok = publicKey.length > 0 && publicKey.length <= MAX_SPKI_BYTES;
      break;
    default:
      throw new TlogError('unsupported_key_type', `unsupported note key type 0x${hexByte(type)}`);
  }
  if (!ok) throw new TlogError('malformed_key', `wrong public key length ${publicKey.length} for key type 0x${hexByte(type)}`);
}

function hexByte(b: number): string {
  return b.toString(16).padStart(2, '0');
}
