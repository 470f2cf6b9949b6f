// Ed25519 for notes (signed-note type 0x01, and the primitive under cosignature/v1). node:crypto
// (OpenSSL) is the default: it is deterministic like Go's crypto/ed25519 and several times faster
// than pure JS. The @noble/curves functions are named alternatives that bench/ compares.
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { TlogError } from './errors.ts';
import { isValidKeyName, type NoteSigner } from './note.ts';
import { ED25519_PUBLIC_KEY_BYTES, NOTE_KEY_TYPE_ED25519, computeKeyId, type VerifierKeyParts } from './note-key-id.ts';

/** ED25519_SEED_BYTES is the size of an Ed25519 private key seed (RFC 8032). */
export const ED25519_SEED_BYTES = 32;
/** ED25519_SIGNATURE_BYTES is the size of an Ed25519 signature (RFC 8032). */
export const ED25519_SIGNATURE_BYTES = 64;

// DER prefixes that wrap a raw key: PKCS#8 PrivateKeyInfo (RFC 8410 §7) for a 32-byte seed, and
// SubjectPublicKeyInfo (RFC 8410 §4) for a 32-byte public key; OID 1.3.101.112 is Ed25519.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * VerifierKey is a vkey turned into a working NoteVerifier: the decoded parts plus `verify`, which
 * never throws. Made by parseVerifierKey (note-key.ts) or the new*Verifier functions.
 */
export interface VerifierKey extends VerifierKeyParts {
  verify(msg: Uint8Array, sig: Uint8Array): boolean;
  verifyAsync?(msg: Uint8Array, sig: Uint8Array): Promise<boolean>;
}

/** Ed25519Signer is a NoteSigner (type 0x01) that also exposes its public key. */
export interface Ed25519Signer extends NoteSigner {
  readonly publicKey: Uint8Array;
}

/** ed25519PrivateKeyFromSeed imports a 32-byte seed as a node:crypto private key. */
export function ed25519PrivateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== ED25519_SEED_BYTES) throw new TlogError('invalid_argument', 'Ed25519 seed must be 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** ed25519PublicKeyFromBytes imports a 32-byte public key as a node:crypto public key. */
export function ed25519PublicKeyFromBytes(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new TlogError('malformed_key', 'Ed25519 public key must be 32 bytes');
  }
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch (err) {
    throw new TlogError('malformed_key', 'invalid Ed25519 public key', { cause: err });
  }
}

/** ed25519PublicKeyOfSeed derives the 32-byte public key of a seed. */
export function ed25519PublicKeyOfSeed(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(ed25519PrivateKeyFromSeed(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.length));
}

/** generateEd25519Seed returns 32 random bytes from the system CSPRNG. */
export function generateEd25519Seed(): Uint8Array {
  return new Uint8Array(randomBytes(ED25519_SEED_BYTES));
}

/** signEd25519 signs msg with node:crypto (deterministic, RFC 8032). */
export function signEd25519(privateKey: KeyObject, msg: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, msg, privateKey));
}

/** verifyEd25519 checks an Ed25519 signature with node:crypto; false for any malformed input. */
export function verifyEd25519(publicKey: KeyObject, msg: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return verify(null, msg, publicKey, sig);
  } catch {
    // OpenSSL rejects some malformed inputs by throwing rather than returning false; both mean invalid.
    return false;
  }
}

/**
 * verifyEd25519Async is verifyEd25519 on libuv's thread pool (node:crypto's callback form): the
 * same answer, without holding the event loop for the ~0.1 ms an OpenSSL Ed25519 verify takes.
 */
export function verifyEd25519Async(publicKey: KeyObject, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  if (sig.length !== ED25519_SIGNATURE_BYTES) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify(null, msg, publicKey, sig, (err, ok) => resolve(err === null && ok));
    } catch {
      resolve(false);
    }
  });
}

/** signEd25519Noble signs msg with @noble/curves (the pure-JS alternative to signEd25519). */
export function signEd25519Noble(seed: Uint8Array, msg: Uint8Array): Uint8Array {
  return ed25519.sign(msg, seed);
}

/**
 * verifyEd25519Noble checks a signature with @noble/curves in strict RFC 8032 mode (zip215: false,
 * closer to OpenSSL and Go than the ZIP-215 default); the pure-JS alternative to verifyEd25519.
 */
export function verifyEd25519Noble(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== ED25519_SIGNATURE_BYTES || publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return false;
  try {
    return ed25519.verify(sig, msg, publicKey, { zip215: false });
  } catch {
    // noble throws on undecodable points; that is an invalid signature, not an error.
    return false;
  }
}

/** newEd25519Verifier makes the type-0x01 verifier of (name, 32-byte public key). */
export function newEd25519Verifier(name: string, publicKey: Uint8Array): VerifierKey {
  const key = ed25519PublicKeyFromBytes(publicKey);
  return {
    name,
    keyId: computeKeyId(name, NOTE_KEY_TYPE_ED25519, publicKey),
    type: NOTE_KEY_TYPE_ED25519,
    publicKey,
    verify: (msg, sig) => verifyEd25519(key, msg, sig),
    verifyAsync: (msg, sig) => verifyEd25519Async(key, msg, sig),
  };
}

/** newEd25519Signer makes the type-0x01 note signer of (name, 32-byte seed). */
export function newEd25519Signer(name: string, seed: Uint8Array): Ed25519Signer {
  if (!isValidKeyName(name)) throw new TlogError('invalid_argument', `invalid key name ${JSON.stringify(name)}`);
  const key = ed25519PrivateKeyFromSeed(seed);
  const publicKey = ed25519PublicKeyOfSeed(seed);
  return {
    name,
    keyId: computeKeyId(name, NOTE_KEY_TYPE_ED25519, publicKey),
    publicKey,
    sign: (msg) => signEd25519(key, msg),
  };
}
