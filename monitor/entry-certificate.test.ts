// entry-certificate.ts against @peculiar/asn1-x509 (the reference): real Fulcio certificates and
// CAs (log/kinds/testdata/sigstore-public-good.json, from sigstore/root-signing @ 36800755 and
// sigstore/sigstore-js @ 002b5b91; ../shared/vectors/rekor/rekor-v2-inclusion.json), certificates
// generated with every key type and SAN kind, and random mutations of them. Malformed input must
// give MonitorError('unparseable_entry') and nothing else.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { ASN1Obj } from '@sigstore/core';
import { fromBER, Utf8String } from 'asn1js';
import fc from 'fast-check';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { b64, readVectorJson, VECTORS_AVAILABLE } from '../test/vectors.ts';
import { readCertificateFields, readCertificateSigner, type CertificateFields } from './entry-certificate.ts';
import { isMonitorError } from './errors.ts';
import { createTestPki, fulcioExtension, githubClaims, issueSigner } from './testdata/signed-entries.ts';

const publicGood = JSON.parse(readFileSync(new URL('../log/kinds/testdata/sigstore-public-good.json', import.meta.url), 'utf8'));
const FULCIO = '1.3.6.1.4.1.57264.1.';

function realCertificates(): Uint8Array[] {
  const out = [b64(publicGood.fulcio.root_der_b64), b64(publicGood.fulcio.intermediate_der_b64)];
  for (const name of ['hashedrekord_v001', 'dsse_v001']) {
    const body = JSON.parse(Buffer.from(publicGood.rekor_v1[name].canonicalized_body_b64, 'base64').toString());
    const pem = Buffer.from(name === 'dsse_v001' ? body.spec.signatures[0].verifier : body.spec.signature.publicKey.content, 'base64').toString();
    out.push(b64(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('')));
  }
  if (VECTORS_AVAILABLE) {
    const v = readVectorJson('rekor/rekor-v2-inclusion.json').vectors[1];
    out.push(b64(JSON.parse(Buffer.from(v.entry_b64, 'base64').toString()).spec.dsseV002.signatures[0].verifier.x509Certificate.rawBytes));
  }
  return out;
}

// referenceFulcio decodes a Fulcio extension value by docs/oid-info.md, with asn1js for .8 on.
function referenceFulcio(oid: string, value: Uint8Array): string | null {
  if (Number(oid.slice(FULCIO.length)) <= 6) return new TextDecoder('utf-8', { fatal: true }).decode(value);
  const r = fromBER(new Uint8Array(value).buffer);
  if (r.offset !== value.length || !(r.result instanceof Utf8String)) return null;
  return new TextDecoder('utf-8', { fatal: true }).decode(r.result.valueBlock.valueHexView);
}

// reference reads the same fields with @peculiar/asn1-x509 (the Certificate and GeneralNames models).
function reference(der: Uint8Array): CertificateFields {
  const tbs = AsnConvert.parse(der, Certificate).tbsCertificate;
  const out: CertificateFields = { spki: new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo)), notBefore: tbs.validity.notBefore.getTime(), emails: [], uris: [], fulcio: new Map() };
  for (const e of tbs.extensions ?? []) {
    const value = new Uint8Array(e.extnValue.buffer);
    if (e.extnID === '2.5.29.17') {
      const names = AsnConvert.parse(value, SubjectAlternativeName);
      out.emails = names.flatMap((n) => (n.rfc822Name === undefined ? [] : [n.rfc822Name]));
      out.uris = names.flatMap((n) => (n.uniformResourceIdentifier === undefined ? [] : [n.uniformResourceIdentifier]));
    } else if (e.extnID.startsWith(FULCIO) && /^\d+$/.test(e.extnID.slice(FULCIO.length))) {
      const decoded = referenceFulcio(e.extnID, value);
      if (decoded !== null) out.fulcio.set(e.extnID, decoded);
    }
  }
  return out;
}

function expectUnparseable(der: Uint8Array, reason?: RegExp): void {
  let caught: unknown;
  try {
    readCertificateSigner(der);
  } catch (err) {
    caught = err;
  }
  expect(isMonitorError(caught, 'unparseable_entry'), String(caught)).toBe(true);
  if (reason !== undefined) expect((caught as Error).message).toMatch(reason);
}

describe('readCertificateFields agrees with @peculiar/asn1-x509', () => {
  const generated: Uint8Array[] = [];
  beforeAll(async () => {
    const pki = await createTestPki();
    generated.push(pki.intermediate.der);
    for (const keyType of ['P-256', 'P-384', 'RSA-2048', 'Ed25519'] as const) {
      generated.push((await issueSigner(pki, { keyType, email: `dev-${keyType}@example.com` })).der);
    }
    generated.push((await issueSigner(pki, { uri: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main', extraExtensions: [...githubClaims('o/r', '.github/workflows/x.yml', 'refs/heads/main'), fulcioExtension(24, 'repo:o/r:ref:refs/heads/main'), fulcioExtension(5, 'o/r')] })).der);
    generated.push((await issueSigner(pki, { email: 'ünïcödé@例え.jp', notBefore: new Date('2051-06-01T00:00:00Z'), notAfter: new Date('2051-06-01T00:10:00Z') })).der);
  });

  it('on real Fulcio certificates and CAs', () => {
    const certs = realCertificates();
    expect(certs.length).toBeGreaterThanOrEqual(4);
    for (const der of certs) expect(readCertificateFields(der)).toEqual(reference(der));
    const leaf = readCertificateFields(certs[2]!);
    expect(leaf.emails.length + leaf.uris.length).toBe(1);
    expect(leaf.fulcio.size).toBeGreaterThan(0);
  });

  it('on generated certificates of every key type, SAN kind and CI extension', () => {
    for (const der of generated) expect(readCertificateFields(der)).toEqual(reference(der));
    const ci = readCertificateFields(generated[5]!);
    expect(ci.uris).toEqual(['https://github.com/o/r/.github/workflows/x.yml@refs/heads/main']);
    expect(ci.fulcio.get(`${FULCIO}24`)).toBe('repo:o/r:ref:refs/heads/main');
    expect(readCertificateFields(generated[6]!).notBefore).toEqual(new Date('2051-06-01T00:00:00Z'));
  });

  it('fingerprints the SPKI as OpenSSL exports it, and reads notBefore in seconds', () => {
    for (const der of [...realCertificates(), ...generated]) {
      const signer = readCertificateSigner(der);
      const x = new X509Certificate(der);
      expect(signer.keyFingerprint).toBe(createHash('sha256').update(x.publicKey.export({ type: 'spki', format: 'der' })).digest('hex'));
      expect(signer.notBeforeSec).toBe(Date.parse(x.validFrom) / 1000);
    }
  });

  it('on random mutations: it throws only MonitorError unparseable_entry, and agrees whenever both parse (property)', () => {
    const seeds = [...realCertificates(), ...generated];
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(4000), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.option(fc.nat(4000)), (which, flips, cut) => {
        const der = seeds[which]!.slice(0, cut === null ? undefined : Math.max(1, cut % seeds[which]!.length));
        for (const [at, b] of flips) der[at % der.length] = b;
        let mine: CertificateFields;
        try {
          mine = readCertificateFields(der);
          readCertificateSigner(der);
        } catch (err) {
          expect(isMonitorError(err, 'unparseable_entry'), String(err)).toBe(true);
          return;
        }
        let ref: CertificateFields;
        try {
          ref = reference(der);
        } catch {
          return; // the reference is stricter about some field the monitor does not read
        }
        // The reference re-encodes the SPKI from its model (normalising, say, a mistagged field it
        // accepts); the monitor hashes the bytes as logged. Compare them where the two coincide.
        if (!Buffer.from(der).includes(Buffer.from(ref.spki))) ref.spki = mine.spki;
        expect(mine).toEqual(ref);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses trailing bytes, truncation, indefinite lengths, a missing SPKI, bad times and bad UTF-8', () => {
    const der = realCertificates()[0]!;
    expectUnparseable(Uint8Array.from([...der, 0]));
    expectUnparseable(der.slice(0, der.length - 1));
    expectUnparseable(Uint8Array.from([0x30, 0x80, 0x00, 0x00]));
    expectUnparseable(Uint8Array.from([0x30, 0x03, 0x30, 0x01, 0x02]));
    expectUnparseable(new Uint8Array(0));
    expectUnparseable(new Uint8Array(70_000).fill(0x30));
    // notBefore with month 13: a lenient time parser would roll it over into the next year.
    const time = Buffer.from(der).indexOf(Buffer.from([0x17, 0x0d]));
    const badMonth = Uint8Array.from(der);
    badMonth.set(Buffer.from('13'), time + 4);
    expectUnparseable(badMonth);
    // A P-256 SPKI claiming 23 bytes of content (its AlgorithmIdentifier and the BIT STRING's
    // header): a lenient decoder lets the BIT STRING run on past its parent's end, and reads the rest.
    const leaf = realCertificates()[2]!;
    const spki = Buffer.from(leaf).indexOf(Buffer.from([0x30, 0x59, 0x30, 0x13]));
    expect(spki).toBeGreaterThan(0);
    const short = Uint8Array.from(leaf);
    short[spki + 1] = 0x17;
    expectUnparseable(short);
    // DER has one encoding per value: the SPKI's length in two bytes (0x81 0x59) instead of one.
    expect(Buffer.from(leaf.subarray(0, 2)).toString('hex') + Buffer.from(leaf.subarray(4, 6)).toString('hex')).toBe('30823082');
    const long = Uint8Array.from([...leaf.subarray(0, spki + 1), 0x81, ...leaf.subarray(spki + 1)]);
    for (const at of [2, 6]) long.set([(((long[at]! << 8) | long[at + 1]!) + 1) >> 8, (((long[at]! << 8) | long[at + 1]!) + 1) & 0xff], at); // Certificate and TBSCertificate grow by one
    expectUnparseable(long, /shortest form/);
    // A constructed OCTET STRING (BER, not DER) as the keyUsage extension's value, holding one
    // primitive OCTET STRING; re-encoded whole by @sigstore/core, which fixes the outer lengths.
    const root = ASN1Obj.parseBuffer(Buffer.from(leaf));
    const extensions = root.subs[0]!.subs.at(-1)!.subs[0]!.subs;
    const keyUsage = extensions.find((e) => e.subs[0]!.toOID() === '2.5.29.15')!;
    const octet = keyUsage.subs.at(-1)!;
    keyUsage.subs[keyUsage.subs.length - 1] = ASN1Obj.parseBuffer(Buffer.from([0x24, octet.value.length + 2, 0x04, octet.value.length, ...octet.value]));
    expect(readCertificateSigner(Uint8Array.from(ASN1Obj.parseBuffer(Buffer.from(leaf)).toDER())).keyFingerprint).toBe(readCertificateSigner(leaf).keyFingerprint);
    expectUnparseable(Uint8Array.from(root.toDER()), /constructed string/);
    // SEQUENCEs nested 20,000 deep: refused, not a crash.
    const depth = 20_000;
    const headers: number[][] = [];
    let inner = 0;
    for (let i = 0; i < depth; i++) {
      const h = inner < 0x80 ? [0x30, inner] : [0x30, 0x83, inner >> 16, (inner >> 8) & 0xff, inner & 0xff];
      headers.push(h);
      inner += h.length;
    }
    expectUnparseable(Uint8Array.from(headers.reverse().flat()));
  });

  it('holds the DER values inside extensions (SAN, Fulcio .8 on) to DER: one value, shortest lengths, no trailing bytes', async () => {
    // The reader does not parse these values again: it checks the children ASN1Obj kept when it
    // tried the OCTET STRING's contents as DER. Each case is one extension, last of its OID, so it wins.
    const pki = await createTestPki();
    const { x509 } = await import('../log/kinds/peculiar-x509.ts');
    const uri = [...Buffer.from('https://a')];
    const san = (value: number[]): Promise<Uint8Array> => issueSigner(pki, { extraExtensions: [new x509.Extension('2.5.29.17', false, Uint8Array.from(value))] }).then((s) => s.der);
    const ext9 = (value: number[]): Promise<Uint8Array> => issueSigner(pki, { extraExtensions: [new x509.Extension(`${FULCIO}9`, false, Uint8Array.from(value))] }).then((s) => s.der);
    expect(readCertificateFields(await san([0x30, 0x0b, 0x86, 0x09, ...uri])).uris).toEqual(['https://a']);
    expectUnparseable(await san([0x30, 0x81, 0x0b, 0x86, 0x09, ...uri]), /SAN is not one DER value/);
    expectUnparseable(await san([0x30, 0x0c, 0x86, 0x81, 0x09, ...uri]), /SAN is not one DER value/);
    expectUnparseable(await san([0x30, 0x0b, 0x86, 0x09, ...uri, 0x00]), /SAN is not one DER value/);
    expectUnparseable(await san([0x30, 0x0b, 0x86, 0x09, ...uri, 0x30, 0x00]), /SAN is not one DER value/);
    expectUnparseable(await san([0x30, 0x0b, 0x86, 0x09]), /SAN is not one DER value/);
    expect(readCertificateFields(await ext9([0x0c, 0x02, 0x61, 0x62])).fulcio.get(`${FULCIO}9`)).toBe('ab');
    expectUnparseable(await ext9([0x0c, 0x81, 0x02, 0x61, 0x62]), /undecodable Fulcio extension/);
    expectUnparseable(await ext9([0x0c, 0x02, 0x61, 0x62, 0x00]), /undecodable Fulcio extension/);
    expectUnparseable(await ext9([0x0c, 0x01, 0x61, 0x0c, 0x01, 0x62]), /undecodable Fulcio extension/);
    expectUnparseable(await ext9([0x2c, 0x03, 0x0c, 0x01, 0x61]), /undecodable Fulcio extension/);
  });

  it('refuses a Fulcio UTF8String extension (.9) that is not valid UTF-8, which a lenient decoder would read as Latin-1', async () => {
    const pki = await createTestPki();
    const { x509 } = await import('../log/kinds/peculiar-x509.ts');
    const bad = new x509.Extension(`${FULCIO}9`, false, Uint8Array.from([0x0c, 0x02, 0xff, 0xfe]));
    expectUnparseable((await issueSigner(pki, { extraExtensions: [bad] })).der);
  });
});
