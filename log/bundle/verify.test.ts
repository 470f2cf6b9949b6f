// Tests of bundle building and verification against a real Vigil log (startLog + createLogApp on
// PGlite, over HTTP on loopback), a test CA with a CT key (testdata/fulcio.ts) and a real TSA
// (log/tsa): every bundle Vigil builds passes Vigil's verifier AND unmodified @sigstore/verify
// 3.1.1 with default thresholds; every broken bundle fails Vigil's verifier with its own code.
import { createHash, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPglite } from '../../test/db.ts';
import { startTestLogServer, type TestLogServer } from '../../test/log-http.ts';
import { encodeBase64 } from '../../tlog/base64.ts';
import { sha256 } from '../../tlog/sha256.ts';
import { loadCertificateTrust } from '../kinds/certificate-chain.ts';
import { encodeDssePae } from '../kinds/dsse.ts';
import type { RekorV1Entry, TransparencyLogEntryJson } from '../rekor-json.ts';
import { computeLogId } from '../set.ts';
import { createTimestampResponse } from '../tsa/response.ts';
import { initTsa, tsaCertificateAuthority, type Tsa } from '../tsa/tsa.ts';
import { formatBundle, formatV1Proposal, formatV2Request, type SignedContent } from './build.ts';
import { tlogEntryFromV1, tlogEntryFromV2, type BundleJson } from './bundle-json.ts';
import { isBundleError, type BundleErrorCode } from './errors.ts';
import { createTestFulcio, issueSigner, trustedRootJson, type TestFulcio, type TestSigner } from './testdata/fulcio.ts';
import { parseTrustedRoot, type TrustedRoot } from './trusted-root.ts';
import { verifyBundle, type VerifyPolicy } from './verify.ts';

const ISSUER = 'https://oidc.vigil.test';
const POLICY: VerifyPolicy = { identityRegex: 'alice@vigil\\.test', issuer: ISSUER };
const IN_TOTO = 'application/vnd.in-toto+json';

let fulcio: TestFulcio;
let alice: TestSigner;
let tsa: Tsa;
let server: TestLogServer;
let rootJson: Record<string, unknown>;
let root: TrustedRoot;
let dropDb: () => Promise<void>;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'vigil-bundle-'));
  fulcio = await createTestFulcio();
  alice = await issueSigner(fulcio);
  tsa = await initTsa(join(tmp, 'tsa'));
  const { db, drop } = await openTestPglite();
  dropDb = drop;
  const trust = loadCertificateTrust({ roots: [fulcio.root.der], intermediates: [fulcio.intermediate.der] });
  server = await startTestLogServer(db, { origin: 'log.vigil.test/bundle', trust });
  const log = { baseUrl: `https://${server.signer.name}`, logId: computeLogId(server.signer.name, server.signer.publicKey), publicKey: server.signer.publicKey };
  rootJson = trustedRootJson(fulcio, log, [tsaCertificateAuthority(tsa)]);
  root = parseTrustedRoot(JSON.stringify(rootJson));
});

afterAll(async () => {
  await server?.close();
  await dropDb?.();
  rmSync(tmp, { recursive: true, force: true });
});

interface Signed {
  artifact: Uint8Array;
  bundle: BundleJson;
}

function statementFor(artifact: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(artifact).digest('hex');
  return new TextEncoder().encode(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'artifact', digest: { sha256: digest } }], predicateType: 'https://vigil.test/p', predicate: {} }));
}

function contentFor(kind: 'message' | 'dsse', artifact: Uint8Array, signer: TestSigner): SignedContent {
  if (kind === 'message') return { type: 'message', digest: sha256(artifact), signature: new Uint8Array(sign('sha256', artifact, signer.privateKey)) };
  const payload = statementFor(artifact);
  const sig = sign('sha256', encodeDssePae(IN_TOTO, payload), signer.privateKey);
  return { type: 'dsse', envelope: { payload: encodeBase64(payload), payloadType: IN_TOTO, signatures: [{ sig: encodeBase64(sig), keyid: '' }] } };
}

function signatureOf(content: SignedContent): Uint8Array {
  return content.type === 'message' ? content.signature : new Uint8Array(Buffer.from(content.envelope.signatures[0]!.sig, 'base64'));
}

async function signAndLog(kind: 'message' | 'dsse', api: 'v1' | 'v2', signer = alice): Promise<Signed> {
  const artifact = randomBytes(64);
  const content = contentFor(kind, artifact, signer);
  const body = JSON.stringify(api === 'v1' ? formatV1Proposal(signer.der, content) : formatV2Request(signer.der, content));
  const res = await fetch(`${server.url}/api/${api}/log/entries`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const json = (await res.json()) as unknown;
  expect(res.status, JSON.stringify(json)).toBe(201);
  if (api === 'v1') {
    const entry = Object.values(json as Record<string, RekorV1Entry>)[0]!;
    return { artifact, bundle: formatBundle(signer.der, content, tlogEntryFromV1(entry)) };
  }
  const stamp = createTimestampResponse(tsa, { hash: 'sha256', hashedMessage: sha256(signatureOf(content)), certReq: false }, new Date());
  return { artifact, bundle: formatBundle(signer.der, content, tlogEntryFromV2(json as TransparencyLogEntryJson), [stamp.der]) };
}

function stockVerify(bundle: BundleJson, artifact: Uint8Array, policy = POLICY, trusted = rootJson): void {
  const trust = toTrustMaterial(ProtoTrustedRoot.fromJSON(trusted));
  const verifier = new Verifier(trust);
  const entity = toSignedEntity(bundleFromJSON(bundle), Buffer.from(artifact));
  verifier.verify(entity, { subjectAlternativeName: policy.identityRegex, extensions: { issuer: policy.issuer } });
}

function expectCode(fn: () => unknown, code: BundleErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isBundleError(thrown) ? thrown.code : thrown, isBundleError(thrown) ? thrown.message : String(thrown)).toBe(code);
}

const clone = (b: BundleJson): BundleJson => JSON.parse(JSON.stringify(b)) as BundleJson;

describe('bundles Vigil builds', () => {
  it.each([
    ['message signature, Rekor v1 (SET)', 'message', 'v1'],
    ['DSSE, Rekor v1 (SET)', 'dsse', 'v1'],
    ['message signature, Rekor v2 (RFC 3161 timestamp)', 'message', 'v2'],
    ['DSSE, Rekor v2 (dsse 0.0.2, RFC 3161 timestamp)', 'dsse', 'v2'],
  ] as const)('%s: verified by Vigil and by stock @sigstore/verify 3.1.1 with default thresholds', async (_name, kind, api) => {
    const { artifact, bundle } = await signAndLog(kind, api);
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.tlogEntries[0]!.kindVersion).toEqual({ kind: kind === 'message' ? 'hashedrekord' : 'dsse', version: api === 'v1' ? '0.0.1' : '0.0.2' });
    const verified = verifyBundle(artifact, bundle, root, POLICY);
    expect(verified.identity).toBe('alice@vigil.test');
    expect(verified.issuer).toBe(ISSUER);
    expect(verified.times).toHaveLength(1);
    stockVerify(bundle, artifact);
  });

});

describe('verifyBundle refuses', () => {
  let v1: Signed;
  let v2: Signed;
  let dsse: Signed;
  beforeAll(async () => {
    v1 = await signAndLog('message', 'v1');
    v2 = await signAndLog('message', 'v2');
    dsse = await signAndLog('dsse', 'v1');
  });

  it('an entry of another certificate (stock sigstore-js does not check this)', async () => {
    const bob = await issueSigner(fulcio, { email: 'bob@vigil.test' });
    const b = clone(v1.bundle);
    b.verificationMaterial.certificate = { rawBytes: encodeBase64(bob.der) };
    expectCode(() => verifyBundle(v1.artifact, b, root, POLICY), 'certificate_mismatch');
  });

  it('an unanchored identity match that stock sigstore-js accepts', async () => {
    const malice = await issueSigner(fulcio, { email: 'malice@vigil.test' });
    const { artifact, bundle } = await signAndLog('message', 'v1', malice);
    stockVerify(bundle, artifact); // 'alice@vigil\.test' matches inside 'malice@vigil.test'
    expectCode(() => verifyBundle(artifact, bundle, root, POLICY), 'identity_mismatch');
    expect(verifyBundle(artifact, bundle, root, { ...POLICY, identityRegex: 'malice@vigil\\.test' }).identity).toBe('malice@vigil.test');
  });

  const mutations: [string, BundleErrorCode, (b: BundleJson) => void, () => Signed][] = [
    ['an unknown log', 'unknown_log', (b) => { b.verificationMaterial.tlogEntries[0]!.logId.keyId = encodeBase64(new Uint8Array(32)); }, () => v1],
    ['a forged checkpoint signature', 'invalid_checkpoint', (b) => {
      const p = b.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint;
      p.envelope = p.envelope.replace(/\n([^\n]*)\n$/, (_m, line: string) => `\n${line.slice(0, -6)}${line.slice(-6) === 'AAAAA=' ? 'BAAAA=' : 'AAAAA='}\n`);
    }, () => v1],
    ['a wrong inclusion proof', 'invalid_inclusion_proof', (b) => {
      const e = b.verificationMaterial.tlogEntries[0]!;
      e.inclusionProof.hashes = [...e.inclusionProof.hashes, encodeBase64(new Uint8Array(32))];
    }, () => v1],
    ['a body that is not the logged one', 'invalid_inclusion_proof', (b) => {
      const e = b.verificationMaterial.tlogEntries[0]!;
      e.canonicalizedBody = encodeBase64(new TextEncoder().encode(Buffer.from(e.canonicalizedBody, 'base64').toString().replace('"sha256"', '"sha256" ')));
    }, () => v1],
    ['a SET for another time', 'invalid_entry_timestamp', (b) => {
      const e = b.verificationMaterial.tlogEntries[0]!;
      e.integratedTime = String(Number(e.integratedTime) + 1);
    }, () => v1],
    ['no time source', 'missing_timestamp', (b) => { delete b.verificationMaterial.timestampVerificationData; }, () => v2],
    ['a timestamp of another signature', 'invalid_timestamp', (b) => {
      const other = createTimestampResponse(tsa, { hash: 'sha256', hashedMessage: sha256(new Uint8Array([1])), certReq: false }, new Date());
      b.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: encodeBase64(other.der) }] };
    }, () => v2],
    ['another signature than the logged one', 'entry_mismatch', (b) => {
      b.messageSignature!.signature = encodeBase64(sign('sha256', v1.artifact, alice.privateKey));
    }, () => v1],
    ['a DSSE envelope with another payload type', 'invalid_signature', (b) => { b.dsseEnvelope!.payloadType = 'application/json'; }, () => dsse],
    ['a v0.1 media type', 'unsupported_bundle', (b) => { b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1'; }, () => v1],
    ['a bundle without log entries', 'malformed_bundle', (b) => { b.verificationMaterial.tlogEntries = []; }, () => v1],
  ];
  it.each(mutations)('%s (%s)', (_name, code, mutate, signed) => {
    const s = signed();
    const b = clone(s.bundle);
    mutate(b);
    expectCode(() => verifyBundle(s.artifact, b, root, POLICY), code);
  });

  it('another artifact', () => {
    expectCode(() => verifyBundle(randomBytes(64), v1.bundle, root, POLICY), 'artifact_mismatch');
    expectCode(() => verifyBundle(randomBytes(64), dsse.bundle, root, POLICY), 'artifact_mismatch');
  });

  it('another issuer, and a regex that does not compile', () => {
    expectCode(() => verifyBundle(v1.artifact, v1.bundle, root, { ...POLICY, issuer: 'https://other.test' }), 'issuer_mismatch');
    expectCode(() => verifyBundle(v1.artifact, v1.bundle, root, { ...POLICY, identityRegex: '(' }), 'invalid_policy');
  });

  it('a certificate from a CA the trusted root does not list', async () => {
    const other = await createTestFulcio();
    const log = { baseUrl: `https://${server.signer.name}`, logId: computeLogId(server.signer.name, server.signer.publicKey), publicKey: server.signer.publicKey };
    const json = trustedRootJson({ ...other, ctSpki: fulcio.ctSpki, ctKey: fulcio.ctKey }, log);
    expectCode(() => verifyBundle(v1.artifact, v1.bundle, parseTrustedRoot(json), POLICY), 'untrusted_certificate');
  });

  it('a certificate without an SCT, and one with a bad SCT', async () => {
    for (const [sct, code] of [['none', 'missing_sct'], ['corrupt', 'invalid_sct']] as const) {
      const signer = await issueSigner(fulcio, { sct });
      const { artifact, bundle } = await signAndLog('message', 'v1', signer);
      expectCode(() => verifyBundle(artifact, bundle, root, POLICY), code);
    }
  });

  it('malformed JSON and trusted roots', () => {
    expectCode(() => verifyBundle(v1.artifact, '{', root, POLICY), 'malformed_bundle');
    expectCode(() => verifyBundle(v1.artifact, {}, root, POLICY), 'malformed_bundle');
    expectCode(() => parseTrustedRoot('[]'), 'malformed_trusted_root');
  });
});

describe('verifyBundle on corrupted bundles', () => {
  it('throws only BundleErrors when any field is replaced by arbitrary JSON', async () => {
    const signed = [await signAndLog('message', 'v1'), await signAndLog('dsse', 'v2')];
    const paths = (v: unknown, at: (string | number)[] = []): (string | number)[][] =>
      typeof v === 'object' && v !== null ? [at, ...Object.entries(v).flatMap(([k, c]) => paths(c, [...at, Array.isArray(v) ? Number(k) : k]))] : [at];
    const cases = signed.flatMap((s) => paths(s.bundle).filter((p) => p.length > 0).map((p) => ({ s, p })));
    fc.assert(fc.property(fc.constantFrom(...cases), fc.jsonValue({ maxDepth: 2 }), ({ s, p }, value) => {
      const b = clone(s.bundle) as unknown as Record<string | number, unknown>;
      let node = b;
      for (const k of p.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
      node[p.at(-1)!] = value;
      try {
        verifyBundle(s.artifact, b, root, POLICY);
      } catch (err) {
        expect(isBundleError(err), String(err)).toBe(true);
      }
    }), { numRuns: 400 });
  });
});
