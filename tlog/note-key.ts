// Note keys as text: verifier keys (vkeys, c2sp.org/signed-note) turned into working verifiers, and
// Go's private signer key format (golang.org/x/mod/sumdb/note, not part of C2SP).
import { decodeBase64, encodeBase64 } from './base64.ts';
import { newCosignatureVerifier, newSubtreeCosignatureVerifier } from './cosignature.ts';
import { TlogError } from './errors.ts';
import { formatKeyId, isValidKeyName } from './note.ts';
import {
  ED25519_SEED_BYTES,
  ed25519PublicKeyOfSeed,
  generateEd25519Seed,
  newEd25519Signer,
  newEd25519Verifier,
  type Ed25519Signer,
  type VerifierKey,
} from './note-ed25519.ts';
import { newEcdsaVerifier, newRfc6962Verifier } from './note-ecdsa.ts';
import {
  NOTE_KEY_TYPE_COSIGNATURE_V1,
  NOTE_KEY_TYPE_ECDSA,
  NOTE_KEY_TYPE_ED25519,
  NOTE_KEY_TYPE_MLDSA44,
  NOTE_KEY_TYPE_RFC6962,
  computeKeyId,
  decodeVerifierKey,
  encodeVerifierKey,
  type VerifierKeyParts,
} from './note-key-id.ts';

/** SIGNER_KEY_PREFIX starts Go's private note keys: `PRIVATE+KEY+<name>+<hex8>+<base64>`. */
export const SIGNER_KEY_PREFIX = 'PRIVATE+KEY+';

/**
 * SignerKey is a decoded Go signer key: name, the type-0x01 key ID, the 32-byte Ed25519 seed and
 * the derived public key. The seed is secret: never log a SignerKey.
 */
export interface SignerKey {
  readonly name: string;
  readonly keyId: number;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * parseVerifierKey parses a vkey `<name>+<hex8>+<base64(type || key)>` into a verifier: 0x01
 * Ed25519, 0x02 ECDSA (key ID = SHA-256(SPKI)[:4]), 0x04 cosignature/v1, 0x05 RFC 6962 (static-ct-api;
 * key = DER SPKI, as transparency-dev/formats encodes it), 0x06 ML-DSA-44 subtree/v1 cosignatures.
 * The key ID must match. Throws TlogError 'malformed_key', or 'unsupported_key_type' for unknown
 * types. For witness keys published as type 0x01, use parseCosignerKey (cosignature.ts).
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  return newVerifierFromParts(decodeVerifierKey(vkey));
}

/** newVerifierFromParts makes the verifier of decoded vkey parts (see parseVerifierKey). */
export function newVerifierFromParts(parts: VerifierKeyParts): VerifierKey {
  switch (parts.type) {
    case NOTE_KEY_TYPE_ED25519:
      return newEd25519Verifier(parts.name, parts.publicKey);
    case NOTE_KEY_TYPE_ECDSA:
      return newEcdsaVerifier(parts.name, parts.publicKey);
    case NOTE_KEY_TYPE_COSIGNATURE_V1:
      return newCosignatureVerifier(parts.name, parts.publicKey);
    case NOTE_KEY_TYPE_RFC6962:
      return newRfc6962Verifier(parts.name, parts.publicKey);
    case NOTE_KEY_TYPE_MLDSA44:
      return newSubtreeCosignatureVerifier(parts.name, parts.publicKey);
    default:
      throw new TlogError('unsupported_key_type', `unsupported note key type 0x${parts.type.toString(16)}`);
  }
}

/**
 * formatVerifierKey renders the vkey of (name, type, public key), computing the key ID for the type.
 * Throws 'invalid_argument' for a bad name or a key of the wrong size, 'unsupported_key_type'.
 */
export function formatVerifierKey(key: { name: string; type: number; publicKey: Uint8Array }): string {
  return encodeVerifierKey(key);
}

/**
 * parseSignerKey parses Go's `PRIVATE+KEY+<name>+<hex8>+base64(0x01 || seed)`, splitting on the
 * first four '+' only (base64 may contain '+'). The key ID must match the derived public key.
 * Throws TlogError 'malformed_key' or 'unsupported_key_type'. The input is a secret: errors never
 * quote it.
 */
export function parseSignerKey(skey: string): SignerKey {
  if (!skey.startsWith(SIGNER_KEY_PREFIX)) throw new TlogError('malformed_key', 'signer key must start with PRIVATE+KEY+');
  const rest = skey.slice(SIGNER_KEY_PREFIX.length);
  const plus1 = rest.indexOf('+');
  const plus2 = plus1 < 0 ? -1 : rest.indexOf('+', plus1 + 1);
  if (plus2 < 0) throw new TlogError('malformed_key', 'signer key must have the form PRIVATE+KEY+name+hex8+base64');
  const name = rest.slice(0, plus1);
  const hex8 = rest.slice(plus1 + 1, plus2);
  if (!isValidKeyName(name)) throw new TlogError('malformed_key', 'signer key has an invalid name');
  if (!/^[0-9a-f]{8}$/.test(hex8)) throw new TlogError('malformed_key', 'signer key ID must be 8 lowercase hex digits');
  let raw: Uint8Array;
  try {
    raw = decodeBase64(rest.slice(plus2 + 1), 'signer key');
  } catch (err) {
    throw new TlogError('malformed_key', 'signer key material is not valid base64', { cause: err });
  }
  if (raw.length === 0) throw new TlogError('malformed_key', 'signer key material is empty');
  if (raw[0] !== NOTE_KEY_TYPE_ED25519) throw new TlogError('unsupported_key_type', 'only Ed25519 signer keys are supported');
  const seed = raw.slice(1);
  if (seed.length !== ED25519_SEED_BYTES) throw new TlogError('malformed_key', 'Ed25519 signer key seed must be 32 bytes');
  const publicKey = ed25519PublicKeyOfSeed(seed);
  const keyId = computeKeyId(name, NOTE_KEY_TYPE_ED25519, publicKey);
  if (formatKeyId(keyId) !== hex8) throw new TlogError('malformed_key', 'signer key ID does not match the key');
  return { name, keyId, seed, publicKey };
}

/** formatSignerKey renders Go's private key string for (name, 32-byte Ed25519 seed). Secret output. */
export function formatSignerKey(key: { name: string; seed: Uint8Array }): string {
  if (!isValidKeyName(key.name)) throw new TlogError('invalid_argument', `invalid key name ${JSON.stringify(key.name)}`);
  if (key.seed.length !== ED25519_SEED_BYTES) throw new TlogError('invalid_argument', 'Ed25519 seed must be 32 bytes');
  const publicKey = ed25519PublicKeyOfSeed(key.seed);
  const raw = new Uint8Array(1 + ED25519_SEED_BYTES);
  raw[0] = NOTE_KEY_TYPE_ED25519;
  raw.set(key.seed, 1);
  const keyId = computeKeyId(key.name, NOTE_KEY_TYPE_ED25519, publicKey);
  return `${SIGNER_KEY_PREFIX}${key.name}+${formatKeyId(keyId)}+${encodeBase64(raw)}`;
}

/**
 * generateSignerKey makes a fresh Ed25519 note key for `name` from the system CSPRNG and returns
 * the private key string (secret), the type-0x01 vkey, and a ready signer.
 */
export function generateSignerKey(name: string): { skey: string; vkey: string; signer: Ed25519Signer } {
  const seed = generateEd25519Seed();
  const signer = newEd25519Signer(name, seed);
  return {
    skey: formatSignerKey({ name, seed }),
    vkey: formatVerifierKey({ name, type: NOTE_KEY_TYPE_ED25519, publicKey: signer.publicKey }),
    signer,
  };
}

/** parseSigner parses a Go signer key string into a type-0x01 note signer. */
export function parseSigner(skey: string): Ed25519Signer {
  const key = parseSignerKey(skey);
  return newEd25519Signer(key.name, key.seed);
}
