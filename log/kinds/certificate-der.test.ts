// certificate-der.ts against @peculiar/asn1-x509 (the reference): real Fulcio certificates and
// CAs (log/kinds/testdata/sigstore-public-good.json, from sigstore/root-signing @ 36800755 and
// sigstore/sigstore-js @ 002b5b91; ../shared/vectors/rekor/rekor-v2-inclusion.json), certificates
// generated with every key type and SAN kind, and random mutations of them. Malformed input must
// give LogError('malformed_certificate') and nothing else.
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { ASN1Obj } from '@sigstore/core';
import { fromBER, ObjectIdentifier, Utf8String } from 'asn1js';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { b64, readVectorJson, VECTORS_AVAILABLE } from '../../test/vectors.ts';
import { isLogError } from '../errors.ts';
import { OID_BASIC_CONSTRAINTS, OID_EXT_KEY_USAGE, OID_KEY_USAGE, OID_SUBJECT_ALT_NAME, readCertificateDer, type CertificateDer } from './certificate-der.ts';
import { x509 } from './peculiar-x509.ts';
import { createIntermediateCa, createRootCa, fulcioExtension, githubClaims, issueLeaf, rawExtension, withExtension as withLeafExtension, type LeafOptions, type TestCa } from './testdata/pki.ts';

const publicGood = JSON.parse(readFileSync(new URL('./testdata/sigstore-public-good.json', import.meta.url), 'utf8'));
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

// referenceFulcio decodes a Fulcio extension value by Fulcio's docs/oid-info.md, with asn1js for .8 on.
function referenceFulcio(oid: string, value: Uint8Array): string | null {
  if (Number(oid.slice(FULCIO.length)) <= 6) return new TextDecoder('utf-8', { fatal: true }).decode(value);
  const r = fromBER(new Uint8Array(value).buffer);
  if (r.offset !== value.length || !(r.result instanceof Utf8String)) return null;
  return new TextDecoder('utf-8', { fatal: true }).decode(r.result.valueBlock.valueHexView);
}

// displayOid is the reader's form of an OID, stated apart from it: dotted, unless ASN1Obj's
// arithmetic cannot read it (a first subidentifier X * 40 + Y of 120 or more, or an arc of 2^28
// or more), which is "?" and the hex of its encoding.
function displayOid(oid: string): string {
  const arcs = oid.split('.').map(BigInt);
  if (arcs[0]! * 40n + arcs[1]! < 120n && arcs.every((a) => a < 2n ** 28n)) return oid;
  return `?${Buffer.from(new ObjectIdentifier({ value: oid }).valueBlock.toBER()).toString('hex')}`;
}

// reference reads the same fields with @peculiar/asn1-x509 (the Certificate model and the
// models of each extension read); the first of a repeated extension counts, as in the reader.
function reference(der: Uint8Array): CertificateDer {
  const tbs = AsnConvert.parse(der, Certificate).tbsCertificate;
  const out: CertificateDer = {
    spki: new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo)),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    emails: [],
    uris: [],
    fulcio: new Map(),
    extensions: [],
    duplicateExtension: null,
    basicConstraints: null,
    extendedKeyUsages: null,
    keyUsage: null,
  };
  const seen = new Set<string>();
  for (const e of tbs.extensions ?? []) {
    const oid = displayOid(e.extnID);
    out.extensions.push({ oid, critical: e.critical });
    if (seen.has(oid)) {
      out.duplicateExtension ??= oid;
      continue;
    }
    seen.add(oid);
    const value = new Uint8Array(e.extnValue.buffer);
    if (e.extnID === OID_SUBJECT_ALT_NAME) {
      const names = AsnConvert.parse(value, SubjectAlternativeName);
      out.emails = names.flatMap((n) => (n.rfc822Name === undefined ? [] : [n.rfc822Name]));
      out.uris = names.flatMap((n) => (n.uniformResourceIdentifier === undefined ? [] : [n.uniformResourceIdentifier]));
    } else if (e.extnID === OID_BASIC_CONSTRAINTS) {
      const bc = AsnConvert.parse(value, BasicConstraints);
      out.basicConstraints = { ca: bc.cA, pathLength: bc.pathLenConstraint };
    } else if (e.extnID === OID_EXT_KEY_USAGE) {
      out.extendedKeyUsages = AsnConvert.parse(value, ExtendedKeyUsage).map((id) => displayOid(String(id)));
    } else if (e.extnID === OID_KEY_USAGE) {
      out.keyUsage = AsnConvert.parse(value, KeyUsage).toNumber() & 0xffff;
    } else if (e.extnID.startsWith(FULCIO) && /^\d+$/.test(e.extnID.slice(FULCIO.length))) {
      const decoded = referenceFulcio(e.extnID, value);
      if (decoded !== null) out.fulcio.set(e.extnID, decoded);
    }
  }
  return out;
}

function expectMalformed(der: Uint8Array, reason?: RegExp): void {
  let caught: unknown;
  try {
    readCertificateDer(der);
  } catch (err) {
    caught = err;
  }
  expect(isLogError(caught, 'malformed_certificate'), String(caught)).toBe(true);
  if (reason !== undefined) expect((caught as Error).message).toMatch(reason);
}

let root: TestCa;
let intermediate: TestCa;

async function issue(opts: LeafOptions = {}): Promise<Uint8Array> {
  return (await issueLeaf(intermediate, opts)).der;
}

describe('readCertificateDer agrees with @peculiar/asn1-x509', () => {
  const generated: Uint8Array[] = [];
  beforeAll(async () => {
    root = await createRootCa();
    intermediate = await createIntermediateCa(root);
    generated.push(root.der, intermediate.der);
    for (const keyType of ['P-256', 'P-384', 'RSA-2048', 'Ed25519'] as const) {
      generated.push(await issue({ keyType, email: `dev-${keyType}@example.com` }));
    }
    generated.push(await issue({ uri: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main', extraExtensions: [...githubClaims('o/r', '.github/workflows/x.yml', 'refs/heads/main'), fulcioExtension(24, 'repo:o/r:ref:refs/heads/main'), fulcioExtension(5, 'o/r')] }));
    generated.push(await issue({ email: 'ünïcödé@例え.jp', notBefore: new Date('2051-06-01T00:00:00Z'), notAfter: new Date('2051-06-01T00:10:00Z'), keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.decipherOnly, eku: null }));
  });

  it('on real Fulcio certificates and CAs', () => {
    const certs = realCertificates();
    expect(certs.length).toBeGreaterThanOrEqual(4);
    for (const der of certs) expect(readCertificateDer(der)).toEqual(reference(der));
    const leaf = readCertificateDer(certs[2]!);
    expect(leaf.emails.length + leaf.uris.length).toBe(1);
    expect(leaf.fulcio.size).toBeGreaterThan(0);
  });

  it('on generated certificates of every key type, SAN kind and CI extension', () => {
    for (const der of generated) expect(readCertificateDer(der)).toEqual(reference(der));
    const ci = readCertificateDer(generated[6]!);
    expect(ci.uris).toEqual(['https://github.com/o/r/.github/workflows/x.yml@refs/heads/main']);
    expect(ci.fulcio.get(`${FULCIO}24`)).toBe('repo:o/r:ref:refs/heads/main');
    const late = readCertificateDer(generated[7]!);
    expect(late.notAfter).toEqual(new Date('2051-06-01T00:10:00Z'));
    expect(late.keyUsage).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.decipherOnly);
    expect(late.extendedKeyUsages).toBeNull();
    expect(readCertificateDer(root.der).basicConstraints).toEqual({ ca: true, pathLength: 1 });
    expect(readCertificateDer(intermediate.der).basicConstraints).toEqual({ ca: true, pathLength: 0 });
    expect(readCertificateDer(generated[2]!).extensions.filter((e) => e.critical).map((e) => e.oid).sort()).toEqual([OID_KEY_USAGE, OID_SUBJECT_ALT_NAME]);
  });

  it('on random mutations: it throws only LogError malformed_certificate, and agrees whenever both parse (property)', () => {
    const seeds = [...realCertificates(), ...generated];
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(4000), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.option(fc.nat(4000)), (which, flips, cut) => {
        const der = seeds[which]!.slice(0, cut === null ? undefined : Math.max(1, cut % seeds[which]!.length));
        for (const [at, b] of flips) der[at % der.length] = b;
        let mine: CertificateDer;
        try {
          mine = readCertificateDer(der);
        } catch (err) {
          expect(isLogError(err, 'malformed_certificate'), String(err)).toBe(true);
          return;
        }
        let ref: CertificateDer;
        try {
          ref = reference(der);
        } catch {
          return; // the reference is stricter about some field the monitor does not read
        }
        // The reference re-encodes the SPKI from its model (normalising, say, a mistagged field it
        // accepts); the reader returns the bytes as logged. Compare them where the two coincide.
        if (!Buffer.from(der).includes(Buffer.from(ref.spki))) ref.spki = mine.spki;
        expect(mine, Buffer.from(der).toString('hex')).toEqual(ref);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses trailing bytes, truncation, indefinite lengths, a missing SPKI, bad times and bad UTF-8', () => {
    const der = realCertificates()[0]!;
    expectMalformed(Uint8Array.from([...der, 0]));
    expectMalformed(der.slice(0, der.length - 1));
    expectMalformed(Uint8Array.from([0x30, 0x80, 0x00, 0x00]));
    expectMalformed(Uint8Array.from([0x30, 0x03, 0x30, 0x01, 0x02]));
    expectMalformed(new Uint8Array(0));
    expectMalformed(new Uint8Array(70_000).fill(0x30));
    // notBefore with month 13: a lenient time parser would roll it over into the next year.
    const time = Buffer.from(der).indexOf(Buffer.from([0x17, 0x0d]));
    const badMonth = Uint8Array.from(der);
    badMonth.set(Buffer.from('13'), time + 4);
    expectMalformed(badMonth);
    // A P-256 SPKI claiming 23 bytes of content (its AlgorithmIdentifier and the BIT STRING's
    // header): a lenient decoder lets the BIT STRING run on past its parent's end, and reads the rest.
    const leaf = realCertificates()[2]!;
    const spki = Buffer.from(leaf).indexOf(Buffer.from([0x30, 0x59, 0x30, 0x13]));
    expect(spki).toBeGreaterThan(0);
    const short = Uint8Array.from(leaf);
    short[spki + 1] = 0x17;
    expectMalformed(short);
    // DER has one encoding per value: the SPKI's length in two bytes (0x81 0x59) instead of one.
    expect(Buffer.from(leaf.subarray(0, 2)).toString('hex') + Buffer.from(leaf.subarray(4, 6)).toString('hex')).toBe('30823082');
    const long = Uint8Array.from([...leaf.subarray(0, spki + 1), 0x81, ...leaf.subarray(spki + 1)]);
    for (const at of [2, 6]) long.set([(((long[at]! << 8) | long[at + 1]!) + 1) >> 8, (((long[at]! << 8) | long[at + 1]!) + 1) & 0xff], at); // Certificate and TBSCertificate grow by one
    expectMalformed(long, /shortest form/);
    // A constructed OCTET STRING (BER, not DER) as the keyUsage extension's value, holding one
    // primitive OCTET STRING; re-encoded whole by @sigstore/core, which fixes the outer lengths.
    const root = ASN1Obj.parseBuffer(Buffer.from(leaf));
    const extensions = root.subs[0]!.subs.at(-1)!.subs[0]!.subs;
    const keyUsage = extensions.find((e) => e.subs[0]!.toOID() === '2.5.29.15')!;
    const octet = keyUsage.subs.at(-1)!;
    keyUsage.subs[keyUsage.subs.length - 1] = ASN1Obj.parseBuffer(Buffer.from([0x24, octet.value.length + 2, 0x04, octet.value.length, ...octet.value]));
    expect(readCertificateDer(Uint8Array.from(ASN1Obj.parseBuffer(Buffer.from(leaf)).toDER())).spki).toEqual(readCertificateDer(leaf).spki);
    expectMalformed(Uint8Array.from(root.toDER()), /constructed string/);
    // SEQUENCEs nested 20,000 deep: refused, not a crash.
    const depth = 20_000;
    const headers: number[][] = [];
    let inner = 0;
    for (let i = 0; i < depth; i++) {
      const h = inner < 0x80 ? [0x30, inner] : [0x30, 0x83, inner >> 16, (inner >> 8) & 0xff, inner & 0xff];
      headers.push(h);
      inner += h.length;
    }
    expectMalformed(Uint8Array.from(headers.reverse().flat()));
  });

  it('holds the DER values inside extensions (SAN, Fulcio .8 on) to DER: one value, shortest lengths, no trailing bytes', async () => {
    // The reader does not parse these values again: it checks the children ASN1Obj kept when it
    // tried the OCTET STRING's contents as DER.
    const uri = [...Buffer.from('https://a')];
    const san = (value: number[]): Promise<Uint8Array> => issue({ omit: ['subjectAltName'], extraExtensions: [new x509.Extension('2.5.29.17', false, Uint8Array.from(value))] });
    const ext9 = (value: number[]): Promise<Uint8Array> => issue({ extraExtensions: [new x509.Extension(`${FULCIO}9`, false, Uint8Array.from(value))] });
    expect(readCertificateDer(await san([0x30, 0x0b, 0x86, 0x09, ...uri])).uris).toEqual(['https://a']);
    expectMalformed(await san([0x30, 0x81, 0x0b, 0x86, 0x09, ...uri]), /SAN is not one DER value/);
    expectMalformed(await san([0x30, 0x0c, 0x86, 0x81, 0x09, ...uri]), /SAN is not one DER value/);
    expectMalformed(await san([0x30, 0x0b, 0x86, 0x09, ...uri, 0x00]), /SAN is not one DER value/);
    expectMalformed(await san([0x30, 0x0b, 0x86, 0x09, ...uri, 0x30, 0x00]), /SAN is not one DER value/);
    expectMalformed(await san([0x30, 0x0b, 0x86, 0x09]), /SAN is not one DER value/);
    expect(readCertificateDer(await ext9([0x0c, 0x02, 0x61, 0x62])).fulcio.get(`${FULCIO}9`)).toBe('ab');
    expectMalformed(await ext9([0x0c, 0x81, 0x02, 0x61, 0x62]), /undecodable Fulcio extension/);
    expectMalformed(await ext9([0x0c, 0x02, 0x61, 0x62, 0x00]), /undecodable Fulcio extension/);
    expectMalformed(await ext9([0x0c, 0x01, 0x61, 0x0c, 0x01, 0x62]), /undecodable Fulcio extension/);
    expectMalformed(await ext9([0x2c, 0x03, 0x0c, 0x01, 0x61]), /undecodable Fulcio extension/);
  });

  it('refuses a Fulcio UTF8String extension (.9) that is not valid UTF-8, which a lenient decoder would read as Latin-1', async () => {
    const bad = new x509.Extension(`${FULCIO}9`, false, Uint8Array.from([0x0c, 0x02, 0xff, 0xfe]));
    expectMalformed(await issue({ extraExtensions: [bad] }));
  });

  it('reads an OID only where ASN1Obj reads it right, and refuses OIDs, BOOLEANs and bit strings DER forbids', () => {
    const leaf = generated[2]!;
    const withExtension = (ext: number[]): Uint8Array => withLeafExtension(leaf, ext);
    const uri = [...Buffer.from('https://evil.example')];
    const fakeSan = [0x30, uri.length + 2, 0x86, uri.length, ...uri];
    // 2.5.29.(17 + 2^32): ASN1Obj adds arcs in 32 bits and would read it as 2.5.29.17, the SAN.
    const wrapped = [0x55, 0x1d, 0x90, 0x80, 0x80, 0x80, 0x11];
    const forged = readCertificateDer(withExtension(rawExtension(wrapped, fakeSan, 0xff)));
    expect(forged.uris).toEqual(readCertificateDer(leaf).uris);
    expect(forged.emails).toEqual(readCertificateDer(leaf).emails);
    expect(forged.duplicateExtension).toBeNull();
    expect(forged.extensions.at(-1)).toEqual({ oid: `?${Buffer.from(wrapped).toString('hex')}`, critical: true });
    expect((fromBER(Uint8Array.from([0x06, wrapped.length, ...wrapped]).buffer).result as ObjectIdentifier).getValue()).toBe('2.5.29.4294967313');
    expect(ASN1Obj.parseBuffer(Buffer.from([0x06, wrapped.length, ...wrapped])).toOID()).toBe(OID_SUBJECT_ALT_NAME);
    // 2.48 and up: a first subidentifier of two bytes, which ASN1Obj reads as one.
    expect(readCertificateDer(withExtension(rawExtension([0x81, 0x00, 0x01], [0x05, 0x00]))).extensions.at(-1)!.oid).toBe('?810001');
    // The same OID with its last arc padded (0x80 0x11): X.690 §8.19.2 forbids it, Go's x509 refuses it.
    expectMalformed(withExtension(rawExtension([0x55, 0x1d, 0x80, 0x11], fakeSan)), /OBJECT IDENTIFIER arc not in its shortest form/);
    expectMalformed(withExtension(rawExtension([0x55, 0x1d, 0x91], fakeSan)), /truncated OBJECT IDENTIFIER/);
    // A second SAN: a duplicate, reported; the first one is what the fields hold.
    const twice = readCertificateDer(withExtension(rawExtension([0x55, 0x1d, 0x11], fakeSan)));
    expect(twice.duplicateExtension).toBe(OID_SUBJECT_ALT_NAME);
    expect(twice.uris).toEqual(readCertificateDer(leaf).uris);
    expect(twice.emails).toEqual(readCertificateDer(leaf).emails);
    // critical must be 00 or FF; 01 is BER's TRUE, not DER's. An explicit FALSE is read as false.
    expectMalformed(withExtension(rawExtension([0x2a, 0x03], [0x05, 0x00], 0x01)), /BOOLEAN that is not 00 or FF/);
    expect(readCertificateDer(withExtension(rawExtension([0x2a, 0x03], [0x05, 0x00], 0x00))).extensions.at(-1)).toEqual({ oid: '1.2.3', critical: false });
  });

  it('reads basicConstraints, extKeyUsage and keyUsage strictly', async () => {
    const bc = (value: number[]): Promise<Uint8Array> => issue({ extraExtensions: [new x509.Extension(OID_BASIC_CONSTRAINTS, true, Uint8Array.from(value))] });
    const ku = (value: number[]): Promise<Uint8Array> => issue({ omit: ['keyUsage'], extraExtensions: [new x509.Extension(OID_KEY_USAGE, true, Uint8Array.from(value))] });
    const eku = (value: number[]): Promise<Uint8Array> => issue({ eku: null, extraExtensions: [new x509.Extension(OID_EXT_KEY_USAGE, false, Uint8Array.from(value))] });
    expect(readCertificateDer(await bc([0x30, 0x00])).basicConstraints).toEqual({ ca: false, pathLength: undefined });
    expect(readCertificateDer(await bc([0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x03])).basicConstraints).toEqual({ ca: true, pathLength: 3 });
    expect(readCertificateDer(await bc([0x30, 0x09, 0x01, 0x01, 0xff, 0x02, 0x04, 0x7f, 0xff, 0xff, 0xff])).basicConstraints).toEqual({ ca: true, pathLength: 2 ** 31 - 1 });
    expect(readCertificateDer(await bc([0x30, 0x0a, 0x01, 0x01, 0xff, 0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00])).basicConstraints!.pathLength).toBe(2 ** 31 - 1);
    expectMalformed(await bc([0x30, 0x07, 0x01, 0x01, 0xff, 0x02, 0x02, 0x00, 0x03]), /pathLenConstraint is not a DER INTEGER/);
    expectMalformed(await bc([0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0xff]), /pathLenConstraint is negative/);
    expectMalformed(await bc([0x30, 0x06, 0x02, 0x01, 0x00, 0x01, 0x01, 0xff]), /basicConstraints is not a SEQUENCE of BOOLEAN/);
    expectMalformed(await bc([0x04, 0x00]), /basicConstraints is missing or not a SEQUENCE/);
    // keyUsage: 03 02 07 80 is digitalSignature alone (seven unused bits); unused bits must be zero.
    expect(readCertificateDer(await ku([0x03, 0x02, 0x07, 0x80])).keyUsage).toBe(1);
    expect(readCertificateDer(await ku([0x03, 0x03, 0x07, 0x00, 0x80])).keyUsage).toBe(256);
    expect(readCertificateDer(await ku([0x03, 0x01, 0x00])).keyUsage).toBe(0);
    expectMalformed(await ku([0x03, 0x02, 0x07, 0x81]), /keyUsage is not a DER BIT STRING/);
    expectMalformed(await ku([0x03, 0x01, 0x01]), /keyUsage is not a DER BIT STRING/);
    expectMalformed(await ku([0x03, 0x02, 0x08, 0x00]), /keyUsage is not a DER BIT STRING/);
    expectMalformed(await ku([0x04, 0x01, 0x80]), /keyUsage is not a BIT STRING/);
    expect(readCertificateDer(await eku([0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03])).extendedKeyUsages).toEqual(['1.3.6.1.5.5.7.3.3']);
    expectMalformed(await eku([0x30, 0x00]), /extKeyUsage is empty/);
    expectMalformed(await eku([0x30, 0x03, 0x02, 0x01, 0x01]), /extKeyUsage holds something other than OBJECT IDENTIFIERs/);
  });
});
