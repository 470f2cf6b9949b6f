// requests.ts builds signed v1 and v2 entry requests for the log/kinds tests, with keys made by
// node:crypto and Ed25519ph signatures made by @noble/curves. Test use only.
import { ed25519ph } from '@noble/curves/ed25519.js';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { formatPem } from '../pem.ts';
import { encodeDssePae } from '../dsse.ts';

/** TestKeyType names the key types tests sign with. */
export type TestKeyType = 'P-256' | 'P-384' | 'P-521' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'Ed25519';

/** TestKey is a signer: node:crypto private key, DER SPKI, and for Ed25519 the raw seed. */
export interface TestKey {
  readonly type: TestKeyType;
  readonly privateKey: KeyObject;
  readonly spki: Uint8Array;
  readonly seed?: Uint8Array;
}

/** newTestKey generates a key of the given type. */
export function newTestKey(type: TestKeyType): TestKey {
  const pair = type.startsWith('RSA-')
    ? generateKeyPairSync('rsa', { modulusLength: Number(type.slice(4)) })
    : type === 'Ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: type });
  const spki = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
  const seed = type === 'Ed25519' ? new Uint8Array(Buffer.from(pair.privateKey.export({ format: 'jwk' }).d!, 'base64url')) : undefined;
  return { type, privateKey: pair.privateKey, spki, seed };
}

/** keyFromPrivate wraps an existing node private key (a certificate's) as a TestKey. */
export function keyFromPrivate(type: TestKeyType, privateKey: KeyObject, spki: Uint8Array): TestKey {
  const seed = type === 'Ed25519' ? new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')) : undefined;
  return { type, privateKey, spki, seed };
}

/** b64 encodes bytes as standard padded base64. */
export function b64(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString('base64');
}

/** digestOf hashes message with a node hash name. */
export function digestOf(hash: 'sha256' | 'sha384' | 'sha512', message: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash(hash).update(message).digest());
}

/**
 * signArtifact signs message as a hashedrekord client does: ECDSA/RSA over hash(message), and for
 * Ed25519 keys Ed25519ph (which prehashes with SHA-512 itself).
 */
export function signArtifact(key: TestKey, hash: 'sha256' | 'sha384' | 'sha512', message: Uint8Array): Uint8Array {
  if (key.type === 'Ed25519') return ed25519ph.sign(message, key.seed!);
  return new Uint8Array(sign(hash, message, key.privateKey));
}

/** signPae signs a DSSE PAE: ECDSA/RSA with `hash`, Ed25519 pure. */
export function signPae(key: TestKey, hash: 'sha256' | 'sha384' | 'sha512', payloadType: string, payload: Uint8Array): Uint8Array {
  const pae = encodeDssePae(payloadType, payload);
  return new Uint8Array(sign(key.type === 'Ed25519' ? null : hash, pae, key.privateKey));
}

/** pemBase64 is base64 of the Go-formatted PEM of der: what v1 requests carry. */
export function pemBase64(type: 'PUBLIC KEY' | 'CERTIFICATE', der: Uint8Array): string {
  return b64(formatPem(type, der));
}

/** hashedRekordV001 builds a v1 ProposedEntry. */
export function hashedRekordV001(hash: string, digestHex: string, signature: Uint8Array, publicKeyContentB64: string): Record<string, unknown> {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: hash, value: digestHex } },
      signature: { content: b64(signature), publicKey: { content: publicKeyContentB64 } },
    },
  };
}

/** protoVerifier builds a v2 Verifier for a bare key or a certificate. */
export function protoVerifier(keyDetails: string, which: 'publicKey' | 'x509Certificate', der: Uint8Array): Record<string, unknown> {
  return { [which]: { rawBytes: b64(der) }, keyDetails };
}

/** hashedRekordV002 builds a v2 CreateEntryRequest. */
export function hashedRekordV002(digest: Uint8Array, signature: Uint8Array, verifier: Record<string, unknown>): Record<string, unknown> {
  return { hashedRekordRequestV002: { digest: b64(digest), signature: { content: b64(signature), verifier } } };
}

/** KEY_DETAILS is the natural PublicKeyDetails of each test key type. */
export const KEY_DETAILS: Readonly<Record<TestKeyType, string>> = {
  'P-256': 'PKIX_ECDSA_P256_SHA_256',
  'P-384': 'PKIX_ECDSA_P384_SHA_384',
  'P-521': 'PKIX_ECDSA_P521_SHA_512',
  'RSA-2048': 'PKIX_RSA_PKCS1V15_2048_SHA256',
  'RSA-3072': 'PKIX_RSA_PKCS1V15_3072_SHA256',
  'RSA-4096': 'PKIX_RSA_PKCS1V15_4096_SHA256',
  Ed25519: 'PKIX_ED25519_PH',
};

/** NATURAL_HASH is the hash each test key type signs with in v2. */
export const NATURAL_HASH: Readonly<Record<TestKeyType, 'sha256' | 'sha384' | 'sha512'>> = {
  'P-256': 'sha256',
  'P-384': 'sha384',
  'P-521': 'sha512',
  'RSA-2048': 'sha256',
  'RSA-3072': 'sha256',
  'RSA-4096': 'sha256',
  Ed25519: 'sha512',
};
