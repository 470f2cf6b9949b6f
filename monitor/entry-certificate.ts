// entry-certificate.ts reads a signer's identity out of the certificate a log entry carries: the
// SAN (email or URI, verbatim), the OIDC issuer and the Fulcio CI claims (docs/oid-info.md: .1–.6
// raw strings, .8–.24 DER UTF8String), the key fingerprint and notBefore. It does not decide trust:
// the log chained the certificate when it accepted the entry, and the monitor matches on what the
// entry says, whoever issued it.
//
// Decoding is @sigstore/core's ASN1Obj (the DER reader sigstore-js verifies bundles with): a lean
// tag-length-value walk that refuses indefinite lengths and children running past their parent.
// On top of it this file refuses what DER forbids and ASN1Obj lets through (non-minimal lengths,
// trailing bytes, constructed strings), picks the RFC 5280 §4.1 fields, checking each one's type,
// and is checked against @peculiar/asn1-x509's Certificate model on real, generated and mutated
// certificates (entry-certificate.test.ts). Each extension value is parsed once: ASN1Obj already
// tried it as DER, and its children are checked, not parsed again (innerValue). Measured on a 1 KB
// Fulcio certificate with GitHub CI claims (AMD EPYC, Node 20): asn1js, used before, took ~200 µs
// to decode it, ASN1Obj ~22 µs, this whole read ~42 µs; OpenSSL (node:crypto X509Certificate)
// takes ~120 µs just to construct and does not expose the Fulcio extensions. OID names and decoding
// rules are the log's (log/kinds/certificate.ts); key algorithms are not restricted, since a
// foreign log may have accepted keys Vigil's own log would refuse, and those signings count.
import { ASN1Obj } from '@sigstore/core';
import { errorMessage } from '../log/errors.ts';
import { FULCIO_OID_ARC, OID_FULCIO_ISSUER_V1, OID_FULCIO_ISSUER_V2 } from '../log/kinds/certificate.ts';
import { encodeHex } from '../tlog/base64.ts';
import { sha256 } from '../tlog/sha256.ts';
import { isMonitorError, MonitorError } from './errors.ts';
import type { CiClaims, SignerIdentity } from './signing-event.ts';

/** CertificateSigner is what a certificate says about its holder, ready for a SigningEvent. */
export interface CertificateSigner {
  identity: SignerIdentity;
  /** keyFingerprint is lowercase hex SHA-256 of the certificate's DER SubjectPublicKeyInfo. */
  keyFingerprint: string;
  notBeforeSec: number;
}

/** CertificateFields are the parts of a certificate the monitor reads. */
export interface CertificateFields {
  /** spki is the SubjectPublicKeyInfo, exactly as it appears in the certificate. */
  spki: Uint8Array;
  notBefore: Date;
  /** emails and uris are the rfc822Name and URI SANs (IA5String read as Latin-1), in order. */
  emails: string[];
  uris: string[];
  /** fulcio maps each decodable Fulcio extension (1.3.6.1.4.1.57264.1.N) to its value. */
  fulcio: Map<string, string>;
}

/** MAX_CLAIM_LENGTH bounds each SAN and extension value kept, in UTF-16 units (URLs, refs). */
export const MAX_CLAIM_LENGTH = 4096;

const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
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
 * readCertificateSigner parses der (attacker-controlled: whoever logged the entry chose it) and
 * returns its signer. Throws MonitorError 'unparseable_entry' with a reason, and nothing else, on
 * anything that is not a certificate or on an undecodable Fulcio extension .1–.24. A certificate
 * with no email or URI SAN (a username otherName, say) is identified by its key, as a bare key is.
 */
export function readCertificateSigner(der: Uint8Array): CertificateSigner {
  const fields = readCertificateFields(der);
  const keyFingerprint = encodeHex(sha256(fields.spki));
  const notBeforeSec = Math.floor(fields.notBefore.getTime() / 1000);
  // sigstore-js and cosign take the URI SAN, else the email; Fulcio issues exactly one.
  const uri = fields.uris[0];
  const email = fields.emails[0];
  const san = uri ?? email;
  if (san === undefined) return { identity: { kind: 'key', san: keyFingerprint }, keyFingerprint, notBeforeSec };
  const issuer = fields.fulcio.get(OID_FULCIO_ISSUER_V2) ?? fields.fulcio.get(OID_FULCIO_ISSUER_V1) ?? '';
  const identity: SignerIdentity = { kind: uri !== undefined ? 'uri' : 'email', san: bound(san, 'SAN'), issuer, ci: ciClaims(fields.fulcio, issuer) };
  return { identity, keyFingerprint, notBeforeSec };
}

/**
 * readCertificateFields reads der (attacker-controlled) as one certificate with no trailing bytes.
 * A repeated SAN or Fulcio extension counts once, the last one winning. Throws MonitorError
 * 'unparseable_entry' (only) on anything else.
 */
export function readCertificateFields(der: Uint8Array): CertificateFields {
  try {
    return readFields(der);
  } catch (err) {
    if (isMonitorError(err)) throw err;
    throw unparseable(`certificate is undecodable: ${errorMessage(err)}`, err);
  }
}

function unparseable(reason: string, cause?: unknown): MonitorError {
  return new MonitorError('unparseable_entry', reason, cause === undefined ? undefined : { cause });
}

function readFields(der: Uint8Array): CertificateFields {
  const cert = decode(der, 'certificate');
  const [tbs, signatureAlgorithm, signature, ...rest] = sequence(cert.root, 'Certificate');
  if (!isUniversal(signatureAlgorithm, SEQUENCE, true) || !isUniversal(signature, BIT_STRING, false) || rest.length > 0) {
    throw unparseable('certificate is not a SEQUENCE of TBSCertificate, AlgorithmIdentifier, BIT STRING');
  }
  const items = sequence(tbs, 'TBSCertificate');
  const v = isContext(items[0], 0, true) ? 1 : 0; // [0] EXPLICIT version
  if (!isUniversal(items[v], INTEGER, false)) throw unparseable('certificate serialNumber is not an INTEGER');
  sequence(items[v + 1], 'signature');
  sequence(items[v + 2], 'issuer');
  sequence(items[v + 4], 'subject');
  const notBefore = readTime(sequence(items[v + 3], 'validity')[0]);
  const spki = items[v + 5];
  const [algorithm, key, ...more] = sequence(spki, 'subjectPublicKeyInfo');
  if (!isUniversal(sequence(algorithm, 'subjectPublicKeyInfo algorithm')[0], OBJECT_IDENTIFIER, false) || !isUniversal(key, BIT_STRING, false) || more.length > 0) {
    throw unparseable('certificate subjectPublicKeyInfo is not a SEQUENCE of AlgorithmIdentifier, BIT STRING');
  }
  const fields: CertificateFields = { spki: new Uint8Array(encodingOf(cert, spki!)), notBefore, emails: [], uris: [], fulcio: new Map() };
  const last = items.length - 1;
  for (let i = v + 6; i <= last; i++) {
    const t = items[i];
    if (!(isContext(t, 1) || isContext(t, 2) || (isContext(t, 3, true) && i === last))) {
      throw unparseable('certificate has an unexpected TBSCertificate field after its subjectPublicKeyInfo');
    }
  }
  const wrapper = items[last];
  if (last >= v + 6 && isContext(wrapper, 3, true)) {
    const list = wrapper!.subs;
    if (list.length !== 1) throw unparseable('certificate [3] extensions does not hold exactly one SEQUENCE');
    for (const ext of sequence(list[0], 'extensions')) readExtension(ext, cert, fields);
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

function decode(der: Uint8Array, what: string): Decoded {
  const input = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const root = parseQuietly(input);
  // The root's contents start after its tag and length bytes.
  const rootHeader = input[1]! < 0x80 ? 2 : 2 + (input[1]! & 0x7f);
  const base = root.value.byteOffset - rootHeader;
  if (checkDer(root, 0, base) !== input.length) throw unparseable(`${what} has trailing bytes`);
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
    if (isMonitorError(err)) return null;
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
// every element has one encoding, and the SPKI hashed for the fingerprint is the certificate's
// bytes), and a constructed OCTET or BIT STRING. ASN1Obj already refused indefinite lengths and
// children that run past their parent. The contents of an OCTET STRING are not walked: ASN1Obj
// parses them on speculation, but they are a value here.
function checkDer(obj: ASN1Obj, start: number, base: number): number {
  const contentStart = obj.value.byteOffset - base;
  const len = obj.value.length;
  if (contentStart - start !== minimalHeaderLength(len)) throw unparseable('certificate has a length not in its shortest form, which DER forbids');
  if (obj.tag.class === 0 && (obj.tag.number === OCTET_STRING || obj.tag.number === BIT_STRING) && obj.tag.constructed) {
    throw unparseable('certificate has a constructed string, which DER forbids');
  }
  let at = contentStart;
  if (obj.tag.constructed) for (const child of obj.subs) at = checkDer(child, at, base);
  return contentStart + len;
}

function isUniversal(t: ASN1Obj | null | undefined, tag: number, constructed: boolean): t is ASN1Obj {
  return t !== undefined && t !== null && t.tag.class === 0 && t.tag.number === tag && t.tag.constructed === constructed;
}

function sequence(t: ASN1Obj | undefined, what: string): ASN1Obj[] {
  if (!isUniversal(t, SEQUENCE, true)) throw unparseable(`certificate ${what} is missing or not a SEQUENCE`);
  return t.subs;
}

function isContext(t: ASN1Obj | undefined, tag: number, constructed?: boolean): boolean {
  if (t === undefined || t.tag.class !== 2 || t.tag.number !== tag) return false;
  return constructed === undefined || t.tag.constructed === constructed;
}

// readTime reads notBefore: UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ of a real
// instant, the only forms RFC 5280 §4.1.2.5 allows. ASN1Obj's toDate also takes fractions and
// leaves a month 13 to Date, so the instant must format back to exactly the bytes given.
function readTime(t: ASN1Obj | undefined): Date {
  const utc = isUniversal(t, UTC_TIME, false);
  if (!utc && !isUniversal(t, GENERALIZED_TIME, false)) throw unparseable('certificate notBefore is not a UTCTime or GeneralizedTime');
  const given = t!.value.toString('latin1');
  let date: Date | undefined;
  try {
    date = t!.toDate();
  } catch {
    date = undefined;
  }
  if (date === undefined || !Number.isFinite(date.getTime())) throw unparseable(`certificate notBefore ${JSON.stringify(given)} is not a valid time in Z form`);
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const canonical = `${utc ? iso.slice(2, 4) : iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  if (canonical !== given) throw unparseable(`certificate notBefore ${JSON.stringify(given)} is not a valid time in Z form`);
  return date;
}

function readExtension(ext: ASN1Obj, cert: Decoded, out: CertificateFields): void {
  const [id, second, third, ...rest] = sequence(ext, 'Extension');
  const critical = isUniversal(second, BOOLEAN, false);
  const value = critical ? third : second;
  if (!isUniversal(id, OBJECT_IDENTIFIER, false) || !isUniversal(value, OCTET_STRING, false) || rest.length > 0 || (!critical && third !== undefined)) {
    throw unparseable('certificate extension is not a SEQUENCE of OBJECT IDENTIFIER, BOOLEAN (optional), OCTET STRING');
  }
  const oid = id.toOID();
  if (oid === OID_SUBJECT_ALT_NAME) readGeneralNames(innerValue(cert, value), out);
  else if (oid.startsWith(FULCIO_ARC_PREFIX)) readFulcioExtension(oid, cert, value, out.fulcio);
}

// readGeneralNames reads a SubjectAltName value (GeneralNames, RFC 5280 §4.2.1.6): its
// rfc822Name [1] and uniformResourceIdentifier [6] values, IA5String read as Latin-1.
function readGeneralNames(names: ASN1Obj | null, out: CertificateFields): void {
  if (names === null) throw unparseable('certificate SAN is not one DER value');
  out.emails = [];
  out.uris = [];
  for (const name of sequence(names, 'SAN')) {
    if (name.tag.constructed) continue;
    if (isContext(name, 1)) out.emails.push(name.value.toString('latin1'));
    else if (isContext(name, 6)) out.uris.push(name.value.toString('latin1'));
  }
}

function bound(value: string, what: string): string {
  if (value.length > MAX_CLAIM_LENGTH) throw unparseable(`certificate ${what} is longer than ${MAX_CLAIM_LENGTH} characters`);
  return value;
}

// readFulcioExtension decodes one extension of the Fulcio arc into out; later arcs (> .24) of
// unknown types are skipped, as log/kinds/certificate.ts does.
function readFulcioExtension(oid: string, cert: Decoded, value: ASN1Obj, out: Map<string, string>): void {
  const arc = Number(oid.slice(FULCIO_ARC_PREFIX.length));
  if (!Number.isSafeInteger(arc)) return; // a deeper arc, not one of Fulcio's extensions
  const decoded = arc >= 1 && arc <= 6 ? utf8(value.value) : derUtf8String(innerValue(cert, value));
  if (decoded === null) {
    if (arc <= 24) throw unparseable(`certificate has an undecodable Fulcio extension ${oid}`);
    return;
  }
  out.set(oid, bound(decoded, oid));
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
// FULCIO_OIDS[n] is the Fulcio extension 1.3.6.1.4.1.57264.1.n, for the arcs ciClaims reads.
const FULCIO_OIDS = Array.from({ length: 25 }, (_, n) => `${FULCIO_ARC_PREFIX}${n}`);

// setClaim sets ci[name] from Fulcio extension .current, else from its deprecated .deprecated,
// unless the value is empty. (A top-level function, not a closure in ciClaims: tsx names every
// closure it creates, which cost ~5% of reading an entry.)
function setClaim(ci: CiClaims, ext: ReadonlyMap<string, string>, name: keyof CiClaims, current: number, deprecated?: number): void {
  const v = ext.get(FULCIO_OIDS[current]!) ?? (deprecated === undefined ? undefined : ext.get(FULCIO_OIDS[deprecated]!));
  if (v !== undefined && v !== '') ci[name] = v;
}

// ciClaims maps the Fulcio extensions onto CiClaims: each from its current OID, else from the
// deprecated GitHub-only one (signing-event.ts). Before .12 existed, GitHub certificates named the
// repository only as owner/name (.5); the URI is then rebuilt for GitHub's issuer alone.
function ciClaims(ext: ReadonlyMap<string, string>, issuer: string): CiClaims {
  const ci: CiClaims = {};
  setClaim(ci, ext, 'sourceRepositoryUri', 12);
  setClaim(ci, ext, 'workflowTrigger', 20, 2);
  setClaim(ci, ext, 'sha', 13, 3);
  setClaim(ci, ext, 'ref', 14, 6);
  setClaim(ci, ext, 'buildSignerUri', 9);
  setClaim(ci, ext, 'runnerEnvironment', 11);
  setClaim(ci, ext, 'runInvocationUri', 21);
  const legacyRepo = ext.get(FULCIO_OIDS[5]!);
  if (ci.sourceRepositoryUri === undefined && legacyRepo && issuer === GITHUB_ACTIONS_ISSUER) {
    ci.sourceRepositoryUri = `https://github.com/${legacyRepo}`;
  }
  const repo = ci.sourceRepositoryUri === undefined ? undefined : pathOf(ci.sourceRepositoryUri);
  if (repo) ci.repository = repo;
  else if (legacyRepo) ci.repository = legacyRepo;
  const buildConfig = ext.get(FULCIO_OIDS[18]!);
  const workflowRef = buildConfig === undefined ? undefined : pathOf(buildConfig);
  if (workflowRef) {
    ci.workflowRef = workflowRef;
    const at = workflowRef.indexOf('@');
    ci.workflow = at > 0 ? workflowRef.slice(0, at) : workflowRef;
  }
  return ci;
}

// pathOf returns a URI without its scheme, host and leading '/': "https://github.com/o/r" → "o/r".
// A value that is not scheme://host/path gives undefined.
function pathOf(uri: string): string | undefined {
  const sep = uri.indexOf('://');
  if (sep <= 0) return undefined;
  const slash = uri.indexOf('/', sep + 3);
  if (slash < 0 || slash === uri.length - 1) return undefined;
  return uri.slice(slash + 1);
}
