// Real Sigstore data, reproduced byte for byte:
// - ../shared/vectors/rekor/rekor-v2-inclusion.json (source: sigstore/sigstore-js @ 769a53d8,
//   packages/sign/src/__tests__/external/rekor-v2.test.ts and
//   packages/verify/src/__tests__/__fixtures__/bundles.ts): each entry_b64 is a canonical body
//   log2025-1.rekor.sigstore.dev logged. Each is rebuilt from the v2 request a client would have
//   sent (digest, signature and verifier taken from the decoded body; for the dsse entry the
//   envelope's payload is "hello, world!", the payloadType "text/plain", which its payloadHash and
//   signature confirm), and must come out equal, with the same leaf hash.
// - log/kinds/testdata/sigstore-public-good.json: Rekor v1 (rekor.sigstore.dev) hashedrekord and
//   dsse 0.0.1 bodies from sigstore/sigstore-js @ 002b5b91, and the public-good Fulcio root and
//   intermediate from sigstore/root-signing @ 36800755, which the real Fulcio leaves chain to.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { b64 as vb64, describeVectors, readVectorJson } from '../../test/vectors.ts';
import { isLogError } from '../errors.ts';
import { loadCertificateTrust, verifyCertificateChain } from './certificate-chain.ts';
import { parseCertificate } from './certificate.ts';
import { x509 } from './peculiar-x509.ts';
import { encodeDssePae } from './dsse.ts';
import { parseCreateEntryRequest, parseProposedEntry } from './entry.ts';
import { parsePublicKey } from './public-key.ts';
import { verifyDigestSignature, verifyMessageSignature } from './verifier.ts';

const VECTOR_FILE = 'rekor/rekor-v2-inclusion.json';
const fixtures = JSON.parse(readFileSync(new URL('./testdata/sigstore-public-good.json', import.meta.url), 'utf8'));
const publicGoodTrust = loadCertificateTrust({
  roots: [vb64(fixtures.fulcio.root_der_b64)],
  intermediates: [vb64(fixtures.fulcio.intermediate_der_b64)],
});
const DSSE_PAYLOAD = new TextEncoder().encode('hello, world!');
const DSSE_PAYLOAD_TYPE = 'text/plain';

interface V2Vector {
  source: { path: string };
  entry_b64: string;
  leaf_hash_hex: string;
}

function decode(entryB64: string): any {
  return JSON.parse(Buffer.from(entryB64, 'base64').toString('utf8'));
}

// requestFor rebuilds the CreateEntryRequest a client sent for a logged v2 body.
function requestFor(body: any): unknown {
  if (body.kind === 'hashedrekord') {
    const h = body.spec.hashedRekordV002;
    return { hashedRekordRequestV002: { digest: h.data.digest, signature: h.signature } };
  }
  const d = body.spec.dsseV002;
  return {
    dsseRequestV002: {
      envelope: { payload: vb64ToStd(DSSE_PAYLOAD), payloadType: DSSE_PAYLOAD_TYPE, signatures: d.signatures.map((s: any) => ({ sig: s.content, keyid: '' })) },
      verifiers: d.signatures.map((s: any) => s.verifier),
    },
  };
}

function vb64ToStd(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

// A time inside every real Fulcio leaf in the v2 vectors (the dsse entry's leaf: 19:36:08–19:46:08).
const V2_DSSE_TIME = new Date('2025-12-11T19:40:00Z');

describeVectors(`Rekor v2 canonical bodies (shared/vectors/${VECTOR_FILE})`, () => {
  const vectors = readVectorJson<{ vectors: V2Vector[] }>(VECTOR_FILE).vectors;

  it('holds hashedrekord and dsse 0.0.2 bodies', () => {
    expect(vectors.map((v) => decode(v.entry_b64).kind).sort()).toEqual(['dsse', 'hashedrekord', 'hashedrekord']);
  });

  for (const [i, v] of vectors.entries()) {
    const body = decode(v.entry_b64);
    describe(`vector ${i} (${body.kind} ${body.apiVersion}, ${v.source.path})`, () => {
      it('rebuilds the canonical body byte for byte from the equivalent v2 request', () => {
        const entry = parseCreateEntryRequest(JSON.stringify(requestFor(body)), { trust: publicGoodTrust, integrationTime: V2_DSSE_TIME });
        expect(Buffer.from(entry.canonicalBody).toString('base64')).toBe(v.entry_b64);
        expect(Buffer.from(entry.leafHash).toString('hex')).toBe(v.leaf_hash_hex);
        expect(entry.kind).toBe(body.kind);
        expect(entry.apiVersion).toBe('0.0.2');
      });

      it('accepts the real signature (verifier alone, no chain)', () => {
        if (body.kind === 'hashedrekord') {
          const h = body.spec.hashedRekordV002;
          const spki = h.signature.verifier.publicKey?.rawBytes;
          const key = spki !== undefined ? parsePublicKey(vb64(spki), 'key') : parseCertificate(vb64(h.signature.verifier.x509Certificate.rawBytes), 'cert').publicKey;
          expect(verifyDigestSignature(key, 'sha256', vb64(h.data.digest), vb64(h.signature.content))).toBe(true);
          const tampered = vb64(h.data.digest);
          tampered[0]! ^= 1;
          expect(verifyDigestSignature(key, 'sha256', tampered, vb64(h.signature.content))).toBe(false);
        } else {
          const s = body.spec.dsseV002.signatures[0];
          const key = parseCertificate(vb64(s.verifier.x509Certificate.rawBytes), 'cert').publicKey;
          const pae = encodeDssePae(DSSE_PAYLOAD_TYPE, DSSE_PAYLOAD);
          expect(verifyMessageSignature(key, 'sha256', pae, vb64(s.content))).toBe(true);
          expect(verifyMessageSignature(key, 'sha256', encodeDssePae('text/html', DSSE_PAYLOAD), vb64(s.content))).toBe(false);
        }
      });
    });
  }

  it('chains the real Fulcio leaf of the dsse entry to the public-good root, only while it is valid', () => {
    const body = decode(vectors.find((v) => decode(v.entry_b64).kind === 'dsse')!.entry_b64);
    const leaf = parseCertificate(vb64(body.spec.dsseV002.signatures[0].verifier.x509Certificate.rawBytes), 'leaf');
    const chain = verifyCertificateChain(leaf, publicGoodTrust, V2_DSSE_TIME, 'leaf');
    expect(chain.map((c) => new x509.X509Certificate(c.der).subject)).toEqual(['', 'O=sigstore.dev, CN=sigstore-intermediate', 'O=sigstore.dev, CN=sigstore']);
    expect(leaf.identity).toEqual({
      emails: ['brian@dehamer.com'],
      uris: [],
      oidcIssuer: 'https://github.com/login/oauth',
      fulcioExtensions: { '1.3.6.1.4.1.57264.1.1': 'https://github.com/login/oauth', '1.3.6.1.4.1.57264.1.8': 'https://github.com/login/oauth' },
    });
    const late = new Date('2025-12-11T19:50:00Z');
    expect(() => verifyCertificateChain(leaf, publicGoodTrust, late, 'leaf')).toThrow(/expired at 2025-12-11T19:46:08.000Z/);
    const req = JSON.stringify(requestFor(body));
    expect(() => parseCreateEntryRequest(req, { trust: publicGoodTrust, integrationTime: late })).toThrow(expect.objectContaining({ code: 'untrusted_certificate' }));
    expect(() => parseCreateEntryRequest(req, { trust: null, integrationTime: V2_DSSE_TIME })).toThrow(expect.objectContaining({ code: 'untrusted_certificate' }));
  });
});

describe('Rekor v1 canonical bodies (testdata/sigstore-public-good.json, from sigstore/sigstore-js bundles.ts)', () => {
  it('rebuilds the hashedrekord 0.0.1 body byte for byte and chains its Fulcio leaf', () => {
    const fx = fixtures.rekor_v1.hashedrekord_v001;
    const logged = Buffer.from(fx.canonicalized_body_b64, 'base64');
    const body = JSON.parse(logged.toString('utf8'));
    // The client sent the same fields; re-serialising them in another order changes nothing.
    const request = { spec: body.spec, kind: body.kind, apiVersion: body.apiVersion };
    const entry = parseProposedEntry(JSON.stringify(request, null, 2), { trust: publicGoodTrust, integrationTime: new Date(fx.integrated_time * 1000) });
    expect(Buffer.from(entry.canonicalBody).equals(logged)).toBe(true);
    const v = entry.signatures[0]!.verifier;
    expect(v.type).toBe('certificate');
    if (v.type === 'certificate') {
      expect(v.identity.emails).toEqual(['brian@dehamer.com']);
      // This 2022 leaf carries only the deprecated .1 issuer extension.
      expect(v.identity.oidcIssuer).toBe('https://github.com/login/oauth');
      expect(v.chain).toHaveLength(3);
    }
    expect(entry.artifactDigest).toEqual({ algorithm: 'sha256', hex: '68e656b251e67e8358bef8483ab0d51c6619f3e7a1a9f0e75838d41ff368f728' });
  });

  it('rebuilds the dsse 0.0.1 body (envelope hash included) from the envelope sigstore-js sent', () => {
    const fx = fixtures.rekor_v1.dsse_v001;
    const logged = Buffer.from(fx.canonicalized_body_b64, 'base64');
    const body = JSON.parse(logged.toString('utf8'));
    // @sigstore/sign sends JSON.stringify of the protobuf-JSON envelope; its SHA-256 is the logged envelopeHash.
    const envelope = JSON.stringify({ payload: fx.envelope.payload, payloadType: fx.envelope.payloadType, signatures: [{ sig: fx.envelope.sig, keyid: '' }] });
    const request = { apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope, verifiers: [body.spec.signatures[0].verifier] } } };
    const entry = parseProposedEntry(JSON.stringify(request), { trust: publicGoodTrust, integrationTime: new Date(fx.integrated_time * 1000) });
    expect(Buffer.from(entry.canonicalBody).equals(logged)).toBe(true);
    expect(entry.dsse).toEqual({ payloadType: 'text/plain', payload: new TextEncoder().encode('hello, world!') });
  });

  it('refuses the same v1 entry once its certificate has expired', () => {
    const fx = fixtures.rekor_v1.hashedrekord_v001;
    const body = Buffer.from(fx.canonicalized_body_b64, 'base64').toString('utf8');
    let err: unknown;
    try {
      parseProposedEntry(body, { trust: publicGoodTrust, integrationTime: new Date((fx.integrated_time + 3600) * 1000) });
    } catch (e) {
      err = e;
    }
    expect(isLogError(err, 'untrusted_certificate')).toBe(true);
  });
});
