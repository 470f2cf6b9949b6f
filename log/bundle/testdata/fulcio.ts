// fulcio.ts is a test stand-in for Vigil's CA while log/bundle is tested on its own: a root and a
// Fulcio-shaped intermediate (log/kinds/testdata/pki.ts), a CT log key, and leaves carrying an
// embedded RFC 6962 SCT over the precertificate TBS. The precertificate is the final certificate
// without the SCT extension: both are generated from the same serial, dates, key and extensions,
// so their TBS differ by exactly that extension. Test use only.
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { OctetString } from 'asn1js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { Utf8String } from 'asn1js';
import { encodeBase64 } from '../../../tlog/base64.ts';
import { sha256 } from '../../../tlog/sha256.ts';
import { OID_EKU_CODE_SIGNING, OID_FULCIO_ISSUER_V1, OID_FULCIO_ISSUER_V2 } from '../../kinds/certificate.ts';
import { x509 } from '../../kinds/peculiar-x509.ts';
import { createIntermediateCa, createRootCa, type TestCa } from '../../kinds/testdata/pki.ts';
import { OID_SCT_LIST } from '../sct.ts';

/** TestFulcio is a CA chain plus a CT log key. */
export interface TestFulcio {
  readonly root: TestCa;
  readonly intermediate: TestCa;
  readonly ctKey: KeyObject;
  readonly ctSpki: Uint8Array;
}

/** TestSigner is an issued leaf and its P-256 private key. */
export interface TestSigner {
  readonly der: Uint8Array;
  readonly privateKey: KeyObject;
}

/** createTestFulcio makes the CA chain and the CT key. */
export async function createTestFulcio(): Promise<TestFulcio> {
  const root = await createRootCa();
  const intermediate = await createIntermediateCa(root);
  const ct = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { root, intermediate, ctKey: ct.privateKey, ctSpki: new Uint8Array(ct.publicKey.export({ format: 'der', type: 'spki' })) };
}

function tbsOf(der: Uint8Array): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(AsnConvert.parse(der, Certificate).tbsCertificate));
}

function sctList(f: TestFulcio, tbs: Uint8Array, timestampMs: number, corrupt: boolean): Uint8Array {
  const head = Buffer.alloc(12);
  head.writeBigUInt64BE(BigInt(timestampMs), 2);
  head.writeUInt16BE(1, 10);
  const len = Buffer.alloc(3);
  len.writeUIntBE(tbs.length, 0, 3);
  const issuerKeyHash = sha256(new Uint8Array(f.intermediate.cert.publicKey.rawData));
  const signed = Buffer.concat([head, issuerKeyHash, len, tbs, Buffer.alloc(2)]);
  const sig = sign('sha256', signed, f.ctKey);
  if (corrupt) sig.writeUInt8(sig.readUInt8(sig.length - 1) ^ 1, sig.length - 1);
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(timestampMs));
  const sigLen = Buffer.alloc(2);
  sigLen.writeUInt16BE(sig.length);
  const sct = Buffer.concat([Buffer.from([0]), sha256(f.ctSpki), ts, Buffer.alloc(2), Buffer.from([4, 3]), sigLen, sig]);
  const item = Buffer.concat([Buffer.from([sct.length >> 8, sct.length & 0xff]), sct]);
  return Buffer.concat([Buffer.from([item.length >> 8, item.length & 0xff]), item]);
}

/** IssueOptions shape a leaf (defaults: email alice@vigil.test, issuer https://oidc.vigil.test). */
export interface IssueOptions {
  readonly email?: string;
  readonly uri?: string;
  readonly issuer?: string;
  readonly notBefore?: Date;
  readonly sct?: 'valid' | 'corrupt' | 'none';
}

/** issueSigner issues a Fulcio-shaped P-256 leaf with an embedded SCT (by default). */
export async function issueSigner(f: TestFulcio, opts: IssueOptions = {}): Promise<TestSigner> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const notBefore = opts.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const issuer = opts.issuer ?? 'https://oidc.vigil.test';
  const names: x509.JsonGeneralName[] = opts.uri !== undefined ? [{ type: 'url', value: opts.uri }] : [{ type: 'email', value: opts.email ?? 'alice@vigil.test' }];
  const base = {
    serialNumber: `01${randomBytes(19).toString('hex')}`, subject: '', issuer: f.intermediate.cert.subject, notBefore,
    notAfter: new Date(notBefore.getTime() + 10 * 60_000), publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
    signingKey: f.intermediate.keys.privateKey, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
  };
  const extensions = [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([OID_EKU_CODE_SIGNING]),
    new x509.SubjectAlternativeNameExtension(names, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey.export({ format: 'der', type: 'spki' })),
    await x509.AuthorityKeyIdentifierExtension.create(f.intermediate.keys.publicKey),
    new x509.Extension(OID_FULCIO_ISSUER_V1, false, new TextEncoder().encode(issuer)),
    new x509.Extension(OID_FULCIO_ISSUER_V2, false, new Utf8String({ value: issuer }).toBER()),
  ];
  const pre = await x509.X509CertificateGenerator.create({ ...base, extensions });
  if (opts.sct === 'none') return { der: new Uint8Array(pre.rawData), privateKey };
  const list = sctList(f, tbsOf(new Uint8Array(pre.rawData)), notBefore.getTime() + 1000, opts.sct === 'corrupt');
  const sctExt = new x509.Extension(OID_SCT_LIST, false, new OctetString({ valueHex: list }).toBER());
  const cert = await x509.X509CertificateGenerator.create({ ...base, extensions: [...extensions, sctExt] });
  return { der: new Uint8Array(cert.rawData), privateKey };
}

/** trustedRootJson returns the Sigstore TrustedRoot for the CA, CT key, log and TSA entries given. */
export function trustedRootJson(f: TestFulcio, log: { baseUrl: string; logId: Uint8Array; publicKey: Uint8Array }, tsas: unknown[] = []): Record<string, unknown> {
  const start = '2020-01-01T00:00:00Z';
  const edSpki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), log.publicKey]);
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{ baseUrl: log.baseUrl, hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: encodeBase64(edSpki), keyDetails: 'PKIX_ED25519', validFor: { start } }, logId: { keyId: encodeBase64(log.logId) } }],
    certificateAuthorities: [{
      subject: { organization: 'vigil.test', commonName: 'vigil-test' }, uri: 'https://ca.vigil.test',
      certChain: { certificates: [{ rawBytes: encodeBase64(f.intermediate.der) }, { rawBytes: encodeBase64(f.root.der) }] }, validFor: { start },
    }],
    ctlogs: [{ baseUrl: 'https://ct.vigil.test', hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: encodeBase64(f.ctSpki), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } }, logId: { keyId: encodeBase64(sha256(f.ctSpki)) } }],
    timestampAuthorities: tsas,
  };
}
