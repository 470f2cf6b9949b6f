import { p256 } from '@noble/curves/nist.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePublicKey } from './public-key.ts';
import { digestOf, newTestKey, signArtifact, type TestKeyType } from './testdata/requests.ts';
import { verifyDigestSignature, verifyMessageSignature } from './verifier.ts';

const MESSAGE = new TextEncoder().encode('an artifact the log never sees');
const HASHES = ['sha256', 'sha384', 'sha512'] as const;

describe('verifyDigestSignature', () => {
  it('documents why: node:crypto cannot verify an ECDSA signature given only the digest', () => {
    const key = newTestKey('P-256');
    const sig = sign('sha256', MESSAGE, key.privateKey);
    const digest = digestOf('sha256', MESSAGE);
    const pub = parsePublicKey(key.spki, 'k');
    // algorithm null means "the key's default digest" (SHA-256 for EC), so the digest is hashed again.
    expect(verify(null, digest, pub.key, sig)).toBe(false);
    expect(verify(null, MESSAGE, pub.key, sig)).toBe(true);
    expect(verifyDigestSignature(pub, 'sha256', digest, sig)).toBe(true);
  });

  // Every ECDSA curve with every digest (Rekor v1 allows any pairing; ECDSA truncates the digest),
  // every RSA size with every digest (the DigestInfo names the hash).
  const cases: [TestKeyType, (typeof HASHES)[number]][] = [];
  for (const type of ['P-256', 'P-384', 'P-521', 'RSA-2048', 'RSA-3072', 'RSA-4096'] as const) {
    for (const hash of HASHES) cases.push([type, hash]);
  }
  // RSA key generation dominates this file's run time: one signer and one stranger per type.
  const keys = new Map<string, ReturnType<typeof newTestKey>>();
  const keyOf = (type: TestKeyType, role = 'signer') => {
    const id = `${type}/${role}`;
    if (!keys.has(id)) keys.set(id, newTestKey(type));
    return keys.get(id)!;
  };

  it.each(cases)('%s over a %s digest: accepts the real signature, refuses tampering', (type, hash) => {
    const key = keyOf(type);
    const pub = parsePublicKey(key.spki, 'k');
    const digest = digestOf(hash, MESSAGE);
    const sig = signArtifact(key, hash, MESSAGE);
    expect(verifyDigestSignature(pub, hash, digest, sig)).toBe(true);
    const tamperedDigest = digest.slice();
    tamperedDigest[3]! ^= 0x80;
    expect(verifyDigestSignature(pub, hash, tamperedDigest, sig)).toBe(false);
    const tamperedSig = sig.slice();
    tamperedSig[tamperedSig.length - 2]! ^= 0x01;
    expect(verifyDigestSignature(pub, hash, digest, tamperedSig)).toBe(false);
    expect(verifyDigestSignature(parsePublicKey(keyOf(type, 'stranger').spki, 'other'), hash, digest, sig)).toBe(false);
    // The same signature is also a message signature that node:crypto accepts.
    expect(verifyMessageSignature(pub, hash, MESSAGE, sig)).toBe(true);
  });

  it('refuses an RSA signature whose DigestInfo names another hash', () => {
    const key = keyOf('RSA-2048');
    const pub = parsePublicKey(key.spki, 'k');
    const sig = signArtifact(key, 'sha512', MESSAGE);
    const d512 = digestOf('sha512', MESSAGE);
    expect(verifyDigestSignature(pub, 'sha512', d512, sig)).toBe(true);
    // A 64-byte digest presented as sha512 only; the 32-byte prefix as sha256 must not pass.
    expect(verifyDigestSignature(pub, 'sha256', d512.subarray(0, 32), sig)).toBe(false);
  });

  it('accepts high-S ECDSA signatures, as OpenSSL and Go do', () => {
    const key = keyOf('P-256');
    const pub = parsePublicKey(key.spki, 'k');
    const digest = digestOf('sha256', MESSAGE);
    const sig = p256.Signature.fromBytes(signArtifact(key, 'sha256', MESSAGE), 'der');
    const flipped = new p256.Signature(sig.r, p256.Point.CURVE().n - sig.s);
    expect(flipped.hasHighS() || sig.hasHighS()).toBe(true);
    expect(verifyDigestSignature(pub, 'sha256', digest, sig.toBytes('der'))).toBe(true);
    expect(verifyDigestSignature(pub, 'sha256', digest, flipped.toBytes('der'))).toBe(true);
  });

  it('refuses malformed encodings and wrong digest lengths without throwing', () => {
    const key = keyOf('P-256');
    const pub = parsePublicKey(key.spki, 'k');
    const digest = digestOf('sha256', MESSAGE);
    const sig = signArtifact(key, 'sha256', MESSAGE);
    expect(verifyDigestSignature(pub, 'sha256', digest, new Uint8Array(0))).toBe(false);
    expect(verifyDigestSignature(pub, 'sha256', digest, p256.Signature.fromBytes(sig, 'der').toBytes('compact'))).toBe(false);
    expect(verifyDigestSignature(pub, 'sha256', digest.subarray(1), sig)).toBe(false);
    expect(verifyDigestSignature(pub, 'sha384', digest, sig)).toBe(false);
    const rsa = parsePublicKey(keyOf('RSA-2048').spki, 'k');
    expect(verifyDigestSignature(rsa, 'sha256', digest, new Uint8Array(300))).toBe(false);
    expect(verifyDigestSignature(rsa, 'sha256', digest, new Uint8Array(5))).toBe(false);
    // A valid RSA signature that starts with a zero byte (about 1 in 256; PKCS#1 v1.5 signing is
    // deterministic), presented without that byte, is refused.
    const rsaKey = keyOf('RSA-2048');
    let m: Uint8Array = new Uint8Array(0);
    let sig0: Uint8Array = new Uint8Array([1]);
    for (let i = 0; i < 4000 && sig0[0] !== 0; i++) {
      m = new TextEncoder().encode(`message ${i}`);
      sig0 = signArtifact(rsaKey, 'sha256', m);
    }
    expect(sig0[0]).toBe(0);
    expect(verifyDigestSignature(rsa, 'sha256', digestOf('sha256', m), sig0)).toBe(true);
    expect(verifyDigestSignature(rsa, 'sha256', digestOf('sha256', m), sig0.subarray(1))).toBe(false);
  });

  it('verifies Ed25519ph over a SHA-512 digest only, and never a pure Ed25519 signature', () => {
    const key = newTestKey('Ed25519');
    const pub = parsePublicKey(key.spki, 'k');
    const d512 = digestOf('sha512', MESSAGE);
    const ph = signArtifact(key, 'sha512', MESSAGE);
    expect(verifyDigestSignature(pub, 'sha512', d512, ph)).toBe(true);
    expect(verifyDigestSignature(pub, 'sha256', digestOf('sha256', MESSAGE), ph)).toBe(false);
    // A pure Ed25519 signature over the digest bytes is a different scheme (no dom2 prefix).
    expect(verifyDigestSignature(pub, 'sha512', d512, ed25519.sign(d512, key.seed!))).toBe(false);
    expect(verifyDigestSignature(pub, 'sha512', d512, ed25519.sign(MESSAGE, key.seed!))).toBe(false);
  });

  it('matches the RFC 8032 §7.3 Ed25519ph test vector ("abc")', () => {
    const secret = Buffer.from('833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42', 'hex');
    const publicKey = Buffer.from('ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf', 'hex');
    const signature = Buffer.from(
      '98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406',
      'hex',
    );
    // SPKI for a raw Ed25519 key: the RFC 8410 prefix then the 32 key bytes.
    const spki = new Uint8Array([...Buffer.from('302a300506032b6570032100', 'hex'), ...publicKey]);
    const pub = parsePublicKey(spki, 'k');
    expect(verifyDigestSignature(pub, 'sha512', digestOf('sha512', 'abc'), signature)).toBe(true);
    expect(ed25519.getPublicKey(secret)).toEqual(new Uint8Array(publicKey));
  });
});

describe('verifyMessageSignature', () => {
  it('verifies pure Ed25519 over the message and ignores the hash', () => {
    const key = newTestKey('Ed25519');
    const pub = parsePublicKey(key.spki, 'k');
    const sig = sign(null, MESSAGE, key.privateKey);
    expect(verifyMessageSignature(pub, 'sha256', MESSAGE, sig)).toBe(true);
    expect(verifyMessageSignature(pub, 'sha256', MESSAGE.subarray(1), sig)).toBe(false);
  });

  it('verifies ECDSA with the hash it is told, and returns false on junk', () => {
    const key = newTestKey('P-384');
    const pub = parsePublicKey(key.spki, 'k');
    const sig = sign('sha384', MESSAGE, key.privateKey);
    expect(verifyMessageSignature(pub, 'sha384', MESSAGE, sig)).toBe(true);
    expect(verifyMessageSignature(pub, 'sha256', MESSAGE, sig)).toBe(false);
    expect(verifyMessageSignature(pub, 'sha256', MESSAGE, new Uint8Array([0x30, 0x02, 0x02, 0x00]))).toBe(false);
  });
});
