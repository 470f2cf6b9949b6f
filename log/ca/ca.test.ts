// The CA's keys (initCa/loadCa), the certificates it issues (Fulcio's profile, research notes 3.2),
// the precertificate it logs first and the SCT it embeds, over real HTTP on loopback.
import { createPublicKey, generateKeyPairSync, sign, webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import { fromBER, Utf8String } from 'asn1js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeVectors, readVectorJson } from '../../test/vectors.ts';
import { decodeBase64 } from '../../tlog/base64.ts';
import { x509 } from '../kinds/peculiar-x509.ts';
import { parsePem } from '../kinds/pem.ts';
import express from 'express';
import { systemClock } from '../../platform/clock.ts';
import { listen } from '../../platform/http.ts';
import { silentLogger } from '../../platform/logger.ts';
import { LogError } from '../errors.ts';
import { fetchDevToken, startCaTestServer, type CaTestServer } from './ca-test-server.ts';
import { createCaRouter } from './http.ts';
import { OID_CT_PRECERT_POISON, OID_CT_SCT_LIST } from './certificate.ts';
import { createDevOidcRouter, loadDevOidcKey } from './dev-oidc.ts';
import { isCaError } from './errors.ts';
import { CA_CHAIN_FILE, CA_INTERMEDIATE_KEY_FILE, CA_ROOT_KEY_FILE, CT_KEY_FILE, initCa, loadCa } from './keys.ts';
import { isBundleError } from '../bundle/errors.ts';
import { verifyEmbeddedScts } from '../bundle/sct.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigil-ca-keys-'));
  dirs.push(d);
  return d;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isCaError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

function bundleCodeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isBundleError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

describe('initCa and loadCa', () => {
  it('creates the keys (0600) and chain once, refuses to overwrite, and loads them', async () => {
    const dir = join(tempDir(), 'ca');
    const ca = await initCa(dir, { organization: 'example', commonName: 'example-ca' });
    for (const f of [CA_ROOT_KEY_FILE, CA_INTERMEDIATE_KEY_FILE, CT_KEY_FILE]) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    await expect(initCa(dir)).rejects.toMatchObject({ code: 'ca_exists' });
    const loaded = loadCa(dir);
    expect(Buffer.from(loaded.chain[0]).equals(Buffer.from(ca.chain[0]))).toBe(true);
    expect(loaded.subject).toEqual({ organization: 'example', commonName: 'example-ca' });
    expect(loaded.keysReadableByOthers).toBe(false);
    const [intermediate, root] = ca.chain.map((der) => new x509.X509Certificate(der));
    expect(intermediate!.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, pathLength: 0, critical: true });
    expect(intermediate!.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual(['1.3.6.1.5.5.7.3.3']);
    expect(await root!.isSelfSigned(webcrypto as never)).toBe(true);
    // The secret keys never appear in what loadCa returns as text.
    expect(JSON.stringify(loaded)).not.toContain('PRIVATE KEY');
  });

  it('refuses a missing CA, and an intermediate key that is not the certificate\'s', async () => {
    expect(codeOf(() => loadCa(join(tempDir(), 'none')))).toBe('invalid_config');
    const dir = join(tempDir(), 'ca');
    await initCa(dir);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' });
    writeFileSync(join(dir, CA_INTERMEDIATE_KEY_FILE), other);
    expect(codeOf(() => loadCa(dir))).toBe('invalid_config');
    writeFileSync(join(dir, CA_CHAIN_FILE), 'not pem');
    expect(codeOf(() => loadCa(dir))).toBe('invalid_config');
    expect(existsSync(join(dir, CT_KEY_FILE))).toBe(true);
  });
});

let server: CaTestServer;
const GITHUB_CLAIMS = {
  job_workflow_ref: 'org/repo/.github/workflows/release.yml@refs/tags/v1.0.0',
  job_workflow_sha: 'b'.repeat(40), repository: 'org/repo', repository_id: '42', repository_owner: 'org', repository_owner_id: '7',
  workflow_ref: 'org/repo/.github/workflows/release.yml@refs/tags/v1.0.0', workflow_sha: 'c'.repeat(40), workflow: 'release',
  event_name: 'push', ref: 'refs/tags/v1.0.0', sha: 'a'.repeat(40), run_id: '99', run_attempt: '1',
  runner_environment: 'github-hosted', repository_visibility: 'public',
};

beforeAll(async () => {
  server = await startCaTestServer({
    issuers: (url) => [{ issuerUrl: `${url}/oidc/github`, clientId: 'sigstore', kind: 'github-workflow' }],
    routers: async (url, caDir) => [createDevOidcRouter({ issuerUrl: `${url}/oidc/github`, pathPrefix: '/oidc/github' }, { key: await loadDevOidcKey(caDir), clock: { nowMs: () => Date.now() } })],
  });
});
afterAll(async () => {
  await server?.close();
});

async function issue(token: string, challenge: string): Promise<{ chain: x509.X509Certificate[]; leafDer: Uint8Array }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const content = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
  const res = await fetch(`${server.url}/api/v2/signingCert`, {
    method: 'POST',
    body: JSON.stringify({ credentials: { oidcIdentityToken: token }, publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content }, proofOfPossession: sign('sha256', Buffer.from(challenge), privateKey).toString('base64') } }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } };
  const ders = body.signedCertificateEmbeddedSct.chain.certificates.map((pem) => parsePem(pem, 'cert', 'malformed_certificate')[0]!.der);
  return { chain: ders.map((d) => new x509.X509Certificate(d)), leafDer: ders[0]! };
}

function utf8Ext(cert: x509.X509Certificate, oid: string): string | undefined {
  const e = cert.getExtension(oid);
  if (e === null) return undefined;
  return (fromBER(e.value).result as Utf8String).getValue();
}

/** tbsWithout re-encodes a certificate's TBS without the extension `oid` (as verifiers do). */
function tbsWithout(der: Uint8Array, oid: string): Uint8Array {
  const cert = AsnConvert.parse(der, asn.Certificate);
  cert.tbsCertificate.extensions = new asn.Extensions(cert.tbsCertificate.extensions!.filter((e) => e.extnID !== oid));
  return new Uint8Array(AsnConvert.serialize(cert.tbsCertificate));
}

describe('POST /api/v2/signingCert issues Fulcio-profile certificates, logged first', () => {
  it('an email certificate: profile, chain, precertificate entry and a valid embedded SCT', async () => {
    const email = 'carol@vigil.test';
    const { chain, leafDer } = await issue(await fetchDevToken(server.issuerUrl, { email }), email);
    const [leaf, intermediate, root] = chain;
    expect(chain).toHaveLength(3);
    expect(Buffer.from(intermediate!.rawData).equals(Buffer.from(server.ca.chain[0]))).toBe(true);
    expect(Buffer.from(root!.rawData).equals(Buffer.from(server.ca.chain[1]))).toBe(true);
    expect(leaf!.subject).toBe('');
    expect(leaf!.notAfter.getTime() - leaf!.notBefore.getTime()).toBe(10 * 60 * 1000);
    expect(leaf!.serialNumber).toMatch(/^[0-7][0-9a-f]{39}$/);
    expect(await leaf!.verify({ publicKey: intermediate!.publicKey, signatureOnly: true }, webcrypto as never)).toBe(true);
    const san = leaf!.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.critical).toBe(true);
    expect(san.names.toJSON()).toEqual([{ type: 'email', value: email }]);
    expect(leaf!.getExtension(x509.KeyUsagesExtension)).toMatchObject({ usages: x509.KeyUsageFlags.digitalSignature, critical: true });
    expect(leaf!.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual(['1.3.6.1.5.5.7.3.3']);
    expect(leaf!.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(intermediate!.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
    expect(Buffer.from(leaf!.getExtension('1.3.6.1.4.1.57264.1.1')!.value).toString()).toBe(server.issuerUrl);
    expect(utf8Ext(leaf!, '1.3.6.1.4.1.57264.1.8')).toBe(server.issuerUrl);
    expect(leaf!.extensions.at(-1)!.type).toBe(OID_CT_SCT_LIST);

    // The log's first entry is the precertificate; its TBS minus the poison is the leaf's minus the SCT list.
    const res = await fetch(`${server.url}/api/v1/log/entries?logIndex=0`);
    const entry = Object.values((await res.json()) as Record<string, { body: string }>)[0]!;
    const body = JSON.parse(Buffer.from(entry.body, 'base64').toString()) as { kind: string; spec: { precertificate: string; chain: string[]; timestamp: number } };
    expect(body.kind).toBe('precertificate');
    expect(body.spec.chain).toEqual(server.ca.chain.map((d) => Buffer.from(d).toString('base64')));
    const precert = decodeBase64(body.spec.precertificate);
    expect(new x509.X509Certificate(precert).getExtension(OID_CT_PRECERT_POISON)?.critical).toBe(true);
    const tbs = tbsWithout(precert, OID_CT_PRECERT_POISON);
    expect(Buffer.from(tbsWithout(leafDer, OID_CT_SCT_LIST)).equals(Buffer.from(tbs))).toBe(true);
    const list = new Uint8Array(AsnConvert.parse(leaf!.getExtension(OID_CT_SCT_LIST)!.value, OctetString).buffer);
    const sct = list.subarray(4);
    expect(Buffer.from(list).readUInt16BE(2)).toBe(sct.length);
    expect(Buffer.from(sct).readBigUInt64BE(33)).toBe(BigInt(body.spec.timestamp));
    // The verifier's check (log/bundle/sct.ts) accepts the SCT for this issuer and CT key only.
    const ctlog = { logId: server.ca.ctLogId, key: createPublicKey({ key: Buffer.from(server.ca.ctPublicKey), format: 'der', type: 'spki' }), validFor: { start: server.ca.validFrom } };
    expect(verifyEmbeddedScts(leafDer, server.ca.intermediateSpki, [ctlog]).map((s) => s.timestampMs)).toEqual([BigInt(body.spec.timestamp)]);
    const rootSpki = new Uint8Array(new x509.X509Certificate(server.ca.chain[1]).publicKey.rawData);
    expect(bundleCodeOf(() => verifyEmbeddedScts(leafDer, rootSpki, [ctlog]))).toBe('invalid_sct');
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(bundleCodeOf(() => verifyEmbeddedScts(leafDer, server.ca.intermediateSpki, [{ ...ctlog, key: otherKey }]))).toBe('invalid_sct');
  });

  it('a GitHub workflow certificate: URI SAN and the CI claims in 57264.1.x', async () => {
    const sub = 'repo:org/repo:ref:refs/tags/v1.0.0';
    const token = await fetchDevToken(`${server.url}/oidc/github`, { sub, claims: GITHUB_CLAIMS });
    const [leaf] = (await issue(token, sub)).chain;
    expect(leaf!.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([
      { type: 'url', value: 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0' },
    ]);
    const arc = (n: number) => utf8Ext(leaf!, `1.3.6.1.4.1.57264.1.${n}`);
    expect(arc(8)).toBe(`${server.url}/oidc/github`);
    expect(arc(9)).toBe('https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0');
    expect(arc(12)).toBe('https://github.com/org/repo');
    expect(arc(13)).toBe('a'.repeat(40));
    expect(arc(14)).toBe('refs/tags/v1.0.0');
    expect(arc(20)).toBe('push');
    expect(arc(21)).toBe('https://github.com/org/repo/actions/runs/99/attempts/1');
    expect(arc(22)).toBe('public');
    expect(arc(23)).toBeUndefined(); // no environment claim
    expect(arc(24)).toBe(sub);
    expect(Buffer.from(leaf!.getExtension('1.3.6.1.4.1.57264.1.5')!.value).toString()).toBe('org/repo'); // raw
  });

  it('a CSR is its own proof of possession', async () => {
    const email = 'dave@vigil.test';
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=ignored', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } }, webcrypto as never);
    const token = await fetchDevToken(server.issuerUrl, { email });
    const post = (value: string) => fetch(`${server.url}/api/v2/signingCert`, { method: 'POST', body: JSON.stringify({ credentials: { oidcIdentityToken: token }, certificateSigningRequest: value }) });
    const res = await post(Buffer.from(csr.toString('pem')).toString('base64'));
    expect(res.status).toBe(201);
    const bad = Buffer.from(csr.rawData);
    bad[bad.length - 5]! ^= 1; // inside the signature
    const badPem = `-----BEGIN CERTIFICATE REQUEST-----\n${bad.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const refused = await post(Buffer.from(badPem).toString('base64'));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: expect.stringMatching(/^(invalid_proof_of_possession|malformed_csr)$/) });
  });

  it('issues nothing when the log fails: 503 log_failed with Retry-After', async () => {
    // Fault injection around the real log: the append happens, then its outcome is "unknown".
    const failing = { addEntry: async (body: Uint8Array) => {
      await server.started.log.addEntry(body);
      throw new LogError('batch_failed', 'commit outcome unknown');
    } };
    const app = express();
    app.use(createCaRouter({ oidc: { issuers: [{ issuerUrl: server.issuerUrl, clientId: 'sigstore', kind: 'email' }] } }, { ca: server.ca, log: failing, clock: systemClock, logger: silentLogger() }));
    const other = await listen(app, '127.0.0.1', 0);
    try {
      const email = 'frank@vigil.test';
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const res = await fetch(`${other.url}/api/v2/signingCert`, {
        method: 'POST',
        body: JSON.stringify({
          credentials: { oidcIdentityToken: await fetchDevToken(server.issuerUrl, { email }) },
          publicKeyRequest: { publicKey: { content: createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString() }, proofOfPossession: sign('sha256', Buffer.from(email), privateKey).toString('base64') },
        }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ code: 'log_failed' });
      expect(body).not.toHaveProperty('signedCertificateEmbeddedSct');
    } finally {
      await other.close();
    }
  });

  it('serves the trust bundle, the configuration and the trusted root', async () => {
    const bundle = (await (await fetch(`${server.url}/api/v2/trustBundle`)).json()) as { chains: { certificates: string[] }[] };
    expect(bundle.chains[0]!.certificates).toHaveLength(2);
    const config = (await (await fetch(`${server.url}/api/v2/configuration`)).json()) as { issuers: Record<string, string>[] };
    expect(config.issuers).toEqual([
      { issuerUrl: server.issuerUrl, audience: 'sigstore', challengeClaim: 'email', issuerType: 'email' },
      { issuerUrl: `${server.url}/oidc/github`, audience: 'sigstore', challengeClaim: 'sub', issuerType: 'github-workflow' },
    ]);
    const root = (await (await fetch(`${server.url}/api/v1/trusted_root.json`)).json()) as Record<string, unknown>;
    expect(root).toMatchObject({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' });
    expect(JSON.stringify(root)).not.toContain('PRIVATE');
  });
});

/** realFulcioLeaf returns the public-good Fulcio certificate inside the real log2025-1 dsse entry. */
function realFulcioLeaf(): x509.X509Certificate {
  const file = readVectorJson<{ vectors: { entry_b64: string }[] }>('rekor/rekor-v2-inclusion.json');
  for (const v of file.vectors) {
    const body = JSON.parse(Buffer.from(v.entry_b64, 'base64').toString()) as { spec: { dsseV002?: { signatures: { verifier: { x509Certificate?: { rawBytes: string } } }[] } } };
    const raw = body.spec.dsseV002?.signatures[0]?.verifier.x509Certificate?.rawBytes;
    if (raw !== undefined) return new x509.X509Certificate(Buffer.from(raw, 'base64'));
  }
  throw new Error('no certificate in rekor/rekor-v2-inclusion.json');
}

const shape = (c: x509.X509Certificate) => c.extensions.map((e) => `${e.type}${e.critical ? ' critical' : ''}`);

describeVectors('issued certificates match a real Fulcio certificate (rekor/rekor-v2-inclusion.json, sigstore/sigstore-js fixtures)', () => {
  it('has the same subject, lifetime and extensions, in the same order, with the same criticality', async () => {
    const real = realFulcioLeaf();
    expect(real.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()[0]!.type).toBe('email');
    const email = 'erin@vigil.test';
    const [ours] = (await issue(await fetchDevToken(server.issuerUrl, { email }), email)).chain;
    expect(ours!.subject).toBe(real.subject);
    expect(ours!.notAfter.getTime() - ours!.notBefore.getTime()).toBe(real.notAfter.getTime() - real.notBefore.getTime());
    expect(shape(ours!)).toEqual(shape(real));
    expect(ours!.serialNumber.length).toBe(real.serialNumber.length);
  });
});
