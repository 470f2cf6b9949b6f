// verifier.ts checks signatures, the hottest step of accepting an entry.
//
// Two shapes exist. DSSE signatures cover a message (the PAE), so node:crypto (OpenSSL) verifies
// them. hashedrekord signatures cover a digest the log never sees the message of, and OpenSSL's
// one-shot verify always hashes its input (crypto.verify(null, ...) on an EC key defaults to
// SHA-256, checked on Node 20.20 / OpenSSL 3.0.19), so:
// - ECDSA over a digest uses @noble/curves with prehash: false (lowS: false, because OpenSSL and Go
//   do not normalise s);
// - RSA PKCS#1 v1.5 over a digest uses OpenSSL's raw public operation (crypto.publicDecrypt with
//   PKCS#1 type-1 padding) and compares the recovered DigestInfo with the expected one byte for
//   byte (RFC 8017 §8.2.2, "encode and compare"), never parsing it;
// - Ed25519ph over a digest uses @noble/curves' EdDSA with the RFC 8032 §5.1 dom2 prefix and the
//   SHA-512 prehash already applied (the digest is that prehash).
//
// Measured on this 2-core machine (Node 20.20.2, OpenSSL 3.0.19, @noble/curves 2.4.0; loops of 150
// to 5,000 verifications of one fresh key's signature after 200 warm-up rounds; a quiet run, then
// one while other test suites loaded the machine):
//                                                     quiet              loaded
//   P-256, node:crypto over a message                  81 µs (12,400/s)  158 µs (6,300/s)
//   P-256, node:crypto incl. createPublicKey(spki)    259 µs  (3,900/s)  467 µs (2,100/s)
//   P-256, @noble prehash:false over a digest       2,665 µs    (375/s) 3,797 µs  (263/s)
//   P-384, node:crypto over a message                 760 µs  (1,300/s)  968 µs (1,000/s)
//   P-384, @noble over a digest                     5,915 µs    (169/s)
//   RSA-2048, node:crypto verify / publicDecrypt    27.5 / 26.7 µs      50 / 44 µs
// So @noble is 24-33× slower than OpenSSL for P-256. It is used only where node:crypto cannot
// work at all (an ECDSA signature given only its digest), and the price is real: a hashedrekord
// ECDSA entry costs ~3 ms of CPU, ~350 entries/s per core.
import { constants, publicDecrypt, verify as nodeVerify } from 'node:crypto';
import { eddsa } from '@noble/curves/abstract/edwards.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { equalBytes } from '../../tlog/merkle.ts';
import { HASH_SIZE_BYTES, type HashAlgorithm } from './key-details.ts';
import { ecPointOf, type PublicKey } from './public-key.ts';

// RFC 8017 §9.2 note 1: the DER DigestInfo prefix of each hash, followed by the digest itself.
const DIGEST_INFO_PREFIX: Readonly<Record<HashAlgorithm, Uint8Array>> = {
  sha256: Uint8Array.from(Buffer.from('3031300d060960864801650304020105000420', 'hex')),
  sha384: Uint8Array.from(Buffer.from('3041300d060960864801650304020205000430', 'hex')),
  sha512: Uint8Array.from(Buffer.from('3051300d060960864801650304020305000440', 'hex')),
};

const NOBLE_CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;

// RFC 8032 §5.1 dom2(x, y) = "SigEd25519 no Ed25519 collisions" || octet(x) || octet(len(y)) || y,
// with x = 1 for Ed25519ph and y the (empty) context.
const DOM2_PREFIX = new TextEncoder().encode('SigEd25519 no Ed25519 collisions');
function ed25519phDomain(data: Uint8Array, ctx: Uint8Array, phflag: boolean): Uint8Array {
  const out = new Uint8Array(DOM2_PREFIX.length + 2 + ctx.length + data.length);
  out.set(DOM2_PREFIX, 0);
  out[DOM2_PREFIX.length] = phflag ? 1 : 0;
  out[DOM2_PREFIX.length + 1] = ctx.length;
  out.set(ctx, DOM2_PREFIX.length + 2);
  out.set(data, DOM2_PREFIX.length + 2 + ctx.length);
  return out;
}

// An Ed25519 PublicKey's spki is canonical (12-byte RFC 8410 prefix), so its last 32 bytes are the key.
// Ed25519ph whose "prehash" is the identity: verify() then takes PH(M) = SHA-512(M) directly.
const ed25519phDigest = eddsa(ed25519.Point, sha512, { domain: ed25519phDomain, prehash: (m: Uint8Array) => m });

function verifyRsaDigest(key: PublicKey, bits: number, hash: HashAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  // RFC 8017 §8.2.2 step 1: the signature is exactly k bytes. The raw public operation would also
  // take a shorter one (leading zeros dropped), a second encoding of the same signature.
  if (signature.length !== Math.ceil(bits / 8)) return false;
  const prefix = DIGEST_INFO_PREFIX[hash];
  const expected = new Uint8Array(prefix.length + digest.length);
  expected.set(prefix, 0);
  expected.set(digest, prefix.length);
  // OpenSSL checks the 00 01 FF..FF 00 type-1 padding and returns what follows it.
  const recovered = publicDecrypt({ key: key.key, padding: constants.RSA_PKCS1_PADDING }, signature);
  return equalBytes(new Uint8Array(recovered.buffer, recovered.byteOffset, recovered.byteLength), expected);
}

/**
 * verifyDigestSignature reports whether signature (attacker-controlled) is key's signature over a
 * message whose `hash` digest is `digest`: ECDSA (DER), RSA PKCS#1 v1.5, or Ed25519ph (hash must be
 * sha512). It never throws for bad input; it returns false.
 */
export function verifyDigestSignature(key: PublicKey, hash: HashAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  if (digest.length !== HASH_SIZE_BYTES[hash]) return false;
  try {
    switch (key.algorithm.type) {
      case 'ecdsa':
        return NOBLE_CURVES[key.algorithm.curve].verify(signature, digest, ecPointOf(key.spki, key.algorithm.curve), { prehash: false, lowS: false, format: 'der' });
      case 'rsa':
        return verifyRsaDigest(key, key.algorithm.bits, hash, digest, signature);
      case 'ed25519':
        return hash === 'sha512' && ed25519phDigest.verify(signature, digest, key.spki.subarray(key.spki.length - 32), { zip215: false });
    }
  } catch {
    return false; // malformed signature encodings, wrong lengths, padding failures
  }
}

/**
 * verifyMessageSignature reports whether signature (attacker-controlled) is key's signature over
 * message: ECDSA (DER) or RSA PKCS#1 v1.5 with `hash`, or pure Ed25519 (hash is ignored). It uses
 * node:crypto and never throws for bad input.
 */
export function verifyMessageSignature(key: PublicKey, hash: HashAlgorithm, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const algorithm = key.algorithm.type === 'ed25519' ? null : hash;
    return nodeVerify(algorithm, message, key.key, signature);
  } catch {
    return false;
  }
}
