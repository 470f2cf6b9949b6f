// key-details.ts is the log's signing-algorithm registry: the protobuf-specs PublicKeyDetails
// names a v2 request may carry, the hash each implies, and the (key, hash) pairs the log accepts.
// It mirrors rekor-tiles' algorithm registry (internal/algorithmregistry, #927): RSA PKCS#1 v1.5
// 2048/3072/4096 with SHA-256, ECDSA P-256/SHA-256, P-384/SHA-384, P-521/SHA-512, Ed25519 and
// Ed25519ph. As in rekor-tiles, keyDetails selects the hash, and it is the pair (actual key, that
// hash) that must be in the registry; keyDetails is stored verbatim in the body.
import { LogError } from '../errors.ts';
import { describeKey, type PublicKey } from './public-key.ts';

/** HashAlgorithm names the digests entries use. */
export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** HASH_SIZE_BYTES is each digest's length. */
export const HASH_SIZE_BYTES: Readonly<Record<HashAlgorithm, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** ProtoHashAlgorithm is the protobuf-specs HashAlgorithm name of a digest (HashOutput.algorithm). */
export type ProtoHashAlgorithm = 'SHA2_256' | 'SHA2_384' | 'SHA2_512';

/** PROTO_HASH_ALGORITHM maps a digest to its protobuf-specs name. */
export const PROTO_HASH_ALGORITHM: Readonly<Record<HashAlgorithm, ProtoHashAlgorithm>> = {
  sha256: 'SHA2_256',
  sha384: 'SHA2_384',
  sha512: 'SHA2_512',
};

/** KEY_DETAILS_HASH lists the accepted PublicKeyDetails names and the hash each implies (null: pure Ed25519). */
export const KEY_DETAILS_HASH = {
  PKIX_RSA_PKCS1V15_2048_SHA256: 'sha256',
  PKIX_RSA_PKCS1V15_3072_SHA256: 'sha256',
  PKIX_RSA_PKCS1V15_4096_SHA256: 'sha256',
  PKIX_ECDSA_P256_SHA_256: 'sha256',
  PKIX_ECDSA_P384_SHA_384: 'sha384',
  PKIX_ECDSA_P521_SHA_512: 'sha512',
  PKIX_ED25519: null,
  PKIX_ED25519_PH: 'sha512',
} as const satisfies Record<string, HashAlgorithm | null>;

/** KeyDetails is an accepted protobuf-specs PublicKeyDetails name. */
export type KeyDetails = keyof typeof KEY_DETAILS_HASH;

/**
 * parseKeyDetails checks that value (attacker-controlled) is an accepted PublicKeyDetails name.
 * Only names are accepted, not protojson's numeric enum form; clients emit names.
 */
export function parseKeyDetails(value: unknown, path: string): KeyDetails {
  if (typeof value !== 'string') throw new LogError('malformed_entry', `${path} must be a PublicKeyDetails name`);
  if (!Object.hasOwn(KEY_DETAILS_HASH, value)) {
    throw new LogError('unsupported_algorithm', `${path} ${JSON.stringify(value.slice(0, 64))} is not an accepted algorithm (accepted: ${Object.keys(KEY_DETAILS_HASH).join(', ')})`);
  }
  return value as KeyDetails;
}

/** isAlgorithmPermitted reports whether the registry holds the pair (key, hash); hash null is pure Ed25519. */
export function isAlgorithmPermitted(key: PublicKey, hash: HashAlgorithm | null): boolean {
  const alg = key.algorithm;
  switch (alg.type) {
    case 'ecdsa':
      return (
        (alg.curve === 'P-256' && hash === 'sha256') ||
        (alg.curve === 'P-384' && hash === 'sha384') ||
        (alg.curve === 'P-521' && hash === 'sha512')
      );
    case 'rsa':
      return hash === 'sha256' && (alg.bits === 2048 || alg.bits === 3072 || alg.bits === 4096);
    case 'ed25519':
      return hash === null || hash === 'sha512';
  }
}

/** checkAlgorithmPermitted throws unsupported_algorithm unless the registry holds (key, hash). */
export function checkAlgorithmPermitted(key: PublicKey, hash: HashAlgorithm | null, path: string): void {
  if (!isAlgorithmPermitted(key, hash)) {
    throw new LogError('unsupported_algorithm', `${path}: a ${describeKey(key.algorithm)} key with ${hash === null ? 'no prehash' : hash.toUpperCase()} is not an accepted algorithm`);
  }
}
