// Tests of the timestamp authority: its files (initTsa/loadTsa), its tokens as @sigstore/core
// 3.2.1 parses and verifies them (the parser stock @sigstore/verify uses), and its HTTP answers to
// good and malformed requests, over real HTTP on loopback.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crypto as sigstoreCrypto, RFC3161Timestamp, X509Certificate as SigstoreCertificate } from '@sigstore/core';
import { SignedData } from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { MessageImprint, TimeStampReq, TimeStampResp, TSTInfo } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier, Extension, Extensions } from '@peculiar/asn1-x509';
import express from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../platform/clock.ts';
import { listen, type Listening } from '../../platform/http.ts';
import { silentLogger } from '../../platform/logger.ts';
import { isTsaError } from './errors.ts';
import { OID_SIGNING_CERTIFICATE_V2, SigningCertificateV2 } from './ess.ts';
import { createTsaRouter, MAX_TIMESTAMP_REQUEST_BYTES } from './http.ts';
import { HASH_OIDS, parseTimeStampReq } from './request.ts';
import { initTsa, loadTsa, OID_EKU_TIME_STAMPING, SIGSTORE_TSA_POLICY_OID, TSA_CHAIN_FILE, TSA_ROOT_KEY_FILE, TSA_SIGNING_KEY_FILE, tsaCertificateAuthority, type Tsa } from './tsa.ts';

const SIGNATURE = new TextEncoder().encode('a signature the client timestamps');
const IMPRINT = new Uint8Array(createHash('sha256').update(SIGNATURE).digest());

function tsq(opts: { hashOid?: string; imprint?: Uint8Array; nonce?: Uint8Array; certReq?: boolean; policy?: string; extensions?: boolean; version?: number } = {}): Uint8Array {
  const req = new TimeStampReq({
    version: opts.version ?? 1,
    messageImprint: new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: opts.hashOid ?? HASH_OIDS.sha256 }), hashedMessage: new OctetString(opts.imprint ?? IMPRINT) }),
    certReq: opts.certReq ?? false,
    ...(opts.nonce === undefined ? {} : { nonce: opts.nonce.slice().buffer }),
    ...(opts.policy === undefined ? {} : { reqPolicy: opts.policy }),
    ...(opts.extensions ? { extensions: new Extensions([new Extension({ extnID: '1.2.3.4', critical: false, extnValue: new OctetString(new Uint8Array([5, 0])) })]) } : {}),
  });
  return new Uint8Array(AsnConvert.serialize(req));
}

function signedDataOf(resp: Uint8Array): SignedData {
  const parsed = AsnConvert.parse(resp, TimeStampResp);
  return AsnConvert.parse(parsed.timeStampToken!.content, SignedData);
}

function tstInfoOf(resp: Uint8Array): TSTInfo {
  return AsnConvert.parse(signedDataOf(resp).encapContentInfo.eContent!.single!.buffer, TSTInfo);
}

function verifyWithSigstore(tsa: Tsa, resp: Uint8Array, signed: Uint8Array): RFC3161Timestamp {
  const ts = RFC3161Timestamp.parse(Buffer.from(resp));
  ts.verify(Buffer.from(signed), sigstoreCrypto.createPublicKey(Buffer.from(tsa.leaf.publicKey.export({ format: 'der', type: 'spki' }))));
  // What @sigstore/verify matches against certChain[0] of the trusted root's TSA.
  const leaf = SigstoreCertificate.parse(Buffer.from(tsa.chain[0]));
  expect(Buffer.compare(ts.signerSerialNumber, leaf.serialNumber)).toBe(0);
  expect(Buffer.compare(ts.signerIssuer, leaf.issuer)).toBe(0);
  return ts;
}

let root: string;
let tsa: Tsa;
const clock = manualClock(Date.parse('2026-06-01T10:20:30.500Z'));
let server: Listening;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vigil-tsa-'));
  tsa = await initTsa(join(root, 'tsa'), { now: new Date('2026-01-01T00:00:00Z') });
  const app = express();
  app.use(createTsaRouter(tsa, { clock, logger: silentLogger() }));
  server = await listen(app, '127.0.0.1', 0);
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

async function post(body: Uint8Array | string, type = 'application/timestamp-query'): Promise<{ status: number; type: string; body: Uint8Array; json: any }> {
  const res = await fetch(`${server.url}/api/v1/timestamp`, { method: 'POST', body, headers: { 'content-type': type } });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const ct = res.headers.get('content-type') ?? '';
  return { status: res.status, type: ct, body: bytes, json: ct.startsWith('application/json') ? JSON.parse(new TextDecoder().decode(bytes)) : undefined };
}

describe('initTsa / loadTsa', () => {
  it('writes 0600 keys and a leaf + root chain whose leaf has the critical timeStamping EKU', () => {
    const dir = join(root, 'tsa');
    for (const f of [TSA_SIGNING_KEY_FILE, TSA_ROOT_KEY_FILE]) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    const leaf = new X509Certificate(tsa.chain[0]);
    const rootCert = new X509Certificate(tsa.chain[1]);
    expect(leaf.verify(rootCert.publicKey)).toBe(true);
    expect(rootCert.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.keyUsage).toEqual([OID_EKU_TIME_STAMPING]);
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(readFileSync(join(dir, TSA_CHAIN_FILE), 'utf8')).toContain('BEGIN CERTIFICATE');
    const loaded = loadTsa(dir);
    expect(Buffer.from(loaded.chain[0]).equals(Buffer.from(tsa.chain[0]))).toBe(true);
  });

  it('refuses to overwrite an existing TSA', async () => {
    await expect(initTsa(join(root, 'tsa'))).rejects.toSatisfy((e) => isTsaError(e, 'tsa_exists'));
  });

  it('refuses a missing folder and a key that is not the certificate\'s', async () => {
    expect(() => loadTsa(join(root, 'nothing'))).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    const other = await initTsa(join(root, 'other'));
    expect(other.chain[0]).not.toEqual(tsa.chain[0]);
    writeFileSync(join(root, 'other', TSA_SIGNING_KEY_FILE), readFileSync(join(root, 'tsa', TSA_SIGNING_KEY_FILE)));
    expect(() => loadTsa(join(root, 'other'))).toThrow(/not the key of the TSA certificate/);
  });

  it('names the TSA as configured, and refuses names that would need escaping', async () => {
    await initTsa(join(root, 'named'), { organization: 'Example Org', commonName: 'example-tsa' });
    expect(loadTsa(join(root, 'named')).subject).toEqual({ organization: 'Example Org', commonName: 'example-tsa' });
    await expect(initTsa(join(root, 'bad'), { commonName: 'a,CN=b' })).rejects.toSatisfy((e) => isTsaError(e, 'invalid_config'));
  });

  it('gives the trusted root entry with the signing certificate first', () => {
    const entry = tsaCertificateAuthority(tsa);
    expect(entry.certChain.certificates.map((c) => c.rawBytes)).toEqual(tsa.chain.map((d) => Buffer.from(d).toString('base64')));
    expect(Date.parse(entry.validFor.start)).toBeLessThanOrEqual(clock.nowMs());
    expect(entry.subject).toEqual({ organization: 'vigil', commonName: 'vigil-tsa' });
  });
});

describe('POST /api/v1/timestamp', () => {
  it('answers a DER request with a token @sigstore/core verifies, genTime in whole seconds, nonce copied', async () => {
    const nonce = new Uint8Array([0x00, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78]);
    const res = await post(tsq({ nonce }));
    expect(res.status).toBe(201);
    expect(res.type).toBe('application/timestamp-reply');
    const ts = verifyWithSigstore(tsa, res.body, SIGNATURE);
    expect(ts.status).toBe(0n);
    // The clock is at .500: a "…30.5Z" genTime would not parse in @sigstore/core 3.2.1.
    expect(ts.signingTime.toISOString()).toBe('2026-06-01T10:20:30.000Z');
    const info = tstInfoOf(res.body);
    expect(new Uint8Array(info.nonce!)).toEqual(nonce);
    expect(info.policy).toBe(SIGSTORE_TSA_POLICY_OID);
    expect(signedDataOf(res.body).certificates).toBeUndefined();
  });

  it('includes the TSA certificate when certReq is set, and signs an ESSCertIDv2 of it', async () => {
    const res = await post(tsq({ certReq: true }));
    expect(res.status).toBe(201);
    verifyWithSigstore(tsa, res.body, SIGNATURE);
    const sd = signedDataOf(res.body);
    expect(sd.certificates).toHaveLength(1);
    expect(new Uint8Array(AsnConvert.serialize(sd.certificates![0]!.certificate!))).toEqual(tsa.chain[0]);
    const attr = sd.signerInfos[0]!.signedAttrs!.find((a) => a.attrType === OID_SIGNING_CERTIFICATE_V2)!;
    const ess = AsnConvert.parse(attr.attrValues[0]!, SigningCertificateV2);
    expect(new Uint8Array(ess.certs[0]!.certHash.buffer)).toEqual(new Uint8Array(createHash('sha256').update(tsa.chain[0]).digest()));
  });

  it('answers the JSON form @sigstore/sign sends', async () => {
    const res = await post(JSON.stringify({ artifactHash: Buffer.from(IMPRINT).toString('base64'), hashAlgorithm: 'sha256', nonce: 123456789, certificates: true }), 'application/json');
    expect(res.status).toBe(201);
    verifyWithSigstore(tsa, res.body, SIGNATURE);
    expect(Buffer.from(tstInfoOf(res.body).nonce!).toString('hex')).toBe((123456789).toString(16).padStart(8, '0'));
  });

  it('stamps SHA-384 and SHA-512 imprints', async () => {
    for (const hash of ['sha384', 'sha512'] as const) {
      const res = await post(tsq({ hashOid: HASH_OIDS[hash], imprint: new Uint8Array(createHash(hash).update(SIGNATURE).digest()) }));
      expect(res.status).toBe(201);
      verifyWithSigstore(tsa, res.body, SIGNATURE);
    }
  });

  it('serves the chain as PEM, leaf first', async () => {
    const res = await fetch(`${server.url}/api/v1/timestamp/certchain`);
    const pem = await res.text();
    expect(new X509Certificate(pem).raw).toEqual(Buffer.from(tsa.chain[0]));
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  const bad: [string, () => Uint8Array | string, string, number, string][] = [
    ['garbage', () => new Uint8Array([1, 2, 3]), 'application/timestamp-query', 400, 'malformed_request'],
    ['empty body', () => new Uint8Array(0), 'application/timestamp-query', 400, 'malformed_request'],
    ['trailing bytes', () => new Uint8Array([...tsq(), 0]), 'application/timestamp-query', 400, 'malformed_request'],
    ['version 2', () => tsq({ version: 2 }), 'application/timestamp-query', 400, 'malformed_request'],
    ['SHA-1 imprint', () => tsq({ hashOid: '1.3.14.3.2.26', imprint: new Uint8Array(20) }), 'application/timestamp-query', 400, 'unsupported_algorithm'],
    ['short imprint', () => tsq({ imprint: new Uint8Array(31) }), 'application/timestamp-query', 400, 'unsupported_algorithm'],
    ['other policy', () => tsq({ policy: '1.2.3.4.5' }), 'application/timestamp-query', 400, 'unsupported_policy'],
    ['extensions', () => tsq({ extensions: true }), 'application/timestamp-query', 400, 'unsupported_extension'],
    ['oversized nonce', () => tsq({ nonce: new Uint8Array(40).fill(1) }), 'application/timestamp-query', 400, 'malformed_request'],
    ['too large', () => new Uint8Array(MAX_TIMESTAMP_REQUEST_BYTES + 1), 'application/timestamp-query', 413, 'request_too_large'],
    ['text/plain', () => 'hello', 'text/plain', 415, 'unsupported_media_type'],
    ['JSON not JSON', () => '{', 'application/json', 400, 'malformed_request'],
    ['JSON unknown field', () => JSON.stringify({ artifactHash: Buffer.from(IMPRINT).toString('base64'), x: 1 }), 'application/json', 400, 'malformed_request'],
    ['JSON bad base64', () => JSON.stringify({ artifactHash: 'not base64!' }), 'application/json', 400, 'malformed_request'],
    ['JSON md5', () => JSON.stringify({ artifactHash: Buffer.from(IMPRINT).toString('base64'), hashAlgorithm: 'md5' }), 'application/json', 400, 'unsupported_algorithm'],
    ['JSON negative nonce', () => JSON.stringify({ artifactHash: Buffer.from(IMPRINT).toString('base64'), nonce: -1 }), 'application/json', 400, 'malformed_request'],
  ];
  it.each(bad)('refuses %s with %i JSON', async (_name, body, type, status, code) => {
    const res = await post(body(), type);
    expect(res.status).toBe(status);
    expect(res.json).toMatchObject({ code });
    expect(typeof res.json.message).toBe('string');
  });
});

describe('parseTimeStampReq', () => {
  it('throws only TsaErrors on arbitrary bytes and mutations of a valid request', () => {
    const valid = tsq({ nonce: new Uint8Array([1, 2, 3]), certReq: true });
    const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const m = valid.slice();
      m[i] = b;
      return m;
    });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (bytes) => {
      try {
        parseTimeStampReq(bytes, SIGSTORE_TSA_POLICY_OID);
      } catch (err) {
        expect(isTsaError(err)).toBe(true);
      }
    }), { numRuns: 2000 });
  });
});
