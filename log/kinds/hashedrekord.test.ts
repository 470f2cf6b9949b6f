import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { isLogError, type LogErrorCode } from '../errors.ts';
import { loadCertificateTrust, type CertificateTrust } from './certificate-chain.ts';
import { parseCreateEntryRequest, parseProposedEntry, type EntryOptions } from './entry.ts';
import { createIntermediateCa, createRootCa, issueLeaf, LEAF_NOT_BEFORE, type TestCa } from './testdata/pki.ts';
import {
  b64,
  digestOf,
  hashedRekordV001,
  hashedRekordV002,
  KEY_DETAILS,
  keyFromPrivate,
  NATURAL_HASH,
  newTestKey,
  pemBase64,
  protoVerifier,
  signArtifact,
  type TestKey,
  type TestKeyType,
} from './testdata/requests.ts';

const ARTIFACT = new TextEncoder().encode('release-1.2.3.tar.gz contents');
const NOW = new Date(LEAF_NOT_BEFORE.getTime() + 60_000);
const keys = new Map<TestKeyType, TestKey>();
function keyOf(type: TestKeyType): TestKey {
  if (!keys.has(type)) keys.set(type, newTestKey(type));
  return keys.get(type)!;
}

function codeOf(fn: () => unknown): LogErrorCode | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    if (!isLogError(err)) throw err;
    return err.code;
  }
}

let root: TestCa;
let intermediate: TestCa;
let trust: CertificateTrust;
let options: EntryOptions;
beforeAll(async () => {
  root = await createRootCa();
  intermediate = await createIntermediateCa(root);
  trust = loadCertificateTrust({ roots: [root.der], intermediates: [intermediate.der] });
  options = { trust, integrationTime: NOW };
});

describe('hashedrekord 0.0.1 (v1 API)', () => {
  function v1(type: TestKeyType, hash: 'sha256' | 'sha384' | 'sha512'): Record<string, any> {
    const key = keyOf(type);
    const digest = digestOf(hash, ARTIFACT);
    return hashedRekordV001(hash, Buffer.from(digest).toString('hex'), signArtifact(key, hash, ARTIFACT), pemBase64('PUBLIC KEY', key.spki));
  }

  it.each([
    ['P-256', 'sha256'],
    ['P-384', 'sha384'],
    ['P-521', 'sha512'],
    ['P-256', 'sha512'],
    ['RSA-2048', 'sha256'],
    ['RSA-2048', 'sha384'],
    ['Ed25519', 'sha512'],
  ] as const)('accepts a %s key over a %s digest and logs Rekor’s canonical body', (type, hash) => {
    const request = v1(type, hash);
    const entry = parseProposedEntry(JSON.stringify(request), options);
    const expected = `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"${hash}","value":"${request.spec.data.hash.value}"}},"signature":{"content":"${request.spec.signature.content}","publicKey":{"content":"${request.spec.signature.publicKey.content}"}}}}`;
    expect(new TextDecoder().decode(entry.canonicalBody)).toBe(expected);
    expect(entry).toMatchObject({ kind: 'hashedrekord', apiVersion: '0.0.1', artifactDigest: { algorithm: hash, hex: request.spec.data.hash.value } });
    expect(entry.signatures).toHaveLength(1);
    expect(entry.signatures[0]!.verifier).toMatchObject({ type: 'public_key', spki: keyOf(type).spki });
  });

  it('stores the key as Rekor canonical PEM whatever PEM layout the client sent', () => {
    const request = v1('P-256', 'sha256');
    const b64Der = Buffer.from(keyOf('P-256').spki).toString('base64');
    const loose = `\r\n-----BEGIN PUBLIC KEY-----\r\n${b64Der.slice(0, 40)}\r\n${b64Der.slice(40)}\r\n-----END PUBLIC KEY-----`;
    const a = parseProposedEntry(JSON.stringify(request), options);
    request.spec.signature.publicKey.content = b64(loose);
    const b = parseProposedEntry(JSON.stringify(request), options);
    expect(b.canonicalBody).toEqual(a.canonicalBody);
    expect(b.leafHash).toEqual(a.leafHash);
  });

  it('accepts a certificate that chains to the CA and returns its identity and chain', async () => {
    const leaf = await issueLeaf(intermediate, { email: 'bob@vigil.test' });
    const key = keyFromPrivate('P-256', leaf.privateKey, leaf.spki);
    const digest = digestOf('sha256', ARTIFACT);
    const request = hashedRekordV001('sha256', Buffer.from(digest).toString('hex'), signArtifact(key, 'sha256', ARTIFACT), pemBase64('CERTIFICATE', leaf.der));
    const entry = parseProposedEntry(JSON.stringify(request), options);
    const v = entry.signatures[0]!.verifier;
    expect(v.type).toBe('certificate');
    if (v.type !== 'certificate') return;
    expect(v.identity.emails).toEqual(['bob@vigil.test']);
    expect(v.identity.oidcIssuer).toBe('https://oauth.vigil.test');
    expect(v.chain).toEqual([leaf.der, intermediate.der, root.der]);
    expect(v.keyFingerprint).toBe(createHash('sha256').update(leaf.spki).digest('hex'));
    // The same request, once the 10-minute certificate has expired, or with no CA configured.
    expect(codeOf(() => parseProposedEntry(JSON.stringify(request), { trust, integrationTime: new Date(NOW.getTime() + 3_600_000) }))).toBe('untrusted_certificate');
    expect(codeOf(() => parseProposedEntry(JSON.stringify(request), { trust: null, integrationTime: NOW }))).toBe('untrusted_certificate');
  });

  it('accepts a PEM chain whose intermediate the CA configuration lacks, and logs the whole chain', async () => {
    const other = await createIntermediateCa(root, { name: 'CN=unlisted-intermediate' });
    const leaf = await issueLeaf(other);
    const key = keyFromPrivate('P-256', leaf.privateKey, leaf.spki);
    const pemChain = b64(Buffer.from(pemBase64('CERTIFICATE', leaf.der), 'base64').toString() + Buffer.from(pemBase64('CERTIFICATE', other.der), 'base64').toString());
    const request: Record<string, any> = hashedRekordV001('sha256', Buffer.from(digestOf('sha256', ARTIFACT)).toString('hex'), signArtifact(key, 'sha256', ARTIFACT), pemChain);
    const entry = parseProposedEntry(JSON.stringify(request), options);
    expect(entry.signatures[0]!.verifier).toMatchObject({ type: 'certificate', chain: [leaf.der, other.der, root.der] });
    expect(JSON.parse(new TextDecoder().decode(entry.canonicalBody)).spec.signature.publicKey.content).toBe(pemChain);
    // Without the intermediate the leaf does not chain.
    request.spec.signature.publicKey.content = pemBase64('CERTIFICATE', leaf.der);
    expect(codeOf(() => parseProposedEntry(JSON.stringify(request), options))).toBe('untrusted_certificate');
  });

  it('refuses tampered digests, wrong keys and bad encodings with precise codes', () => {
    const cases: [string, (r: Record<string, any>) => void, LogErrorCode][] = [
      ['tampered digest', (r) => (r.spec.data.hash.value = `00${r.spec.data.hash.value.slice(2)}`), 'invalid_signature'],
      ['another key', (r) => (r.spec.signature.publicKey.content = pemBase64('PUBLIC KEY', newTestKey('P-256').spki)), 'invalid_signature'],
      ['uppercase hex', (r) => (r.spec.data.hash.value = r.spec.data.hash.value.toUpperCase()), 'malformed_entry'],
      ['short hex', (r) => (r.spec.data.hash.value = r.spec.data.hash.value.slice(2)), 'malformed_entry'],
      ['md5', (r) => (r.spec.data.hash.algorithm = 'md5'), 'unsupported_algorithm'],
      ['sha256 value under sha512', (r) => (r.spec.data.hash.algorithm = 'sha512'), 'malformed_entry'],
      ['unknown spec field', (r) => (r.spec.data.content = 'x'), 'malformed_entry'],
      ['missing signature', (r) => delete r.spec.signature, 'malformed_entry'],
      ['signature not base64', (r) => (r.spec.signature.content = 'not base64!'), 'malformed_entry'],
      ['signature unpadded', (r) => (r.spec.signature.content = 'AAA'), 'malformed_entry'],
      ['signature with a line break', (r) => (r.spec.signature.content = `${r.spec.signature.content.slice(0, 4)}\n${r.spec.signature.content.slice(4)}`), 'malformed_entry'],
      ['key is DER, not PEM', (r) => (r.spec.signature.publicKey.content = b64(keyOf('P-256').spki)), 'malformed_public_key'],
      ['key is a private key', (r) => (r.spec.signature.publicKey.content = b64(keyOf('P-256').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string)), 'malformed_public_key'],
      ['two public keys', (r) => (r.spec.signature.publicKey.content = pemBase64('PUBLIC KEY', keyOf('P-256').spki) + pemBase64('PUBLIC KEY', keyOf('P-256').spki)), 'malformed_entry'],
      ['number for content', (r) => (r.spec.signature.content = 5), 'malformed_entry'],
    ];
    for (const [name, mutate, code] of cases) {
      const request = v1('P-256', 'sha256');
      mutate(request);
      expect(codeOf(() => parseProposedEntry(JSON.stringify(request), options)), name).toBe(code);
    }
  });

  it('refuses Ed25519 keys except as Ed25519ph over a sha512 digest', () => {
    const request = v1('Ed25519', 'sha512');
    request.spec.data.hash = { algorithm: 'sha256', value: Buffer.from(digestOf('sha256', ARTIFACT)).toString('hex') };
    expect(codeOf(() => parseProposedEntry(JSON.stringify(request), options))).toBe('unsupported_algorithm');
  });

  it('refuses RSA keys under 2048 bits and curves outside P-256/384/521', () => {
    // Built inline: these are not TestKeyTypes on purpose.
    const spkis = [
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
      generateKeyPairSync('ed448').publicKey,
    ].map((k) => new Uint8Array(k.export({ format: 'der', type: 'spki' })));
    for (const spki of spkis) {
      const request = hashedRekordV001('sha256', Buffer.from(digestOf('sha256', ARTIFACT)).toString('hex'), new Uint8Array(128), pemBase64('PUBLIC KEY', spki));
      expect(codeOf(() => parseProposedEntry(JSON.stringify(request), options))).toBe('unsupported_algorithm');
    }
  });
});

describe('hashedrekord 0.0.2 (v2 API)', () => {
  function v2(type: TestKeyType, keyDetails = KEY_DETAILS[type], hash = NATURAL_HASH[type]): Record<string, any> {
    const key = keyOf(type);
    return hashedRekordV002(digestOf(hash, ARTIFACT), signArtifact(key, hash, ARTIFACT), protoVerifier(keyDetails, 'publicKey', key.spki));
  }

  it.each(['P-256', 'P-384', 'P-521', 'RSA-2048', 'RSA-3072', 'Ed25519'] as const)('accepts %s with its registry keyDetails and logs the rekor-tiles body', (type) => {
    const request = v2(type);
    const r = request.hashedRekordRequestV002;
    const entry = parseCreateEntryRequest(JSON.stringify(request), options);
    const algorithm = { sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' }[NATURAL_HASH[type]];
    const expected = `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"${algorithm}","digest":"${r.digest}"},"signature":{"content":"${r.signature.content}","verifier":{"keyDetails":"${KEY_DETAILS[type]}","publicKey":{"rawBytes":"${r.signature.verifier.publicKey.rawBytes}"}}}}}}`;
    expect(new TextDecoder().decode(entry.canonicalBody)).toBe(expected);
    expect(entry.artifactDigest).toEqual({ algorithm: NATURAL_HASH[type], hex: Buffer.from(r.digest, 'base64').toString('hex') });
  });

  it('accepts an x509Certificate verifier that chains to the CA', async () => {
    const leaf = await issueLeaf(intermediate, { uri: 'https://ci.vigil.test/workflows/release' });
    const key = keyFromPrivate('P-256', leaf.privateKey, leaf.spki);
    const request = hashedRekordV002(digestOf('sha256', ARTIFACT), signArtifact(key, 'sha256', ARTIFACT), protoVerifier('PKIX_ECDSA_P256_SHA_256', 'x509Certificate', leaf.der));
    const entry = parseCreateEntryRequest(JSON.stringify(request), options);
    expect(new TextDecoder().decode(entry.canonicalBody)).toContain(`"verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","x509Certificate":{"rawBytes":"${b64(leaf.der)}"}}`);
    const v = entry.signatures[0]!.verifier;
    expect(v.type === 'certificate' && v.identity.uris).toEqual(['https://ci.vigil.test/workflows/release']);
  });

  it('keeps rekor-tiles’ rule: keyDetails picks the hash, the (key, hash) pair must be allowed', () => {
    // An RSA-2048 key labelled PKIX_ECDSA_P256_SHA_256 (as @sigstore/sign 4.1.1 labels every key)
    // still forms the allowed pair (RSA-2048, SHA-256); rekor-tiles logs it with that label.
    const rsa = v2('RSA-2048', 'PKIX_ECDSA_P256_SHA_256', 'sha256');
    expect(new TextDecoder().decode(parseCreateEntryRequest(JSON.stringify(rsa), options).canonicalBody)).toContain('"keyDetails":"PKIX_ECDSA_P256_SHA_256"');
    // A P-256 key labelled P-384/SHA-384 forms (P-256, SHA-384): refused.
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(v2('P-256', 'PKIX_ECDSA_P384_SHA_384', 'sha384')), options))).toBe('unsupported_algorithm');
    // Pure Ed25519 cannot sign a digest (rekor-tiles #872, #927).
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(v2('Ed25519', 'PKIX_ED25519', 'sha512')), options))).toBe('unsupported_algorithm');
    for (const name of ['ML_DSA_65', 'PKIX_RSA_PSS_2048_SHA256', 'PKIX_ECDSA_P384_SHA_256', 'PUBLIC_KEY_DETAILS_UNSPECIFIED', 'toString']) {
      expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(v2('P-256', name)), options)), name).toBe('unsupported_algorithm');
    }
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(v2('P-256', 5 as unknown as string)), options))).toBe('malformed_entry');
  });

  it('refuses a digest of the wrong length, a tampered digest, and malformed verifiers', () => {
    const cases: [string, (r: Record<string, any>) => void, LogErrorCode][] = [
      ['sha384-sized digest for P-256', (r) => (r.digest = b64(digestOf('sha384', ARTIFACT))), 'malformed_entry'],
      ['tampered digest', (r) => (r.digest = b64(digestOf('sha256', 'another artifact'))), 'invalid_signature'],
      ['empty digest', (r) => (r.digest = ''), 'malformed_entry'],
      ['empty signature', (r) => (r.signature.content = ''), 'malformed_entry'],
      ['both key and certificate', (r) => (r.signature.verifier.x509Certificate = { rawBytes: 'AAAA' }), 'malformed_entry'],
      ['neither key nor certificate', (r) => delete r.signature.verifier.publicKey, 'malformed_entry'],
      ['missing keyDetails', (r) => delete r.signature.verifier.keyDetails, 'malformed_entry'],
      ['snake_case field', (r) => (r.signature.verifier.publicKey = { raw_bytes: r.signature.verifier.publicKey.rawBytes }), 'malformed_entry'],
      // Always holds a url-safe character: a random signature has no '+' or '/' about one time in twenty.
      ['url-safe base64', (r) => (r.signature.content = '_' + r.signature.content.slice(1).replace(/\+/g, '-').replace(/\//g, '_')), 'malformed_entry'],
      ['garbage key', (r) => (r.signature.verifier.publicKey.rawBytes = b64(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))), 'malformed_public_key'],
      ['garbage certificate', (r) => (r.signature.verifier = { x509Certificate: { rawBytes: b64(new Uint8Array([0x30, 0x00])) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }), 'malformed_certificate'],
      ['extra field', (r) => (r.extra = true), 'malformed_entry'],
    ];
    for (const [name, mutate, code] of cases) {
      const request = v2('P-256');
      mutate(request.hashedRekordRequestV002);
      expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(request), options)), name).toBe(code);
    }
  });

  it('refuses a compressed EC point, which would give one key two fingerprints', () => {
    const key = keyOf('P-256');
    const jwk = createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' }).export({ format: 'jwk' });
    const y = Buffer.from(jwk.y!, 'base64url');
    const x = Buffer.from(jwk.x!, 'base64url');
    // The same key as a compressed point (SEC 1: 02/03 || X): the 91-byte SPKI's AlgorithmIdentifier
    // (bytes 2..23), then a 34-byte BIT STRING.
    const point = new Uint8Array([(y[y.length - 1]! & 1) === 1 ? 3 : 2, ...x]);
    const algId = key.spki.subarray(2, 2 + 21);
    const bitString = new Uint8Array([0x03, point.length + 1, 0x00, ...point]);
    const spki = new Uint8Array([0x30, algId.length + bitString.length, ...algId, ...bitString]);
    const request = hashedRekordV002(digestOf('sha256', ARTIFACT), signArtifact(key, 'sha256', ARTIFACT), protoVerifier('PKIX_ECDSA_P256_SHA_256', 'publicKey', spki));
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(request), options))).toBe('malformed_public_key');
  });
});
