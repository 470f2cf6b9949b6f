// certificate.ts builds the certificates the CA issues, per Fulcio's profile (research notes 3.2,
// DESIGN.md "CA"): empty subject, one critical SAN (email or URI), KU digitalSignature (critical),
// EKU codeSigning, SKI and an AKI equal to the intermediate's SKI, a random positive 160-bit serial,
// the issuer in 1.3.6.1.4.1.57264.1.8 (DER UTF8String) and .1.1 (raw), the CI claims, and a
// lifetime of 10 minutes. Everything is encoded with @peculiar/asn1-x509 and @peculiar/x509; the
// TBSCertificate is built once and signed three ways:
//
//   precertificate  = TBS(extensions ‖ CT poison)          logged first (RFC 6962 §3.1)
//   SCT             signs TBS(extensions)                   (RFC 6962 §3.2 precert_entry)
//   certificate     = TBS(extensions ‖ SCT list)            returned to the client
//
// Verifiers rebuild the SCT's TBS by deleting the SCT list extension from the final certificate
// (@sigstore/verify key/sct.js), so the list is the LAST extension and everything else is equal.
import { createHash, sign, type KeyObject } from 'node:crypto';
import { Utf8String } from 'asn1js';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import { OID_EKU_CODE_SIGNING, OID_FULCIO_ISSUER_V1, OID_FULCIO_ISSUER_V2 } from '../kinds/certificate.ts';
import { x509 } from '../kinds/peculiar-x509.ts';
import type { Ca } from './keys.ts';
import { randomSerial } from '../kinds/x509-issue.ts';

/** CERTIFICATE_LIFETIME_MS is a leaf's lifetime: 10 minutes, as Fulcio. */
export const CERTIFICATE_LIFETIME_MS = 10 * 60 * 1000;
/** OID_CT_PRECERT_POISON marks a precertificate (RFC 6962 §3.1); critical, value NULL. */
export const OID_CT_PRECERT_POISON = '1.3.6.1.4.1.11129.2.4.3';
/** OID_CT_SCT_LIST holds the embedded SignedCertificateTimestampList (RFC 6962 §3.3). */
export const OID_CT_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/** SubjectAltName is the one identity a certificate binds. */
export interface SubjectAltName {
  readonly type: 'email' | 'uri';
  readonly value: string;
}

/** ClaimExtension is one Fulcio extension: raw string (.1–.6) or DER UTF8String (.8–.24). */
export interface ClaimExtension {
  readonly oid: string;
  readonly value: string;
  readonly encoding: 'raw' | 'utf8String';
}

/** LeafTemplate is what a leaf certificate says; everything but the SCT list. */
export interface LeafTemplate {
  readonly serial: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** spki is the subject's DER SubjectPublicKeyInfo (already checked by the caller). */
  readonly spki: Uint8Array;
  readonly san: SubjectAltName;
  /** issuer is the OIDC issuer URL, in .1.8 and .1.1. */
  readonly issuer: string;
  /** claims are the CI extensions, in OID order. */
  readonly claims: readonly ClaimExtension[];
}

/** newLeafTemplate dates a template at `now` (whole seconds, as X.509 times are) with a fresh serial. */
export function newLeafTemplate(now: Date, fields: Pick<LeafTemplate, 'spki' | 'san' | 'issuer' | 'claims'>): LeafTemplate {
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return { ...fields, serial: Buffer.from(randomSerial(), 'hex'), notBefore, notAfter: new Date(notBefore.getTime() + CERTIFICATE_LIFETIME_MS) };
}

function toAsn(ext: x509.Extension): asn.Extension {
  return AsnConvert.parse(ext.rawData, asn.Extension);
}

function ext(oid: string, critical: boolean, value: ArrayBuffer | Uint8Array): asn.Extension {
  return new asn.Extension({ extnID: oid, critical, extnValue: new OctetString(value) });
}

function claimValue(c: ClaimExtension): ArrayBuffer | Uint8Array {
  return c.encoding === 'raw' ? Buffer.from(c.value, 'utf8') : new Utf8String({ value: c.value }).toBER();
}

/** keyIdentifier is RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: Uint8Array): Uint8Array {
  const info = AsnConvert.parse(spki, asn.SubjectPublicKeyInfo);
  return new Uint8Array(createHash('sha1').update(new Uint8Array(info.subjectPublicKey)).digest());
}

function issuerKeyIdentifier(ca: Ca): Uint8Array {
  const ski = ca.intermediate.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski === null ? keyIdentifier(ca.intermediateSpki) : Buffer.from(ski.keyId, 'hex');
}

/** leafExtensions returns the profile's extensions in Fulcio's order (pkg/ca/common.go). */
function leafExtensions(ca: Ca, t: LeafTemplate): asn.Extension[] {
  const san: x509.JsonGeneralName = { type: t.san.type === 'email' ? 'email' : 'url', value: t.san.value };
  return [
    toAsn(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)),
    toAsn(new x509.ExtendedKeyUsageExtension([OID_EKU_CODE_SIGNING], false)),
    toAsn(new x509.SubjectKeyIdentifierExtension(Buffer.from(keyIdentifier(t.spki)).toString('hex'))),
    toAsn(new x509.AuthorityKeyIdentifierExtension(Buffer.from(issuerKeyIdentifier(ca)).toString('hex'))),
    toAsn(new x509.SubjectAlternativeNameExtension([san], true)),
    ext(OID_FULCIO_ISSUER_V1, false, Buffer.from(t.issuer, 'utf8')),
    ext(OID_FULCIO_ISSUER_V2, false, new Utf8String({ value: t.issuer }).toBER()),
    ...t.claims.map((c) => ext(c.oid, false, claimValue(c))),
  ];
}

/**
 * PreparedLeaf is a template encoded once: the three signings below share its extensions, issuer
 * name and SPKI (each is a few hundred microseconds of ASN.1 work).
 */
export interface PreparedLeaf {
  readonly template: LeafTemplate;
  readonly extensions: readonly asn.Extension[];
  readonly issuer: asn.Name;
  readonly spki: asn.SubjectPublicKeyInfo;
}

/** prepareLeaf encodes a template's extensions, issuer name and SPKI for the CA `ca`. */
export function prepareLeaf(ca: Ca, t: LeafTemplate): PreparedLeaf {
  return {
    template: t,
    extensions: leafExtensions(ca, t),
    issuer: AsnConvert.parse(ca.intermediate.subjectName.toArrayBuffer(), asn.Name),
    spki: AsnConvert.parse(t.spki, asn.SubjectPublicKeyInfo),
  };
}

function tbs(leaf: PreparedLeaf, extra: asn.Extension[]): asn.TBSCertificate {
  const t = leaf.template;
  return new asn.TBSCertificate({
    version: asn.Version.v3,
    serialNumber: new Uint8Array(t.serial).buffer,
    signature: new asn.AlgorithmIdentifier({ algorithm: OID_ECDSA_WITH_SHA256 }),
    issuer: leaf.issuer,
    validity: new asn.Validity({ notBefore: t.notBefore, notAfter: t.notAfter }),
    subject: new asn.Name(),
    subjectPublicKeyInfo: leaf.spki,
    extensions: new asn.Extensions([...leaf.extensions, ...extra]),
  });
}

function signTbs(key: KeyObject, tbsCertificate: asn.TBSCertificate): Uint8Array {
  const der = AsnConvert.serialize(tbsCertificate);
  const signature = sign('sha256', new Uint8Array(der), { key, dsaEncoding: 'der' });
  const cert = new asn.Certificate({
    tbsCertificate,
    signatureAlgorithm: new asn.AlgorithmIdentifier({ algorithm: OID_ECDSA_WITH_SHA256 }),
    signatureValue: new Uint8Array(signature).buffer,
  });
  return new Uint8Array(AsnConvert.serialize(cert));
}

/** formatPrecertificate returns the DER precertificate: the leaf plus the critical CT poison, signed. */
export function formatPrecertificate(ca: Ca, leaf: PreparedLeaf): Uint8Array {
  const poison = ext(OID_CT_PRECERT_POISON, true, new Uint8Array([0x05, 0x00]));
  return signTbs(ca.intermediateKey, tbs(leaf, [poison]));
}

/** formatSctTbs returns the DER TBSCertificate an SCT signs: the leaf without poison or SCT list. */
export function formatSctTbs(leaf: PreparedLeaf): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(tbs(leaf, [])));
}

/** formatFinalCertificate returns the DER certificate carrying the SCT list (formatSctListExtensionValue) last. */
export function formatFinalCertificate(ca: Ca, leaf: PreparedLeaf, sctListValue: Uint8Array): Uint8Array {
  return signTbs(ca.intermediateKey, tbs(leaf, [ext(OID_CT_SCT_LIST, false, sctListValue)]));
}
