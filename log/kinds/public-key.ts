// public-key.ts parses signers' public keys (DER SubjectPublicKeyInfo) with node:crypto (OpenSSL),
// and classifies them for the algorithm checks. No ASN.1 is parsed here by hand.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { encodeHex } from '../../tlog/base64.ts';
import { sha256 } from '../../tlog/sha256.ts';
import { LogError } from '../errors.ts';

/** EcdsaCurve names the NIST curves the log accepts for ECDSA keys. */
export type EcdsaCurve = 'P-256' | 'P-384' | 'P-521';

/** KeyAlgorithm is what a public key is: its type and its curve or size. */
export type KeyAlgorithm =
  | { readonly type: 'ecdsa'; readonly curve: EcdsaCurve }
  | { readonly type: 'rsa'; readonly bits: number }
  | { readonly type: 'ed25519' };

/** PublicKey is a parsed signer key. */
export interface PublicKey {
  /** spki is the DER SubjectPublicKeyInfo, exactly as received (it is checked to be canonical). */
  readonly spki: Uint8Array;
  /** key is the node:crypto key, for verification through OpenSSL. */
  readonly key: KeyObject;
  readonly algorithm: KeyAlgorithm;
  /** fingerprint is the lowercase hex SHA-256 of spki: the identity of a key-signed entry. */
  readonly fingerprint: string;
}

const OPENSSL_CURVES: Record<string, EcdsaCurve> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

// DER length of a named-curve SPKI holding an uncompressed point (0x04 || X || Y). OpenSSL
// re-exports a compressed point compressed, so the re-encoding check alone would let one key
// have two encodings; Go's x509.ParsePKIXPublicKey (Rekor) accepts only the uncompressed form.
const UNCOMPRESSED_SPKI_BYTES: Record<EcdsaCurve, number> = { 'P-256': 91, 'P-384': 120, 'P-521': 158 };

// The canonical DER of a named-curve SPKI up to its point: SEQUENCE { SEQUENCE { id-ecPublicKey,
// the curve's OID }, BIT STRING (no unused bits) }. Followed by the uncompressed point, it is what
// OpenSSL re-exports, so a key received in exactly this form needs no re-encoding check.
const EC_SPKI_PREFIX: Record<EcdsaCurve, Buffer> = {
  'P-256': Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  'P-384': Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
  'P-521': Buffer.from('30819b301006072a8648ce3d020106052b8104002303818600', 'hex'),
};

/** RSA_MIN_BITS is the smallest RSA modulus accepted, in bits. */
export const RSA_MIN_BITS = 2048;
/** RSA_MAX_BITS is the largest RSA modulus accepted, in bits (v2 also needs 2048, 3072 or 4096). */
export const RSA_MAX_BITS = 4096;

function classify(key: KeyObject, path: string): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = OPENSSL_CURVES[details.namedCurve ?? ''];
      if (curve === undefined) {
        throw new LogError('unsupported_algorithm', `${path} is an ECDSA key on curve ${details.namedCurve ?? '?'}; only P-256, P-384 and P-521 are accepted`);
      }
      return { type: 'ecdsa', curve };
    }
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
        throw new LogError('unsupported_algorithm', `${path} is a ${bits}-bit RSA key; ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits are accepted`);
      }
      const e = details.publicExponent ?? 0n;
      // A tiny or even exponent makes PKCS#1 v1.5 signatures forgeable or the key invalid.
      if (e < 3n || e % 2n === 0n || e >= 1n << 32n) {
        throw new LogError('malformed_public_key', `${path} has an unusable RSA public exponent`);
      }
      return { type: 'rsa', bits };
    }
    case 'ed25519':
      return { type: 'ed25519' };
    default:
      throw new LogError('unsupported_algorithm', `${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; ECDSA, RSA and Ed25519 keys are accepted`);
  }
}

/**
 * parsePublicKey parses spki (attacker-controlled DER) and returns the key. It refuses encodings
 * that do not re-encode to the same bytes (BER forms, compressed EC points, explicit curve
 * parameters), so that one key has one fingerprint, as Go's x509.ParsePKIXPublicKey effectively
 * does for Rekor. Throws malformed_public_key or unsupported_algorithm.
 */
export function parsePublicKey(spki: Uint8Array, path: string): PublicKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (err) {
    throw new LogError('malformed_public_key', `${path} is not a DER SubjectPublicKeyInfo`, { cause: err });
  }
  const algorithm = classify(key, path);
  // Fast path (a quarter of the write path's CPU went to exporting keys): an EC key in exactly the
  // canonical uncompressed form, which OpenSSL has just parsed and checked to be on its curve.
  if (algorithm.type === 'ecdsa' && isCanonicalEcSpki(spki, algorithm.curve)) {
    return { spki, key, algorithm, fingerprint: encodeHex(sha256(spki)) };
  }
  const parsed = publicKeyFromKeyObject(key, path);
  if (!Buffer.from(parsed.spki).equals(spki)) {
    throw new LogError('malformed_public_key', `${path} is not in canonical DER form`);
  }
  return { ...parsed, spki };
}

/**
 * publicKeyFromKeyObject classifies a key OpenSSL already parsed (a certificate's) and returns it
 * with its canonical DER SPKI. Throws like parsePublicKey.
 */
export function publicKeyFromKeyObject(key: KeyObject, path: string): PublicKey {
  const algorithm = classify(key, path);
  const spki = new Uint8Array(key.export({ format: 'der', type: 'spki' }));
  if (algorithm.type === 'ecdsa' && spki.length !== UNCOMPRESSED_SPKI_BYTES[algorithm.curve]) {
    throw new LogError('malformed_public_key', `${path} is not an uncompressed named-curve point`);
  }
  return { spki, key, algorithm, fingerprint: encodeHex(sha256(spki)) };
}

function isCanonicalEcSpki(spki: Uint8Array, curve: EcdsaCurve): boolean {
  const prefix = EC_SPKI_PREFIX[curve];
  return spki.length === UNCOMPRESSED_SPKI_BYTES[curve] && spki[prefix.length] === 0x04 && prefix.equals(spki.subarray(0, prefix.length));
}

/**
 * ecPointOf returns an ECDSA key's uncompressed SEC 1 point (0x04 || X || Y): the tail of its
 * SPKI (a PublicKey's spki on `curve`), which parsePublicKey and publicKeyFromKeyObject only accept in the uncompressed form.
 */
export function ecPointOf(spki: Uint8Array, curve: EcdsaCurve): Uint8Array {
  return spki.subarray(EC_SPKI_PREFIX[curve].length);
}

/** describeKey names a key for messages: "ECDSA P-256", "RSA-3072", "Ed25519". */
export function describeKey(algorithm: KeyAlgorithm): string {
  switch (algorithm.type) {
    case 'ecdsa':
      return `ECDSA ${algorithm.curve}`;
    case 'rsa':
      return `RSA-${algorithm.bits}`;
    case 'ed25519':
      return 'Ed25519';
  }
}
