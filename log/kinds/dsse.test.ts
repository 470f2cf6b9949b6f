import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { isLogError, type LogErrorCode } from '../errors.ts';
import { loadCertificateTrust, type CertificateTrust } from './certificate-chain.ts';
import { encodeDssePae, MAX_DSSE_SIGNATURES } from './dsse.ts';
import { parseCreateEntryRequest, parseProposedEntry, type EntryOptions } from './entry.ts';
import { createIntermediateCa, createRootCa, issueLeaf, LEAF_NOT_BEFORE, type TestCa } from './testdata/pki.ts';
import { b64, KEY_DETAILS, keyFromPrivate, newTestKey, pemBase64, protoVerifier, signPae, type TestKey, type TestKeyType } from './testdata/requests.ts';

const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const PAYLOAD = new TextEncoder().encode(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'pkg:npm/vigil@1.0.0', digest: { sha256: 'ab'.repeat(32) } }] }));
const NOW = new Date(LEAF_NOT_BEFORE.getTime() + 60_000);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sha256Hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

function codeOf(fn: () => unknown): LogErrorCode | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    if (!isLogError(err)) throw err;
    return err.code;
  }
}

describe('encodeDssePae', () => {
  it('matches the DSSE protocol examples', () => {
    // secure-systems-lab/dsse protocol.md test vector.
    expect(text(encodeDssePae('http://example.com/HelloWorld', new TextEncoder().encode('hello world')))).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    expect(text(encodeDssePae('', new Uint8Array(0)))).toBe('DSSEv1 0  0 ');
  });

  it('counts bytes, not characters, and keeps binary payloads intact', () => {
    const pae = encodeDssePae('tÿpe', new Uint8Array([0, 255, 32]));
    expect(Buffer.from(pae).toString('latin1')).toBe('DSSEv1 5 t\u00c3\u00bfpe 3 \u0000\u00ff ');
  });
});

const keys = new Map<TestKeyType, TestKey>();
function keyOf(type: TestKeyType): TestKey {
  if (!keys.has(type)) keys.set(type, newTestKey(type));
  return keys.get(type)!;
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

describe('dsse 0.0.1 (v1 API)', () => {
  function v1(signers: readonly TestKey[], verifiers: readonly string[] = signers.map((k) => pemBase64('PUBLIC KEY', k.spki)), extra: Record<string, unknown> = {}) {
    const envelope = JSON.stringify({ payload: b64(PAYLOAD), payloadType: PAYLOAD_TYPE, signatures: signers.map((k) => ({ sig: b64(signPae(k, 'sha256', PAYLOAD_TYPE, PAYLOAD)), keyid: '' })), ...extra });
    return { envelope, request: { apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope, verifiers } } } };
  }

  it.each(['P-256', 'P-384', 'RSA-2048', 'Ed25519'] as const)('accepts a %s signature (SHA-256 for ECDSA and RSA, as Rekor) and logs Rekor’s body', (type) => {
    const { envelope, request } = v1([keyOf(type)]);
    const entry = parseProposedEntry(JSON.stringify(request), options);
    const sig = JSON.parse(envelope).signatures[0].sig;
    expect(text(entry.canonicalBody)).toBe(
      `{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":"${sha256Hex(envelope)}"},"payloadHash":{"algorithm":"sha256","value":"${sha256Hex(PAYLOAD)}"},"signatures":[{"signature":"${sig}","verifier":"${pemBase64('PUBLIC KEY', keyOf(type).spki)}"}]}}`,
    );
    expect(entry.artifactDigest).toEqual({ algorithm: 'sha256', hex: sha256Hex(PAYLOAD) });
    expect(entry.dsse).toEqual({ payloadType: PAYLOAD_TYPE, payload: PAYLOAD });
  });

  it('sorts several signatures by their base64 text and pairs each with the key that verified it', () => {
    const signers = [keyOf('P-256'), keyOf('Ed25519'), keyOf('RSA-2048')];
    // Verifiers in another order than the signatures, plus one that verifies nothing.
    const verifiers = [keyOf('RSA-2048'), newTestKey('P-256'), keyOf('Ed25519'), keyOf('P-256')].map((k) => pemBase64('PUBLIC KEY', k.spki));
    const { envelope, request } = v1(signers, verifiers);
    const entry = parseProposedEntry(JSON.stringify(request), options);
    const body = JSON.parse(text(entry.canonicalBody));
    const sigs: string[] = JSON.parse(envelope).signatures.map((s: { sig: string }) => s.sig);
    expect(body.spec.signatures.map((s: { signature: string }) => s.signature)).toEqual([...sigs].sort());
    for (const s of body.spec.signatures) {
      const signer = signers[sigs.indexOf(s.signature)]!;
      expect(s.verifier).toBe(pemBase64('PUBLIC KEY', signer.spki));
    }
    expect(entry.signatures.map((s) => b64(s.signature))).toEqual([...sigs].sort());
  });

  it('ignores unknown envelope fields (DSSE spec), while the envelope hash covers them', () => {
    const plain = v1([keyOf('P-256')]);
    const extra = v1([keyOf('P-256')], undefined, { comment: 'x' });
    const a = parseProposedEntry(JSON.stringify(plain.request), options);
    const b = parseProposedEntry(JSON.stringify(extra.request), options);
    expect(JSON.parse(text(b.canonicalBody)).spec.envelopeHash.value).toBe(sha256Hex(extra.envelope));
    expect(a.leafHash).not.toEqual(b.leafHash);
  });

  it('accepts a certificate verifier that chains to the CA', async () => {
    const leaf = await issueLeaf(intermediate);
    const key = keyFromPrivate('P-256', leaf.privateKey, leaf.spki);
    const { request } = v1([key], [pemBase64('CERTIFICATE', leaf.der)]);
    const entry = parseProposedEntry(JSON.stringify(request), options);
    expect(entry.signatures[0]!.verifier).toMatchObject({ type: 'certificate', identity: { emails: ['alice@vigil.test'] } });
    expect(JSON.parse(text(entry.canonicalBody)).spec.signatures[0].verifier).toBe(pemBase64('CERTIFICATE', leaf.der));
  });

  it('refuses unverified, duplicated or malformed content with precise codes', () => {
    const cases: [string, (r: any, env: any) => void, LogErrorCode][] = [
      ['no verifier verifies', (r) => (r.spec.proposedContent.verifiers = [pemBase64('PUBLIC KEY', newTestKey('P-256').spki)]), 'invalid_signature'],
      ['payload changed', (r, env) => (env.payload = b64('other')), 'invalid_signature'],
      ['payloadType changed', (r, env) => (env.payloadType = 'text/plain'), 'invalid_signature'],
      ['duplicate signature', (r, env) => env.signatures.push(env.signatures[0]), 'malformed_entry'],
      ['no signatures', (r, env) => (env.signatures = []), 'malformed_entry'],
      ['too many signatures', (r, env) => (env.signatures = Array.from({ length: MAX_DSSE_SIGNATURES + 1 }, (_, i) => ({ sig: b64(`s${i}`) }))), 'malformed_entry'],
      ['sig not base64', (r, env) => (env.signatures[0].sig = '%%%'), 'malformed_entry'],
      ['keyid not a string', (r, env) => (env.signatures[0].keyid = 7), 'malformed_entry'],
      ['no verifiers', (r) => (r.spec.proposedContent.verifiers = []), 'malformed_entry'],
      ['server-computed field', (r) => (r.spec.envelopeHash = { algorithm: 'sha256', value: '00' }), 'malformed_entry'],
      ['verifier is not PEM', (r) => (r.spec.proposedContent.verifiers = [b64('hello')]), 'malformed_public_key'],
    ];
    for (const [name, mutate, code] of cases) {
      const { envelope, request } = v1([keyOf('P-256')]);
      const env = JSON.parse(envelope);
      const r: any = structuredClone(request);
      expect(JSON.stringify(env)).toBe(envelope);
      mutate(r, env);
      r.spec.proposedContent.envelope = JSON.stringify(env); // unchanged text when env was not mutated
      expect(codeOf(() => parseProposedEntry(JSON.stringify(r), options)), name).toBe(code);
    }
    const notJson = v1([keyOf('P-256')]).request;
    notJson.spec.proposedContent.envelope = '{"payload":';
    expect(codeOf(() => parseProposedEntry(JSON.stringify(notJson), options))).toBe('malformed_entry');
  });
});

describe('dsse 0.0.2 (v2 API, DSSERequestV002 as @sigstore/sign 4.1.1 sends it)', () => {
  function v2(key: TestKey, keyDetails: string, hash: 'sha256' | 'sha384' | 'sha512', which: 'publicKey' | 'x509Certificate' = 'publicKey', der = key.spki) {
    return {
      dsseRequestV002: {
        envelope: { payload: b64(PAYLOAD), payloadType: PAYLOAD_TYPE, signatures: [{ sig: b64(signPae(key, hash, PAYLOAD_TYPE, PAYLOAD)), keyid: '' }] },
        verifiers: [protoVerifier(keyDetails, which, der)],
      },
    };
  }

  it('logs the dsse 0.0.2 body for a certificate-signed envelope', async () => {
    const leaf = await issueLeaf(intermediate);
    const key = keyFromPrivate('P-256', leaf.privateKey, leaf.spki);
    const request = v2(key, 'PKIX_ECDSA_P256_SHA_256', 'sha256', 'x509Certificate', leaf.der);
    const entry = parseCreateEntryRequest(JSON.stringify(request), options);
    const sig = request.dsseRequestV002.envelope.signatures[0]!.sig;
    expect(text(entry.canonicalBody)).toBe(
      `{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{"payloadHash":{"algorithm":"SHA2_256","digest":"${createHash('sha256').update(PAYLOAD).digest('base64')}"},"signatures":[{"content":"${sig}","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","x509Certificate":{"rawBytes":"${b64(leaf.der)}"}}}]}}}`,
    );
    expect(entry.signatures[0]!.verifier.type).toBe('certificate');
  });

  it('verifies with the keyDetails hash, and pure Ed25519 for PKIX_ED25519', () => {
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(v2(keyOf('P-384'), 'PKIX_ECDSA_P384_SHA_384', 'sha384')), options))).toBe('no error');
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(v2(keyOf('P-384'), 'PKIX_ECDSA_P384_SHA_384', 'sha256')), options))).toBe('invalid_signature');
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(v2(keyOf('Ed25519'), 'PKIX_ED25519', 'sha512')), options))).toBe('no error');
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(v2(keyOf('RSA-2048'), KEY_DETAILS['RSA-2048'], 'sha256')), options))).toBe('no error');
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(v2(keyOf('P-384'), 'PKIX_ECDSA_P256_SHA_256', 'sha256')), options))).toBe('unsupported_algorithm');
  });

  it('refuses unknown fields and missing parts (protobuf JSON is strict here)', () => {
    const cases: [string, (r: any) => void, LogErrorCode][] = [
      ['unknown envelope field', (r) => (r.envelope.extra = 1), 'malformed_entry'],
      ['unknown signature field', (r) => (r.envelope.signatures[0].extra = 1), 'malformed_entry'],
      ['no verifiers', (r) => (r.verifiers = []), 'malformed_entry'],
      ['no envelope', (r) => delete r.envelope, 'malformed_entry'],
      ['payload not base64', (r) => (r.envelope.payload = '***'), 'malformed_entry'],
      ['tampered payload', (r) => (r.envelope.payload = b64('tampered')), 'invalid_signature'],
    ];
    for (const [name, mutate, code] of cases) {
      const request: any = v2(keyOf('P-256'), 'PKIX_ECDSA_P256_SHA_256', 'sha256');
      mutate(request.dsseRequestV002);
      expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(request), options)), name).toBe(code);
    }
  });
});
