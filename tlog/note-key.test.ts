import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { describeVectors, readVectorJson, readVectorText } from '../test/vectors.ts';
import { errorCodeOf } from '../test/tlog-errors.ts';
import { parseCosignerKey } from './cosignature.ts';
import { encodeUtf8, signNote, verifyNote } from './note.ts';
import {
  ed25519PublicKeyFromBytes,
  ed25519PublicKeyOfSeed,
  signEd25519,
  signEd25519Noble,
  verifyEd25519,
  verifyEd25519Noble,
  ed25519PrivateKeyFromSeed,
} from './note-ed25519.ts';
import { newEcdsaVerifier } from './note-ecdsa.ts';
import {
  NOTE_KEY_TYPE_COSIGNATURE_V1,
  NOTE_KEY_TYPE_ECDSA,
  NOTE_KEY_TYPE_ED25519,
  NOTE_KEY_TYPE_MLDSA44,
  computeKeyId,
  decodeVerifierKey,
} from './note-key-id.ts';
import { formatSignerKey, formatVerifierKey, generateSignerKey, parseSigner, parseSignerKey, parseVerifierKey } from './note-key.ts';

const SIGNED_NOTE = 'note/signed-note.json';
const DISTRIBUTOR_WITNESSES = 'config/distributor-witnesses-prod.yaml';
const OMNIWITNESS_LOGS = 'config/omniwitness-logs.yaml';

describeVectors(`verifier and signer keys: ${SIGNED_NOTE}`, () => {
  const go = readVectorJson(SIGNED_NOTE).go_sumdb_note;
  const bad = readVectorJson(SIGNED_NOTE).go_sumdb_note.bad_vkeys as { vkey: string; why: string }[];
  const vkey: string = go.keys.PeterNeumann.vkey;

  it.each(bad.map((b) => [b.vkey, b.why]))('rejects bad vkey %s (%s)', (k, why) => {
    const want = why.startsWith('unknown algorithm') ? 'unsupported_key_type' : 'malformed_key';
    expect(errorCodeOf(() => parseVerifierKey(k))).toBe(want);
  });

  it('rejects every strict substring of a valid vkey', () => {
    let n = 0;
    for (let i = 0; i <= vkey.length; i++) {
      for (let j = i; j <= vkey.length; j++) {
        if (j - i === vkey.length) continue;
        expect(errorCodeOf(() => parseVerifierKey(vkey.slice(i, j)))).toMatch(/^(malformed_key|unsupported_key_type)$/);
        n++;
      }
    }
    expect(n).toBeGreaterThan(2000);
  });

  it('rejects every single-character increment of a valid vkey', () => {
    for (let i = 0; i < vkey.length; i++) {
      const k = vkey.slice(0, i) + String.fromCharCode(vkey.charCodeAt(i) + 1) + vkey.slice(i + 1);
      expect(errorCodeOf(() => parseVerifierKey(k))).toMatch(/^(malformed_key|unsupported_key_type)$/);
    }
  });

  it('rejects an uppercase key ID (Go accepts it; Vigil wants one spelling per key)', () => {
    expect(errorCodeOf(() => parseVerifierKey(vkey.replace('c74f20a3', 'C74F20A3')))).toBe('malformed_key');
  });

  it('parses and formats the skey; its signer matches the vkey', () => {
    const skey: string = go.keys.PeterNeumann.skey;
    const key = parseSignerKey(skey);
    expect(key.name).toBe('PeterNeumann');
    expect(key.keyId).toBe(0xc74f20a3);
    expect(formatSignerKey(key)).toBe(skey);
    expect(formatVerifierKey({ name: key.name, type: NOTE_KEY_TYPE_ED25519, publicKey: key.publicKey })).toBe(vkey);
  });

  it.each([
    ['PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'malformed_key', 'wrong key ID'],
    ['PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF', 'malformed_key', 'bad base64'],
    ['PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'unsupported_key_type', 'type 0x02'],
    ['PRIVATE+KEY+PeterNeumann+c74f20a3', 'malformed_key', 'no key'],
    ['PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'malformed_key', 'space in name'],
    ['PRIVATE+KEYS+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'malformed_key', 'wrong prefix'],
    ['PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'malformed_key', 'a vkey'],
  ])('rejects skey %#: %s', (skey, want) => {
    expect(errorCodeOf(() => parseSignerKey(skey))).toBe(want);
    // The secret must not leak into the message.
    try {
      parseSignerKey(skey);
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('AYEKFALV');
    }
  });
});

describe('generated keys', () => {
  it('generateSignerKey gives an skey, a vkey and a signer that agree', () => {
    const { skey, vkey, signer } = generateSignerKey('example.com/log');
    const verifier = parseVerifierKey(vkey);
    expect(parseSigner(skey).publicKey).toEqual(signer.publicKey);
    expect(verifier.keyId).toBe(signer.keyId);
    expect(verifyNote(signNote('hello\n', [signer]), [verifier]).verified).toHaveLength(1);
    expect(errorCodeOf(() => generateSignerKey('bad name'))).toBe('invalid_argument');
  });

  it('parses a type-0x02 ECDSA vkey: key ID = SHA-256(SPKI)[:4], not the name formula; verifies signatures', () => {
    for (const namedCurve of ['P-256', 'P-384', 'P-521']) {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
      const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
      const vkey = formatVerifierKey({ name: 'ecdsa.example', type: NOTE_KEY_TYPE_ECDSA, publicKey: spki });
      const v = parseVerifierKey(vkey);
      expect(v.keyId).not.toBe(computeKeyId('ecdsa.example', NOTE_KEY_TYPE_ECDSA, spki));
      // The key ID does not depend on the name.
      expect(parseVerifierKey(formatVerifierKey({ name: 'other', type: NOTE_KEY_TYPE_ECDSA, publicKey: spki })).keyId).toBe(v.keyId);
      const text = 'some text\n';
      const sig = new Uint8Array(cryptoSign('sha256', encodeUtf8(text), privateKey));
      expect(verifyNote(signNote(text, [{ name: v.name, keyId: v.keyId, sign: () => sig }]), [v]).verified).toHaveLength(1);
      expect(v.verify(encodeUtf8('other text\n'), sig)).toBe(false);
      expect(v.verify(encodeUtf8(text), sig.subarray(1))).toBe(false);
    }
  });

  it('refuses type-0x02 keys that are not ECDSA on a NIST curve, or not canonical DER', () => {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'der', type: 'spki' });
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
    expect(errorCodeOf(() => newEcdsaVerifier('a', new Uint8Array(ed)))).toBe('malformed_key');
    expect(errorCodeOf(() => newEcdsaVerifier('a', new Uint8Array(k1)))).toBe('malformed_key');
    expect(errorCodeOf(() => newEcdsaVerifier('a', new Uint8Array([...p256, 0])))).toBe('malformed_key');
    expect(errorCodeOf(() => newEcdsaVerifier('a', new Uint8Array(40)))).toBe('malformed_key');
  });

  it('ML-DSA-44 (0x06) vkeys decode into subtree/v1 cosignature verifiers (tlog/cosignature.test.ts verifies lines)', () => {
    const pub = new Uint8Array(1312).map((_, i) => i);
    const vkey = formatVerifierKey({ name: 'mldsa.example', type: NOTE_KEY_TYPE_MLDSA44, publicKey: pub });
    expect(decodeVerifierKey(vkey)).toMatchObject({ type: 6, keyId: computeKeyId('mldsa.example', 6, pub) });
    expect(parseVerifierKey(vkey)).toMatchObject({ type: 6, keyId: computeKeyId('mldsa.example', 6, pub) });
    expect(parseCosignerKey(vkey)).toMatchObject({ type: 6, name: 'mldsa.example' });
    // Whatever a line says, a key that is not a valid ML-DSA-44 key verifies nothing (and never throws).
    expect(parseCosignerKey(vkey).verify(new TextEncoder().encode('example.com/log\n1\n' + 'A'.repeat(43) + '=\n'), new Uint8Array(2428))).toBe(false);
    expect(errorCodeOf(() => formatVerifierKey({ name: 'a', type: 6, publicKey: pub.subarray(1) }))).toBe('invalid_argument');
  });

  it('node:crypto and @noble/curves Ed25519 agree (signatures identical, verification equal)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), (seed, msg) => {
        const pub = ed25519PublicKeyOfSeed(seed);
        const sig = signEd25519(ed25519PrivateKeyFromSeed(seed), msg);
        expect(signEd25519Noble(seed, msg)).toEqual(sig);
        expect(verifyEd25519Noble(pub, msg, sig)).toBe(true);
        expect(verifyEd25519(ed25519PublicKeyFromBytes(pub), msg, sig)).toBe(true);
        const bad = sig.slice();
        bad[0] = (bad[0] as number) ^ 1;
        expect(verifyEd25519Noble(pub, msg, bad)).toBe(false);
        expect(verifyEd25519(ed25519PublicKeyFromBytes(pub), msg, bad)).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('vkeys round-trip: decodeVerifierKey(formatVerifierKey(k)) for names and Ed25519/cosigner keys', () => {
    const name = fc.array(fc.constantFrom(...'abz09./-_:', 'é', '日', '😀'), { minLength: 1, maxLength: 20 }).map((a) => a.join(''));
    fc.assert(
      fc.property(name, fc.constantFrom(1, 4), fc.uint8Array({ minLength: 32, maxLength: 32 }), (n, type, publicKey) => {
        const vkey = formatVerifierKey({ name: n, type, publicKey });
        expect(decodeVerifierKey(vkey)).toEqual({ name: n, type, publicKey, keyId: computeKeyId(n, type, publicKey) });
      }),
    );
  });

  it('verify() of every key type returns false, never throws, on arbitrary messages and signatures', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
    const pub = ed25519PublicKeyOfSeed(new Uint8Array(32));
    const keys = [
      parseVerifierKey(formatVerifierKey({ name: 'a', type: 1, publicKey: pub })),
      parseVerifierKey(formatVerifierKey({ name: 'a', type: 2, publicKey: new Uint8Array(ec) })),
      parseVerifierKey(formatVerifierKey({ name: 'a', type: 4, publicKey: pub })),
      parseVerifierKey(formatVerifierKey({ name: 'a', type: 5, publicKey: new Uint8Array(ec) })),
    ];
    const checkpointText = encodeUtf8(`a\n1\n${Buffer.alloc(32).toString('base64')}\n`);
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array(), fc.constant(checkpointText)), fc.uint8Array({ maxLength: 120 }), (msg, sig) => {
        for (const k of keys) expect(k.verify(msg, sig)).toBe(false);
      }),
    );
  });

  it('decodeVerifierKey never throws anything but TlogError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }).map((s) => `a+00000000+${s}`)), (s) => {
        expect(errorCodeOf(() => parseVerifierKey(s))).not.toBe('foreign error');
      }),
    );
  });
});

describeVectors(`witness keys: ${DISTRIBUTOR_WITNESSES}`, () => {
  const doc = parseYaml(readVectorText(DISTRIBUTOR_WITNESSES)) as { Witnesses: string[] };

  it('has the 16 ArmoredWitness keys, each a valid type-0x01 vkey', () => {
    expect(doc.Witnesses).toHaveLength(16);
    for (const vkey of doc.Witnesses) {
      const k = parseVerifierKey(vkey);
      expect(k.type).toBe(NOTE_KEY_TYPE_ED25519);
      expect(formatVerifierKey(k)).toBe(vkey);
    }
  });

  it('as cosigner keys they match on the 0x04 key ID, which differs from the published 0x01 one', () => {
    for (const vkey of doc.Witnesses) {
      const published = parseVerifierKey(vkey);
      const cosigner = parseCosignerKey(vkey);
      expect(cosigner.type).toBe(NOTE_KEY_TYPE_COSIGNATURE_V1);
      expect(cosigner.name).toBe(published.name);
      expect(cosigner.keyId).not.toBe(published.keyId);
      expect(cosigner.keyId).toBe(computeKeyId(published.name, NOTE_KEY_TYPE_COSIGNATURE_V1, published.publicKey));
      // The 0x04 form of the same key parses to the same cosigner.
      const type04 = formatVerifierKey({ name: published.name, type: NOTE_KEY_TYPE_COSIGNATURE_V1, publicKey: published.publicKey });
      expect(parseCosignerKey(type04).keyId).toBe(cosigner.keyId);
    }
  });

  it('ArmoredWitness-weathered-rain+ea3d386d signs as 0a78df20', () => {
    const vkey = doc.Witnesses.find((k) => k.startsWith('ArmoredWitness-weathered-rain+')) as string;
    expect(parseVerifierKey(vkey).keyId).toBe(0xea3d386d);
    expect(parseCosignerKey(vkey).keyId).toBe(0x0a78df20);
  });
});

describeVectors(`log keys: ${OMNIWITNESS_LOGS}`, () => {
  type Log = { Origin: string; URL: string; PublicKey: string; PublicKeyType?: string; Feeder: string };
  const logs = (parseYaml(readVectorText(OMNIWITNESS_LOGS)) as { Logs: Log[] }).Logs;

  it('every PublicKey parses: ecdsa = type 0x02 over a DER SPKI, otherwise type 0x01 Ed25519', () => {
    expect(logs.length).toBeGreaterThan(10);
    for (const log of logs) {
      const k = parseVerifierKey(log.PublicKey);
      expect(k.type).toBe(log.PublicKeyType === 'ecdsa' ? NOTE_KEY_TYPE_ECDSA : NOTE_KEY_TYPE_ED25519);
      expect(formatVerifierKey(k)).toBe(log.PublicKey);
    }
  });

  it('key names differ from origins for sumdb, Rekor v1, Pixel and the Armored Witness logs', () => {
    const differ = logs.filter((l) => parseVerifierKey(l.PublicKey).name !== l.Origin).map((l) => l.Origin);
    expect(differ).toContain('go.sum database tree');
    expect(differ).toContain('developers.google.com/android/binary_transparency/0');
    expect(differ).toContain('rekor.sigstore.dev - 3904496407287907110');
    expect(differ).toContain('transparency.dev/armored-witness/firmware_transparency/ci/3');
    const same = logs.filter((l) => parseVerifierKey(l.PublicKey).name === l.Origin).map((l) => l.Origin);
    expect(same).toContain('log2025-1.rekor.sigstore.dev');
    expect(same).toContain('developers.google.com/android/binary_transparency/google1p/0');
    // One Rekor v1 key serves three tree IDs (three origins).
    const rekor = logs.filter((l) => l.Origin.startsWith('rekor.sigstore.dev - '));
    expect(new Set(rekor.map((l) => l.PublicKey)).size).toBe(1);
    expect(rekor).toHaveLength(3);
  });
});
