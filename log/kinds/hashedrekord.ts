// hashedrekord.ts accepts hashedrekord entries: a signature over an artifact digest.
//
// 0.0.1 (v1 API, Rekor pkg/types/hashedrekord/v0.0.1): data.hash {algorithm sha256|sha384|sha512,
// value hex} and signature {content base64, publicKey.content base64 PEM}. As in Rekor: the digest
// length must match the algorithm; ECDSA keys (P-256/384/521) may sign any of the three digests;
// RSA signs PKCS#1 v1.5 with the named digest; Ed25519 keys only as Ed25519ph over a SHA-512 digest
// (pure Ed25519 cannot sign a digest the log verifies). The body stores the key as Rekor's
// canonical PEM. Vigil is stricter on encodings: hex must be lowercase, base64 strict.
//
// 0.0.2 (v2 API, rekor-tiles pkg/types/hashedrekord): HashedRekordRequestV002 {digest, signature
// {content, verifier}}. keyDetails picks the hash, the (key, hash) pair must be in the registry
// (key-details.ts), PKIX_ED25519 is refused (rekor-tiles #872, #927), the digest length must match.
// The body is protojson of Entry{kind, apiVersion, spec.hashedRekordV002{data, signature}}, JCS'd.
import { encodeBase64, encodeHex } from '../../tlog/base64.ts';
import { LogError } from '../errors.ts';
import { describeKey } from './public-key.ts';
import {
  checkAlgorithmPermitted,
  HASH_SIZE_BYTES,
  KEY_DETAILS_HASH,
  PROTO_HASH_ALGORITHM,
  type HashAlgorithm,
} from './key-details.ts';
import { fieldPath, readBase64, readLowerHex, readObject, readString } from './request-json.ts';
import type { EntryContext, VerifiedContent } from './verified-entry.ts';
import { verifyDigestSignature } from './verifier.ts';
import { readPemVerifier, readProtoVerifier, type ResolvedVerifier } from './verifier-material.ts';

const V001_HASH_ALGORITHMS: readonly HashAlgorithm[] = ['sha256', 'sha384', 'sha512'];

function checkV001Algorithm(resolved: ResolvedVerifier, hash: HashAlgorithm, path: string): void {
  const alg = resolved.key.algorithm;
  if (alg.type === 'ed25519' && hash !== 'sha512') {
    throw new LogError('unsupported_algorithm', `${path}: Ed25519 keys sign hashedrekord entries as Ed25519ph, over a sha512 digest, not ${hash}`);
  }
}

function verifyOrThrow(resolved: ResolvedVerifier, hash: HashAlgorithm, digest: Uint8Array, signature: Uint8Array, path: string): void {
  if (!verifyDigestSignature(resolved.key, hash, digest, signature)) {
    throw new LogError('invalid_signature', `${path} does not verify with the ${describeKey(resolved.key.algorithm)} key over the ${hash} digest`);
  }
}

/** parseHashedRekordV001 checks a v1 hashedrekord 0.0.1 spec (attacker-controlled) and verifies its signature. */
export function parseHashedRekordV001(spec: unknown, ctx: EntryContext): VerifiedContent {
  const s = readObject(spec, 'spec', ['data', 'signature']);
  const data = readObject(s.data, 'spec.data', ['hash']);
  const hashObj = readObject(data.hash, 'spec.data.hash', ['algorithm', 'value']);
  const algorithm = readString(hashObj.algorithm, 'spec.data.hash.algorithm');
  if (!(V001_HASH_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new LogError('unsupported_algorithm', `spec.data.hash.algorithm must be one of ${V001_HASH_ALGORITHMS.join(', ')}`);
  }
  const hash = algorithm as HashAlgorithm;
  const digest = readLowerHex(hashObj.value, 'spec.data.hash.value', HASH_SIZE_BYTES[hash]);
  const sig = readObject(s.signature, 'spec.signature', ['content', 'publicKey']);
  const signature = readBase64(sig.content, 'spec.signature.content');
  const publicKey = readObject(sig.publicKey, 'spec.signature.publicKey', ['content']);
  const verifier = readPemVerifier(publicKey.content, 'spec.signature.publicKey.content', ctx);
  checkV001Algorithm(verifier.resolved, hash, 'spec.signature.publicKey.content');
  verifyOrThrow(verifier.resolved, hash, digest, signature, 'spec.signature.content');
  const hex = encodeHex(digest);
  return {
    kind: 'hashedrekord',
    apiVersion: '0.0.1',
    body: {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: hash, value: hex } },
        signature: { content: encodeBase64(signature), publicKey: { content: verifier.canonical } },
      },
    },
    artifactDigest: { algorithm: hash, hex },
    signatures: [{ signature, verifier: verifier.resolved.material }],
  };
}

/**
 * parseHashedRekordRequestV002 checks a v2 HashedRekordRequestV002 (attacker-controlled, protobuf
 * JSON) and verifies its signature, producing the hashedrekord 0.0.2 body rekor-tiles would log.
 */
export function parseHashedRekordRequestV002(request: unknown, ctx: EntryContext): VerifiedContent {
  const path = 'hashedRekordRequestV002';
  const req = readObject(request, path, ['digest', 'signature']);
  const digest = readBase64(req.digest, fieldPath(path, 'digest'));
  const sigPath = fieldPath(path, 'signature');
  const sig = readObject(req.signature, sigPath, ['content', 'verifier']);
  const signature = readBase64(sig.content, fieldPath(sigPath, 'content'));
  const verifierPath = fieldPath(sigPath, 'verifier');
  const verifier = readProtoVerifier(sig.verifier, verifierPath, ctx);
  const hash = KEY_DETAILS_HASH[verifier.keyDetails];
  if (hash === null) {
    throw new LogError('unsupported_algorithm', `${verifierPath}.keyDetails PKIX_ED25519 (pure Ed25519) cannot sign a digest; use PKIX_ED25519_PH`);
  }
  checkAlgorithmPermitted(verifier.resolved.key, hash, verifierPath);
  if (digest.length !== HASH_SIZE_BYTES[hash]) {
    throw new LogError('malformed_entry', `${path}.digest is ${digest.length} bytes; ${verifier.keyDetails} needs a ${HASH_SIZE_BYTES[hash]}-byte ${hash} digest`);
  }
  verifyOrThrow(verifier.resolved, hash, digest, signature, fieldPath(sigPath, 'content'));
  return {
    kind: 'hashedrekord',
    apiVersion: '0.0.2',
    body: {
      apiVersion: '0.0.2',
      kind: 'hashedrekord',
      spec: {
        hashedRekordV002: {
          data: { algorithm: PROTO_HASH_ALGORITHM[hash], digest: encodeBase64(digest) },
          signature: { content: encodeBase64(signature), verifier: verifier.body },
        },
      },
    },
    artifactDigest: { algorithm: hash, hex: encodeHex(digest) },
    signatures: [{ signature, verifier: verifier.resolved.material }],
  };
}
