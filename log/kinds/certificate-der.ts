// certificate-der.ts reads the parts of a DER X.509 certificate (RFC 5280 §4.1) that Vigil uses:
// the SubjectPublicKeyInfo's bytes, the validity, the SAN emails and URIs, the Fulcio extensions
// (Fulcio's docs/oid-info.md: .1–.6 raw strings, .8–.24 DER UTF8String), and what a chain check
// needs (each extension's criticality, basicConstraints, extKeyUsage, keyUsage). The log reads its
// signers' certificates with it (certificate.ts, with OpenSSL for keys and signatures) and the
// monitor reads every certificate it finds in a log (monitor/entry-certificate.ts). It reads; it
// decides no policy: the log refuses duplicate extensions and non-ASCII names, the monitor reads
// on, and neither is this file's call.
//
// Decoding is @sigstore/core's ASN1Obj (the DER reader sigstore-js verifies bundles with): a lean
// tag-length-value walk that refuses indefinite lengths and children running past their parent.
// On top of it this file refuses what DER forbids and ASN1Obj lets through (non-minimal lengths,
// trailing bytes, constructed strings, BOOLEANs other than 00 and FF, non-minimal OBJECT
// IDENTIFIER arcs), never uses ASN1Obj's OID reading where it would get it wrong (it adds in 32
// bits, so 2.5.29.(17 + 2^32) would read as 2.5.29.17, the SAN), picks the RFC 5280 §4.1
// fields, checking each one's type, and is checked against @peculiar/asn1-x509 on real, generated
// and mutated certificates (certificate-der.test.ts). Each extension value is parsed once:
// ASN1Obj already tried it as DER, and its children are checked, not parsed again (innerValue).
// Measured on a 1 KB Fulcio certificate with GitHub CI claims (AMD EPYC, Node 20): ASN1Obj
// decodes it in ~22 µs and this whole read takes ~45 µs; @peculiar/x509, which the log used
// before, ~1.9 ms (asn1js, and every extension decoded twice); node:crypto's X509Certificate
// (OpenSSL) ~120 µs just to construct, and it exposes neither the Fulcio extensions nor keyUsage.
import { ASN1Obj } from '@sigstore/core';
import { errorMessage, isLogError, LogError } from '../errors.ts';

/** FULCIO_OID_ARC is the arc of Fulcio's certificate extensions (1.3.6.1.4.1.57264.1.N). */
export const FULCIO_OID_ARC = '1.3.6.1.4.1.57264.1';
/** OID_SUBJECT_ALT_NAME is the subjectAltName extension (RFC 5280 §4.2.1.6). */
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';
/** OID_KEY_USAGE is the keyUsage extension (RFC 5280 §4.2.1.3). */
export const OID_KEY_USAGE = '2.5.29.15';
/** OID_BASIC_CONSTRAINTS is the basicConstraints extension (RFC 5280 §4.2.1.9). */
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
/** OID_EXT_KEY_USAGE is the extKeyUsage extension (RFC 5280 §4.2.1.12). */
export const OID_EXT_KEY_USAGE = '2.5.29.37';

/** KEY_USAGE_DIGITAL_SIGNATURE is bit 0 of keyUsage, as CertificateDer.keyUsage holds it. */
export const KEY_USAGE_DIGITAL_SIGNATURE = 1;

/** CertificateDer is what a certificate holds of what Vigil reads. Nothing in it is trusted. */
export interface CertificateDer {
  /** spki is the SubjectPublicKeyInfo, exactly as it appears in the certificate. */
  spki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** emails and uris are the SAN's rfc822Name and URI values (IA5String read as Latin-1), in order. */
  emails: string[];
  uris: string[];
  /** fulcio maps each decodable Fulcio extension (1.3.6.1.4.1.57264.1.N) to its value. */
  fulcio: Map<string, string>;
  /** extensions are every extension's OID and criticality, in order, repeats included. */
  extensions: { oid: string; critical: boolean }[];
  /**
   * duplicateExtension is the first OID that appears twice, which RFC 5280 §4.2 forbids (Go's
   * x509 refuses such a certificate), else null. The fields above hold each extension's first
   * occurrence, the one sigstore-js reads.
   */
  duplicateExtension: string | null;
  /** basicConstraints is null when the extension is absent; pathLength undefined when unbounded. */
  basicConstraints: { ca: boolean; pathLength: number | undefined } | null;
  /** extendedKeyUsages are extKeyUsage's OIDs, or null when the extension is absent. */
  extendedKeyUsages: string[] | null;
  /** keyUsage has bit i set for keyUsage bit i (digitalSignature is 1), or is null when absent. */
  keyUsage: number | null;
}

/** MAX_PATH_LENGTH bounds a pathLenConstraint read (any larger bound is the same as none here). */
const MAX_PATH_LENGTH = 2 ** 31 - 1;

const UTF8 = new TextDecoder('utf-8', { fatal: true });
// Universal tag numbers (X.680 §8.4) of the types read here.
const BOOLEAN = 1;
const INTEGER = 2;
const BIT_STRING = 3;
const OCTET_STRING = 4;
const OBJECT_IDENTIFIER = 6;
const UTF8_STRING = 12;
const SEQUENCE = 16;
const UTC_TIME = 23;
const GENERALIZED_TIME = 24;

/**
 * readCertificateDer reads der (attacker-controlled) as one certificate with no trailing bytes.
 * Throws LogError 'malformed_certificate' with a reason, and nothing else, on anything that is not
 * a DER certificate or holds an undecodable SAN, Fulcio extension .1–.24, basicConstraints,
 * extKeyUsage or keyUsage.
 */
export function readCertificateDer(der: Uint8Array): CertificateDer {
  try {
    return readFields(der);
  } catch (err) {
    if (isLogError(err)) throw err;
    throw malformed(`certificate is undecodable: ${errorMessage(err)}`, err);
  }
}

function malformed(reason: string, cause?: unknown): LogError {
  return new LogError('malformed_certificate', reason, cause === undefined ? undefined : { cause });
}

function readFields(der: Uint8Array): CertificateDer {
  const cert = decode(der);
  const [tbs, signatureAlgorithm, signature, ...rest] = sequence(cert.root, 'Certificate');
  if (!isUniversal(signatureAlgorithm, SEQUENCE, true) || !isUniversal(signature, BIT_STRING, false) || rest.length > 0) {
    throw malformed('certificate is not a SEQUENCE of TBSCertificate, AlgorithmIdentifier, BIT STRING');
  }
  const items = sequence(tbs, 'TBSCertificate');
  const v = isContext(items[0], 0, true) ? 1 : 0; // [0] EXPLICIT version
  if (!isUniversal(items[v], INTEGER, false)) throw malformed('certificate serialNumber is not an INTEGER');
  sequence(items[v + 1], 'signature');
  sequence(items[v + 2], 'issuer');
  sequence(items[v + 4], 'subject');
  const validity = sequence(items[v + 3], 'validity');
  if (validity.length !== 2) throw malformed('certificate validity is not a SEQUENCE of two times');
  const spki = items[v + 5];
  const [algorithm, key, ...more] = sequence(spki, 'subjectPublicKeyInfo');
  if (!isUniversal(sequence(algorithm, 'subjectPublicKeyInfo algorithm')[0], OBJECT_IDENTIFIER, false) || !isUniversal(key, BIT_STRING, false) || more.length > 0) {
    throw malformed('certificate subjectPublicKeyInfo is not a SEQUENCE of AlgorithmIdentifier, BIT STRING');
  }
  const fields: CertificateDer = {
    spki: new Uint8Array(encodingOf(cert, spki!)),
    notBefore: readTime(validity[0], 'notBefore'),
    notAfter: readTime(validity[1], 'notAfter'),
    emails: [],
    uris: [],
    fulcio: new Map(),
    extensions: [],
    duplicateExtension: null,
    basicConstraints: null,
    extendedKeyUsages: null,
    keyUsage: null,
  };
  const last = items.length - 1;
  for (let i = v + 6; i <= last; i++) {
    const t = items[i];
    if (!(isContext(t, 1) || isContext(t, 2) || (isContext(t, 3, true) && i === last))) {
      throw malformed('certificate has an unexpected TBSCertificate field after its subjectPublicKeyInfo');
    }
  }
  const wrapper = items[last];
  if (last >= v + 6 && isContext(wrapper, 3, true)) {
    const list = wrapper!.subs;
    if (list.length !== 1) throw malformed('certificate [3] extensions does not hold exactly one SEQUENCE');
    const seen = new Set<string>();
    for (const ext of sequence(list[0], 'extensions')) readExtension(ext, cert, fields, seen);
  }
  return fields;
}

/**
 * Decoded is a DER value read whole and checked. ASN1Obj reads a copy of the input, and its values
 * are views of that copy: `base` is where the input starts in the copy's buffer, so an element's
 * input offset is its value's byteOffset minus base.
 */
interface Decoded {
  root: ASN1Obj;
  input: Buffer;
  base: number;
}

// parseQuietly runs ASN1Obj.parseBuffer without stack traces: it tries every OCTET STRING's
// contents as DER and catches the error when they are not (Fulcio's raw-string extensions), and
// capturing those stacks was 7% of parsing an entry. Synchronous, so the limit is restored
// before anything else runs.
function parseQuietly(buf: Buffer): ASN1Obj {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return ASN1Obj.parseBuffer(buf as Buffer<ArrayBuffer>);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function decode(der: Uint8Array): Decoded {
  const input = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const root = parseQuietly(input);
  // The root's contents start after its tag and length bytes.
  const rootHeader = input[1]! < 0x80 ? 2 : 2 + (input[1]! & 0x7f);
  const base = root.value.byteOffset - rootHeader;
  if (checkDer(root, 0, base) !== input.length) throw malformed('certificate has trailing bytes');
  return { root, input, base };
}

/** encodingOf returns an element's own bytes (tag, length and contents) as they appear in the input. */
function encodingOf(d: Decoded, obj: ASN1Obj): Uint8Array {
  // checkDer proved every header minimal, so an element starts that many bytes before its contents.
  const contentStart = obj.value.byteOffset - d.base;
  return d.input.subarray(contentStart - minimalHeaderLength(obj.value.length), contentStart + obj.value.length);
}

// innerValue returns the one DER value an extension's OCTET STRING holds, or null when it holds
// anything else. ASN1Obj already parsed the contents on speculation (parseStream tries every
// OCTET STRING's contents as DER and keeps the children when they parse whole), so they are not
// parsed again: the children it kept are checked as decode checks a root, and there must be one.
function innerValue(d: Decoded, octets: ASN1Obj): ASN1Obj | null {
  if (octets.subs.length !== 1) return null;
  const inner = octets.subs[0]!;
  const start = octets.value.byteOffset - d.base;
  try {
    return checkDer(inner, start, d.base) === start + octets.value.length ? inner : null;
  } catch (err) {
    if (isLogError(err)) return null;
    throw err;
  }
}

/** minimalHeaderLength is the DER tag and length bytes of an element with `len` content bytes (one-byte tags). */
function minimalHeaderLength(len: number): number {
  let lengthBytes = 0;
  for (let rest = len; rest > 0; rest = Math.floor(rest / 256)) lengthBytes++;
  return 1 + (len < 0x80 ? 1 : 1 + lengthBytes);
}

// checkDer walks a constructed element's children in order, starting at `start` (its offset in
// the input; `base` turns ASN1Obj's offsets into input offsets), and returns the offset after it.
// It refuses what ASN1Obj lets through but DER forbids: a length in more bytes than it needs (so
// every element has one encoding, and the SPKI hashed for a fingerprint is the certificate's
// bytes), a constructed OCTET or BIT STRING, a BOOLEAN other than one byte 00 or FF, and an OBJECT
// IDENTIFIER that is empty, ends mid-arc or pads an arc with a leading 0x80 (X.690 §8.19.2).
// ASN1Obj already refused indefinite lengths and children that run past their parent. The
// contents of an OCTET STRING are not walked here: ASN1Obj parses them on speculation, but they
// are a value; innerValue checks them where they are read as DER.
function checkDer(obj: ASN1Obj, start: number, base: number): number {
  const contentStart = obj.value.byteOffset - base;
  const len = obj.value.length;
  if (contentStart - start !== minimalHeaderLength(len)) throw malformed('certificate has a length not in its shortest form, which DER forbids');
  if (obj.tag.class === 0) {
    const n = obj.tag.number;
    if ((n === OCTET_STRING || n === BIT_STRING) && obj.tag.constructed) throw malformed('certificate has a constructed string, which DER forbids');
    if (n === BOOLEAN && !(len === 1 && (obj.value[0] === 0x00 || obj.value[0] === 0xff))) throw malformed('certificate has a BOOLEAN that is not 00 or FF, which DER forbids');
    if (n === OBJECT_IDENTIFIER) checkOid(obj.value);
  }
  let at = contentStart;
  if (obj.tag.constructed) for (const child of obj.subs) at = checkDer(child, at, base);
  return contentStart + len;
}

function checkOid(bytes: Uint8Array): void {
  if (bytes.length === 0 || (bytes[bytes.length - 1]! & 0x80) !== 0) throw malformed('certificate has a truncated OBJECT IDENTIFIER');
  let arcStart = true;
  for (const b of bytes) {
    if (arcStart && b === 0x80) throw malformed('certificate has an OBJECT IDENTIFIER arc not in its shortest form, which DER forbids');
    arcStart = (b & 0x80) === 0;
  }
}

// oidOf returns an OBJECT IDENTIFIER (checked by checkDer) in dotted form. ASN1Obj's toOID adds up
// each arc in 32-bit integers and splits the first byte alone into the first two arcs as n / 40
// and n % 40, so it returns the wrong text for an arc of 2^28 or more and for a first
// subidentifier of 120 or more (2.40 and up: 0x78 reads as 3.0). Such an OID gets a form no
// dotted OID has ("?" and its hex), so it can only be an unknown one; none names anything read here.
function oidOf(obj: ASN1Obj): string {
  const bytes = obj.value;
  let arcBytes = 0;
  let plain = bytes[0]! < 120;
  for (let i = 0; i < bytes.length && plain; i++) {
    arcBytes = (bytes[i]! & 0x80) === 0 ? 0 : arcBytes + 1;
    if (arcBytes >= 4) plain = false;
  }
  return plain ? obj.toOID() : `?${bytes.toString('hex')}`;
}

function isUniversal(t: ASN1Obj | null | undefined, tag: number, constructed: boolean): t is ASN1Obj {
  return t !== undefined && t !== null && t.tag.class === 0 && t.tag.number === tag && t.tag.constructed === constructed;
}

function sequence(t: ASN1Obj | null | undefined, what: string): ASN1Obj[] {
  if (!isUniversal(t, SEQUENCE, true)) throw malformed(`certificate ${what} is missing or not a SEQUENCE`);
  return t.subs;
}

function isContext(t: ASN1Obj | undefined, tag: number, constructed?: boolean): boolean {
  if (t === undefined || t.tag.class !== 2 || t.tag.number !== tag) return false;
  return constructed === undefined || t.tag.constructed === constructed;
}

// readTime reads a validity time: UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ of a
// real instant, the only forms RFC 5280 §4.1.2.5 allows. ASN1Obj's toDate also takes fractions and
// leaves a month 13 to Date, so the instant must format back to exactly the bytes given.
function readTime(t: ASN1Obj | undefined, what: string): Date {
  const utc = isUniversal(t, UTC_TIME, false);
  if (!utc && !isUniversal(t, GENERALIZED_TIME, false)) throw malformed(`certificate ${what} is not a UTCTime or GeneralizedTime`);
  const given = t!.value.toString('latin1');
  let date: Date | undefined;
  try {
    date = t!.toDate();
  } catch {
    date = undefined;
  }
  if (date === undefined || !Number.isFinite(date.getTime())) throw malformed(`certificate ${what} ${JSON.stringify(given)} is not a valid time in Z form`);
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const canonical = `${utc ? iso.slice(2, 4) : iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  if (canonical !== given) throw malformed(`certificate ${what} ${JSON.stringify(given)} is not a valid time in Z form`);
  return date;
}

function readExtension(ext: ASN1Obj, cert: Decoded, out: CertificateDer, seen: Set<string>): void {
  const [id, second, third, ...rest] = sequence(ext, 'Extension');
  const flagged = isUniversal(second, BOOLEAN, false); // critical BOOLEAN DEFAULT FALSE, present
  const value = flagged ? third : second;
  if (!isUniversal(id, OBJECT_IDENTIFIER, false) || !isUniversal(value, OCTET_STRING, false) || rest.length > 0 || (!flagged && third !== undefined)) {
    throw malformed('certificate extension is not a SEQUENCE of OBJECT IDENTIFIER, BOOLEAN (optional), OCTET STRING');
  }
  const oid = oidOf(id);
  out.extensions.push({ oid, critical: flagged && second.value[0] === 0xff });
  if (seen.has(oid)) {
    out.duplicateExtension ??= oid;
    return;
  }
  seen.add(oid);
  if (oid === OID_SUBJECT_ALT_NAME) readGeneralNames(innerValue(cert, value), out);
  else if (oid === OID_BASIC_CONSTRAINTS) out.basicConstraints = readBasicConstraints(innerValue(cert, value));
  else if (oid === OID_EXT_KEY_USAGE) out.extendedKeyUsages = readExtKeyUsage(innerValue(cert, value));
  else if (oid === OID_KEY_USAGE) out.keyUsage = readKeyUsage(innerValue(cert, value));
  else if (oid.startsWith(FULCIO_ARC_PREFIX)) readFulcioExtension(oid, cert, value, out.fulcio);
}

// readGeneralNames reads a SubjectAltName value (GeneralNames, RFC 5280 §4.2.1.6): its
// rfc822Name [1] and uniformResourceIdentifier [6] values, IA5String read as Latin-1.
function readGeneralNames(names: ASN1Obj | null, out: CertificateDer): void {
  if (names === null) throw malformed('certificate SAN is not one DER value');
  for (const name of sequence(names, 'SAN')) {
    if (name.tag.constructed) continue;
    if (isContext(name, 1)) out.emails.push(name.value.toString('latin1'));
    else if (isContext(name, 6)) out.uris.push(name.value.toString('latin1'));
  }
}

// readBasicConstraints reads SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER
// (0..MAX) OPTIONAL } (RFC 5280 §4.2.1.9). An explicit FALSE is taken, as Go's x509 takes it.
function readBasicConstraints(value: ASN1Obj | null): CertificateDer['basicConstraints'] {
  const fields = sequence(value, 'basicConstraints');
  let at = 0;
  let ca = false;
  if (isUniversal(fields[at], BOOLEAN, false)) ca = fields[at++]!.value[0] === 0xff;
  let pathLength: number | undefined;
  if (isUniversal(fields[at], INTEGER, false)) pathLength = readPathLength(fields[at++]!);
  if (at !== fields.length) throw malformed('certificate basicConstraints is not a SEQUENCE of BOOLEAN (optional), INTEGER (optional)');
  return { ca, pathLength };
}

// readPathLength reads a non-negative INTEGER in its shortest form; any bound past MAX_PATH_LENGTH
// allows as much as none, so it reads as MAX_PATH_LENGTH.
function readPathLength(t: ASN1Obj): number {
  const b = t.value;
  if (b.length === 0 || (b.length > 1 && ((b[0] === 0x00 && b[1]! < 0x80) || (b[0] === 0xff && b[1]! >= 0x80)))) {
    throw malformed('certificate basicConstraints pathLenConstraint is not a DER INTEGER');
  }
  const n = t.toInteger();
  if (n < 0n) throw malformed('certificate basicConstraints pathLenConstraint is negative');
  return n > BigInt(MAX_PATH_LENGTH) ? MAX_PATH_LENGTH : Number(n);
}

// readExtKeyUsage reads SEQUENCE SIZE (1..MAX) OF KeyPurposeId (RFC 5280 §4.2.1.12).
function readExtKeyUsage(value: ASN1Obj | null): string[] {
  const ids = sequence(value, 'extKeyUsage');
  if (ids.length === 0) throw malformed('certificate extKeyUsage is empty');
  return ids.map((id) => {
    if (!isUniversal(id, OBJECT_IDENTIFIER, false)) throw malformed('certificate extKeyUsage holds something other than OBJECT IDENTIFIERs');
    return oidOf(id);
  });
}

// readKeyUsage reads the KeyUsage BIT STRING (RFC 5280 §4.2.1.3): bit i (the first content byte's
// most significant bit is bit 0) becomes 1 << i; bits past 15 define nothing and are not read.
// DER's unused bits must be zero (X.690 §11.2.1), and a string of no bits has no unused ones.
function readKeyUsage(value: ASN1Obj | null): number {
  if (!isUniversal(value, BIT_STRING, false)) throw malformed('certificate keyUsage is not a BIT STRING');
  const b = value.value;
  const unused = b[0];
  if (unused === undefined || unused > 7 || (b.length === 1 && unused !== 0) || (b.length > 1 && (b[b.length - 1]! & ((1 << unused) - 1)) !== 0)) {
    throw malformed('certificate keyUsage is not a DER BIT STRING');
  }
  let bits = 0;
  for (let i = 1; i < Math.min(b.length, 3); i++) {
    for (let j = 0; j < 8; j++) if ((b[i]! & (0x80 >> j)) !== 0) bits |= 1 << ((i - 1) * 8 + j);
  }
  return bits;
}

// readFulcioExtension decodes one extension of the Fulcio arc into out; later arcs (> .24) of
// unknown types are skipped.
function readFulcioExtension(oid: string, cert: Decoded, value: ASN1Obj, out: Map<string, string>): void {
  const arc = Number(oid.slice(FULCIO_ARC_PREFIX.length));
  if (!Number.isSafeInteger(arc)) return; // a deeper arc, not one of Fulcio's extensions
  const decoded = arc >= 1 && arc <= 6 ? utf8(value.value) : derUtf8String(innerValue(cert, value));
  if (decoded === null) {
    if (arc <= 24) throw malformed(`certificate has an undecodable Fulcio extension ${oid}`);
    return;
  }
  out.set(oid, decoded);
}

function utf8(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

// derUtf8String reads an extension's one DER value (innerValue) as a primitive UTF8String,
// decoded strictly (invalid UTF-8 is not read as Latin-1).
function derUtf8String(inner: ASN1Obj | null): string | null {
  return isUniversal(inner, UTF8_STRING, false) ? utf8(inner.value) : null;
}

const FULCIO_ARC_PREFIX = `${FULCIO_OID_ARC}.`;
