// entry-certificate.ts reads a signer's identity out of the certificate a log entry carries: the
// SAN (email or URI, verbatim), the OIDC issuer and the Fulcio CI claims (docs/oid-info.md: .1–.6
// raw strings, .8–.24 DER UTF8String), the key fingerprint and notBefore. It does not decide trust:
// the log chained the certificate when it accepted the entry, and the monitor matches on what the
// entry says, whoever issued it.
//
// Decoding is asn1js (the BER/DER decoder under @peculiar/asn1-x509 and @peculiar/x509, with its
// resource limits for untrusted input); this file only picks the RFC 5280 §4.1 fields out of the
// decoded tree, checking each one's type, and is checked against @peculiar/asn1-x509's Certificate
// model on real, generated and mutated certificates (entry-certificate.test.ts). asn1js alone is
// the fastest maintained option measured: the asn1-x509 model costs 1.5–2× as much, and OpenSSL
// (node:crypto X509Certificate) does not expose the Fulcio extensions. OID names and decoding
// rules are the log's (log/kinds/certificate.ts); key algorithms are not restricted, since a
// foreign log may have accepted keys Vigil's own log would refuse, and those signings count.
import { Boolean as AsnBoolean, BitString, Constructed, fromBER, GeneralizedTime, Integer, ObjectIdentifier, OctetString, Primitive, Sequence, UTCTime, Utf8String, type AsnType } from 'asn1js';
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
// No re-parsing of OCTET/BIT STRING contents (extension values are decoded on demand), no copy of
// the input (nothing decoded outlives the call); asn1js's default depth and node limits stay.
const BER_OPTIONS = { parseEmbedded: false, copyInput: false } as const;

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
  const [tbs, signatureAlgorithm, signature, ...rest] = sequence(decode(der, 'certificate'), 'Certificate');
  if (!(signatureAlgorithm instanceof Sequence) || !(signature instanceof BitString) || rest.length > 0) throw unparseable('certificate is not a SEQUENCE of TBSCertificate, AlgorithmIdentifier, BIT STRING');
  const items = sequence(tbs, 'TBSCertificate');
  const v = isContext(items[0], 0, true) ? 1 : 0; // [0] EXPLICIT version
  if (!(items[v] instanceof Integer)) throw unparseable('certificate serialNumber is not an INTEGER');
  for (const [at, name] of [[1, 'signature'], [2, 'issuer'], [4, 'subject']] as const) sequence(items[v + at], name);
  const notBefore = readTime(sequence(items[v + 3], 'validity')[0]);
  const spki = items[v + 5];
  const [algorithm, key, ...more] = sequence(spki, 'subjectPublicKeyInfo');
  if (!(sequence(algorithm, 'subjectPublicKeyInfo algorithm')[0] instanceof ObjectIdentifier) || !(key instanceof BitString) || more.length > 0) {
    throw unparseable('certificate subjectPublicKeyInfo is not a SEQUENCE of AlgorithmIdentifier, BIT STRING');
  }
  const fields: CertificateFields = { spki: new Uint8Array(spki!.valueBeforeDecodeView), notBefore, emails: [], uris: [], fulcio: new Map() };
  const optional = items.slice(v + 6);
  if (optional.some((t, i) => !(isContext(t, 1) || isContext(t, 2) || (isContext(t, 3, true) && i === optional.length - 1)))) {
    throw unparseable('certificate has an unexpected TBSCertificate field after its subjectPublicKeyInfo');
  }
  const wrapper = optional.at(-1);
  if (isContext(wrapper, 3, true)) {
    const list = (wrapper as Constructed).valueBlock.value;
    if (list.length !== 1) throw unparseable('certificate [3] extensions does not hold exactly one SEQUENCE');
    for (const ext of sequence(list[0], 'extensions')) readExtension(ext, fields);
  }
  return fields;
}

function decode(der: Uint8Array, what: string): AsnType {
  const { offset, result } = fromBER(der, BER_OPTIONS);
  if (offset === -1 || result.error !== '') throw unparseable(`${what} is not BER: ${result.error || 'undecodable'}`);
  if (offset !== der.length) throw unparseable(`${what} has trailing bytes`);
  checkLengths(result, what);
  return result;
}

// checkLengths refuses what asn1js lets through: an indefinite length (DER forbids it), and an
// element whose contents run past the length it declares (asn1js bounds children by the input,
// not by their parent, so a short SEQUENCE would silently swallow the fields after it).
function checkLengths(t: AsnType, what: string): void {
  if (t.lenBlock.isIndefiniteForm) throw unparseable(`${what} uses an indefinite length, which DER forbids`);
  if (t.valueBlock.blockLength !== t.lenBlock.length) throw unparseable(`${what} has an element whose contents do not match its length`);
  if (!t.idBlock.isConstructed) return;
  for (const child of (t.valueBlock as unknown as { value: AsnType[] }).value) checkLengths(child, what);
}

function sequence(t: AsnType | undefined, what: string): AsnType[] {
  if (!(t instanceof Sequence)) throw unparseable(`certificate ${what} is missing or not a SEQUENCE`);
  return t.valueBlock.value;
}

function isContext(t: AsnType | undefined, tag: number, constructed?: boolean): boolean {
  if (t === undefined || t.idBlock.tagClass !== 3 || t.idBlock.tagNumber !== tag) return false;
  return constructed === undefined || t.idBlock.isConstructed === constructed;
}

// readTime reads notBefore. asn1js's time parsing is lenient (month 13 rolls over), so the time
// must re-encode, with asn1js, to exactly the bytes given: UTCTime YYMMDDHHMMSSZ or GeneralizedTime
// YYYYMMDDHHMMSSZ of a real instant, the only forms RFC 5280 §4.1.2.5 allows.
function readTime(t: AsnType | undefined): Date {
  const given = t instanceof UTCTime || t instanceof GeneralizedTime ? Buffer.from(t.valueBlock.valueHexView).toString('latin1') : undefined;
  const date = given === undefined || t!.error !== '' ? undefined : (t as UTCTime).toDate();
  if (date === undefined || !Number.isFinite(date.getTime())) throw unparseable('certificate notBefore is not a UTCTime or GeneralizedTime');
  // GeneralizedTime extends UTCTime in asn1js, so it is tested first.
  const canonical = t instanceof GeneralizedTime ? new GeneralizedTime({ valueDate: date }).toString() : new UTCTime({ valueDate: date }).toString();
  if (canonical !== given) throw unparseable(`certificate notBefore ${JSON.stringify(given)} is not a valid time in Z form`);
  return date;
}

function readExtension(ext: AsnType, out: CertificateFields): void {
  const [id, second, third, ...rest] = sequence(ext, 'Extension');
  const critical = second instanceof AsnBoolean;
  const value = critical ? third : second;
  if (!(id instanceof ObjectIdentifier) || !(value instanceof OctetString) || value.idBlock.isConstructed || rest.length > 0 || (!critical && third !== undefined)) {
    throw unparseable('certificate extension is not a SEQUENCE of OBJECT IDENTIFIER, BOOLEAN (optional), OCTET STRING');
  }
  const oid = id.valueBlock.toString();
  const bytes = value.valueBlock.valueHexView;
  if (oid === OID_SUBJECT_ALT_NAME) readGeneralNames(bytes, out);
  else if (oid.startsWith(`${FULCIO_OID_ARC}.`)) readFulcioExtension(oid, bytes, out.fulcio);
}

// readGeneralNames reads a SubjectAltName value (GeneralNames, RFC 5280 §4.2.1.6): its
// rfc822Name [1] and uniformResourceIdentifier [6] values, IA5String read as Latin-1.
function readGeneralNames(value: Uint8Array, out: CertificateFields): void {
  out.emails = [];
  out.uris = [];
  for (const name of sequence(decode(value, 'certificate SAN'), 'SAN')) {
    if (!(name instanceof Primitive)) continue;
    const text = (): string => Buffer.from(name.valueBlock.valueHexView).toString('latin1');
    if (isContext(name, 1)) out.emails.push(text());
    else if (isContext(name, 6)) out.uris.push(text());
  }
}

function bound(value: string, what: string): string {
  if (value.length > MAX_CLAIM_LENGTH) throw unparseable(`certificate ${what} is longer than ${MAX_CLAIM_LENGTH} characters`);
  return value;
}

// readFulcioExtension decodes one extension of the Fulcio arc into out; later arcs (> .24) of
// unknown types are skipped, as log/kinds/certificate.ts does.
function readFulcioExtension(oid: string, value: Uint8Array, out: Map<string, string>): void {
  const arc = Number(oid.slice(FULCIO_OID_ARC.length + 1));
  if (!Number.isSafeInteger(arc)) return; // a deeper arc, not one of Fulcio's extensions
  const decoded = arc >= 1 && arc <= 6 ? utf8(value) : derUtf8String(value);
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

// derUtf8String reads value as exactly one primitive UTF8String; asn1js's own getValue() would
// turn invalid UTF-8 into Latin-1, so the bytes are decoded here, strictly.
function derUtf8String(value: Uint8Array): string | null {
  let result: AsnType;
  try {
    result = decode(value, 'Fulcio extension');
  } catch {
    return null;
  }
  if (!(result instanceof Utf8String) || result.idBlock.isConstructed) return null;
  return utf8(result.valueBlock.valueHexView);
}

const oid = (n: number): string => `${FULCIO_OID_ARC}.${n}`;

// ciClaims maps the Fulcio extensions onto CiClaims: each from its current OID, else from the
// deprecated GitHub-only one (signing-event.ts). Before .12 existed, GitHub certificates named the
// repository only as owner/name (.5); the URI is then rebuilt for GitHub's issuer alone.
function ciClaims(ext: ReadonlyMap<string, string>, issuer: string): CiClaims {
  const ci: CiClaims = {};
  const set = (name: keyof CiClaims, current: number, deprecated?: number): void => {
    const v = ext.get(oid(current)) ?? (deprecated === undefined ? undefined : ext.get(oid(deprecated)));
    if (v !== undefined && v !== '') ci[name] = v;
  };
  set('sourceRepositoryUri', 12);
  set('workflowTrigger', 20, 2);
  set('sha', 13, 3);
  set('ref', 14, 6);
  set('buildSignerUri', 9);
  set('runnerEnvironment', 11);
  set('runInvocationUri', 21);
  const legacyRepo = ext.get(oid(5));
  if (ci.sourceRepositoryUri === undefined && legacyRepo && issuer === GITHUB_ACTIONS_ISSUER) {
    ci.sourceRepositoryUri = `https://github.com/${legacyRepo}`;
  }
  const repo = ci.sourceRepositoryUri === undefined ? undefined : pathOf(ci.sourceRepositoryUri);
  if (repo) ci.repository = repo;
  else if (legacyRepo) ci.repository = legacyRepo;
  const buildConfig = ext.get(oid(18));
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
