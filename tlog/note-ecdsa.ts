// Verifiers for the two SPKI-keyed note signature types: 0x02 ECDSA (transparency-dev/witness,
// used by the Pixel binary transparency log and Rekor v1) and 0x05 RFC 6962 TreeHeadSignature
// (c2sp.org/static-ct-api checkpoints). Verification only: Vigil signs with Ed25519.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { parseCheckpoint } from './checkpoint.ts';
import { TlogError } from './errors.ts';
import { HASH_SIZE } from './merkle.ts';
import { decodeUtf8 } from './note.ts';
import { NOTE_KEY_TYPE_ECDSA, NOTE_KEY_TYPE_RFC6962, keyIdForKey } from './note-key-id.ts';
import type { VerifierKey } from './note-ed25519.ts';

// signed-note: "The ECDSA curve MUST be one of NIST P-256, NIST P-384, or NIST P-521". The digest is
// SHA-256 for every curve: transparency-dev/formats hashes with sha256.Sum256 regardless of curve.
const ECDSA_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** TLS_HASH_SHA256 is RFC 5246 HashAlgorithm sha256(4), the only hash RFC 6962 allows. */
export const TLS_HASH_SHA256 = 4;
/** TLS_SIGNATURE_RSA is RFC 5246 SignatureAlgorithm rsa(1) (PKCS#1 v1.5). */
export const TLS_SIGNATURE_RSA = 1;
/** TLS_SIGNATURE_ECDSA is RFC 5246 SignatureAlgorithm ecdsa(3). */
export const TLS_SIGNATURE_ECDSA = 3;

/**
 * Rfc6962NoteSignature is a decoded static-ct-api RFC6962NoteSignature: the STH timestamp
 * (milliseconds) and the TLS digitally-signed TreeHeadSignature.
 */
export interface Rfc6962NoteSignature {
  readonly timestampMs: bigint;
  readonly hashAlgorithm: number;
  readonly signatureAlgorithm: number;
  readonly signature: Uint8Array;
}

/**
 * importSpki imports a DER SubjectPublicKeyInfo, requiring the canonical encoding (re-exporting it
 * must give the same bytes, as key IDs hash those bytes). Throws TlogError 'malformed_key'.
 */
export function importSpki(spki: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (err) {
    throw new TlogError('malformed_key', 'public key is not a valid DER SubjectPublicKeyInfo', { cause: err });
  }
  if (!Buffer.from(spki).equals(key.export({ format: 'der', type: 'spki' }))) {
    throw new TlogError('malformed_key', 'public key is not in canonical DER SubjectPublicKeyInfo form');
  }
  return key;
}

/** newEcdsaVerifier makes the type-0x02 verifier: ECDSA (P-256/384/521) over SHA-256 of the text. */
export function newEcdsaVerifier(name: string, spki: Uint8Array): VerifierKey {
  const key = importSpki(spki);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve === undefined || !ECDSA_CURVES.has(curve)) {
    throw new TlogError('malformed_key', 'type 0x02 keys must be ECDSA on P-256, P-384 or P-521');
  }
  return {
    name,
    keyId: keyIdForKey(name, NOTE_KEY_TYPE_ECDSA, spki),
    type: NOTE_KEY_TYPE_ECDSA,
    publicKey: spki,
    verify: (msg, sig) => verifyQuietly('sha256', msg, key, sig),
  };
}

/**
 * newRfc6962Verifier makes the type-0x05 verifier of a static-ct-api log: `verify(text, sig)`
 * parses the checkpoint text (no extension lines; origin must equal the key name, as the spec
 * requires of the signature line) and checks the RFC 6962 TreeHeadSignature over
 * version(0) || tree_hash(1) || timestamp || tree_size || root. The key is ECDSA P-256 or RSA.
 */
export function newRfc6962Verifier(name: string, spki: Uint8Array): VerifierKey {
  const key = importSpki(spki);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  let sigAlg: number;
  if (key.asymmetricKeyType === 'ec' && curve === 'prime256v1') sigAlg = TLS_SIGNATURE_ECDSA;
  else if (key.asymmetricKeyType === 'rsa') sigAlg = TLS_SIGNATURE_RSA;
  else throw new TlogError('malformed_key', 'type 0x05 keys must be ECDSA P-256 or RSA (RFC 6962 §2.1.4)');
  return {
    name,
    keyId: keyIdForKey(name, NOTE_KEY_TYPE_RFC6962, spki),
    type: NOTE_KEY_TYPE_RFC6962,
    publicKey: spki,
    verify: (msg, sig) => verifyRfc6962(name, key, sigAlg, msg, sig),
  };
}

function verifyRfc6962(name: string, key: KeyObject, sigAlg: number, msg: Uint8Array, sig: Uint8Array): boolean {
  let checkpoint;
  let parsed: Rfc6962NoteSignature;
  try {
    checkpoint = parseCheckpoint(decodeUtf8(msg));
    parsed = parseRfc6962NoteSignature(sig);
  } catch {
    // A note text that is not a checkpoint, or a malformed blob, is simply not a valid signature.
    return false;
  }
  if (checkpoint.extensions.length > 0 || checkpoint.origin !== name) return false;
  if (parsed.hashAlgorithm !== TLS_HASH_SHA256 || parsed.signatureAlgorithm !== sigAlg) return false;
  const data = new Uint8Array(2 + 8 + 8 + HASH_SIZE);
  const view = new DataView(data.buffer);
  data[0] = 0; // Version v1(0)
  data[1] = 1; // SignatureType tree_hash(1)
  view.setBigUint64(2, parsed.timestampMs);
  view.setBigUint64(10, checkpoint.size);
  data.set(checkpoint.root, 18);
  return verifyQuietly('sha256', data, key, parsed.signature);
}

/**
 * parseRfc6962NoteSignature decodes a type-0x05 signature (after the key ID): uint64 timestamp_ms ||
 * hash alg (1) || sig alg (1) || uint16 length || signature, with nothing after. Throws TlogError
 * 'malformed_signature'. Use it to read the STH timestamp of a verified signature.
 */
export function parseRfc6962NoteSignature(sig: Uint8Array): Rfc6962NoteSignature {
  // sig is attacker-controlled.
  if (sig.length < 12) throw new TlogError('malformed_signature', 'RFC 6962 note signature is too short');
  const view = new DataView(sig.buffer, sig.byteOffset, sig.byteLength);
  const length = view.getUint16(10);
  if (sig.length !== 12 + length) {
    throw new TlogError('malformed_signature', 'RFC 6962 note signature length does not match its contents');
  }
  return {
    timestampMs: view.getBigUint64(0),
    hashAlgorithm: sig[8] as number,
    signatureAlgorithm: sig[9] as number,
    signature: sig.subarray(12),
  };
}

function verifyQuietly(alg: string, data: Uint8Array, key: KeyObject, sig: Uint8Array): boolean {
  try {
    return verify(alg, data, key, sig);
  } catch {
    // OpenSSL throws on some malformed DER signatures; that is an invalid signature, not an error.
    return false;
  }
}
