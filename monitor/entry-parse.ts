// entry-parse.ts turns the leaf bytes of a log entry into the SigningEvent the matcher and the
// search index consume. The bytes are the canonical JSON body the log hashed (the caller has
// checked them against the tree): a Rekor v1-style body (hashedrekord 0.0.1, dsse 0.0.1), a
// rekor-tiles v2 one (hashedrekord 0.0.2 under spec.hashedRekordV002, dsse 0.0.2 under
// spec.dsseV002), or the precertificate 0.0.1 entry Vigil's CA logs before it issues a certificate
// (log/ca/precert-entry.ts, docs/ca.md). Signing shapes are the ones log/kinds writes (and
// rekor.sigstore.dev and log2025-1.rekor.sigstore.dev log): sigstore-interop.md §1–2.
//
// What a leaf holds, and so what an event can say:
// - hashedrekord: the artifact digest, and the signer's key or certificate.
// - dsse: only the payload's SHA-256 (and in 0.0.1 the envelope's), never the payload, so in-toto
//   subjects are not in the leaf. The payload hash is the artifact digest; subjects (digests, and
//   purls as namespaces) are added only when the caller passes the payload (parseLogEntry's
//   options), which must hash to payloadHash. An entry with several signatures is one event, signed
//   by its first signature's verifier (v1 bodies sort signatures; clients send one).
// - precertificate: a certificate was issued, nothing was signed yet. The event's identity is the
//   precertificate's holder (SAN, issuer, CI claims) and its key; there is no artifact digest. The
//   CT poison extension is one more critical extension to the certificate reader, which skips it.
// Leaves carry no time: integratedTimeSec is always undefined here (Rekor v1 states it beside the
// body, in the API response; the caller may set it). A precertificate's SCT timestamp is the CA's
// clock, not the log's; its notBefore (the same instant, to the second) times the event.
//
// Reading is lenient about unknown fields (the log wrote them, and a newer log version may add
// some) and strict about the types and encodings of the fields used. JSON and field helpers are
// the log's (log/kinds/request-json.ts); their LogErrors become MonitorError('unparseable_entry').
import { errorMessage, isLogError } from '../log/errors.ts';
import { PRECERTIFICATE_API_VERSION, PRECERTIFICATE_KIND } from '../log/ca/precert-entry.ts';
import { parsePem } from '../log/kinds/pem.ts';
import { fieldPath, parseRequestJson, readArray, readBase64, readLowerHex, readObject, readString } from '../log/kinds/request-json.ts';
import { MAX_ENTRY_BYTES } from '../log/kinds/verified-entry.ts';
import { encodeHex } from '../tlog/base64.ts';
import { equalBytes } from '../tlog/merkle.ts';
import { sha256 } from '../tlog/sha256.ts';
import { readCertificateSigner, type CertificateSigner } from './entry-certificate.ts';
import { isMonitorError, MonitorError } from './errors.ts';
import { parseStatementSubjects } from './in-toto.ts';
import { namespacesOfIdentity, type ArtifactDigest, type Namespace, type SigningEntryKind, type SigningEvent } from './signing-event.ts';

/** MAX_LEAF_BYTES bounds the leaf bytes parsed: the log's entry limit (tlog-tiles bundles use uint16 lengths). */
export const MAX_LEAF_BYTES = MAX_ENTRY_BYTES;
/** MAX_ENTRY_SIGNATURES bounds a dsse body's signatures (Vigil's log accepts 4; clients send 1). */
export const MAX_ENTRY_SIGNATURES = 16;
/** MAX_PRECERT_CHAIN bounds a precertificate entry's chain (Vigil's CA logs two: intermediate, root). */
export const MAX_PRECERT_CHAIN = 8;

/** ParseLogEntryOptions adds what the leaf does not hold. */
export interface ParseLogEntryOptions {
  /**
   * dssePayload is the payload of a dsse entry's envelope, when the caller has it (a bundle, a
   * log that serves envelopes). It must hash to the entry's payloadHash (else payload_mismatch);
   * its in-toto subjects then become artifact digests and purl namespaces.
   */
  dssePayload?: Uint8Array;
}

interface ParsedBody {
  kind: SigningEntryKind;
  signer: Signer;
  digests: ArtifactDigest[];
  /** payloadHash is a dsse entry's payload SHA-256. */
  payloadHash?: Uint8Array;
}

type Signer = { type: 'spki'; der: Uint8Array } | { type: 'certificate'; der: Uint8Array };

/**
 * parseLogEntry parses body, the exact leaf bytes of entry `index` of the log `logOrigin`
 * (attacker-controlled: whoever logged it chose its contents), into a SigningEvent. Throws
 * MonitorError 'unparseable_entry' naming the field, never a SyntaxError or RangeError; with
 * options.dssePayload, 'payload_mismatch' when the payload is not the entry's.
 */
export function parseLogEntry(logOrigin: string, index: bigint, body: Uint8Array, options: ParseLogEntryOptions = {}): SigningEvent {
  let parsed: ParsedBody;
  try {
    parsed = parseBody(body);
  } catch (err) {
    if (isMonitorError(err)) throw err;
    const reason = isLogError(err) ? err.message : errorMessage(err);
    throw new MonitorError('unparseable_entry', `entry ${index} of ${logOrigin}: ${reason}`, { cause: err });
  }
  const signer = resolveSigner(parsed, logOrigin, index);
  const artifactDigests = [...parsed.digests];
  const namespaces: Namespace[] = namespacesOfIdentity(signer.identity);
  if (options.dssePayload !== undefined) addPayloadSubjects(parsed, options.dssePayload, artifactDigests, namespaces, `entry ${index} of ${logOrigin}`);
  const event: SigningEvent = {
    logOrigin,
    index,
    integratedTimeSec: undefined,
    entryKind: parsed.kind,
    identity: signer.identity,
    keyFingerprint: signer.keyFingerprint,
    artifactDigests,
    namespaces,
  };
  if (signer.notBeforeSec !== undefined) event.certificateNotBeforeSec = signer.notBeforeSec;
  return event;
}

function addPayloadSubjects(parsed: ParsedBody, payload: Uint8Array, digests: ArtifactDigest[], namespaces: Namespace[], what: string): void {
  if (parsed.payloadHash === undefined) throw new MonitorError('payload_mismatch', `${what} is a ${parsed.kind} entry, which has no DSSE payload`);
  if (!equalBytes(sha256(payload), parsed.payloadHash)) throw new MonitorError('payload_mismatch', `${what}: the DSSE payload given does not hash to the entry's payloadHash`);
  const subjects = parseStatementSubjects(payload);
  for (const d of subjects.digests) if (!digests.some((x) => x.algorithm === d.algorithm && x.hex === d.hex)) digests.push(d);
  for (const p of subjects.purls) namespaces.push({ kind: 'purl', value: p });
}

function resolveSigner(parsed: ParsedBody, logOrigin: string, index: bigint): CertificateSigner | { identity: SigningEvent['identity']; keyFingerprint: string; notBeforeSec?: undefined } {
  const signer = parsed.signer;
  if (signer.type === 'spki') {
    const keyFingerprint = encodeHex(sha256(signer.der));
    return { identity: { kind: 'key', san: keyFingerprint }, keyFingerprint };
  }
  try {
    return readCertificateSigner(signer.der);
  } catch (err) {
    const what = parsed.kind === 'precertificate' ? 'precertificate' : 'signing certificate';
    throw new MonitorError('unparseable_entry', `entry ${index} of ${logOrigin}: the ${what} is unreadable: ${errorMessage(err)}`, { cause: err });
  }
}

function parseBody(body: Uint8Array): ParsedBody {
  const top = readObject(parseRequestJson(body, MAX_LEAF_BYTES), '', 'any', ['kind', 'apiVersion', 'spec']);
  const kind = readString(top.kind, 'kind', { maxLength: 64 });
  const apiVersion = readString(top.apiVersion, 'apiVersion', { maxLength: 64 });
  const spec = readObject(top.spec, 'spec', 'any');
  if (kind === 'hashedrekord' && apiVersion === '0.0.1') return hashedRekordV001(spec);
  if (kind === 'hashedrekord' && apiVersion === '0.0.2') return hashedRekordV002(readObject(spec.hashedRekordV002, 'spec.hashedRekordV002', 'any'));
  if (kind === 'dsse' && apiVersion === '0.0.1') return dsseV001(spec);
  if (kind === 'dsse' && apiVersion === '0.0.2') return dsseV002(readObject(spec.dsseV002, 'spec.dsseV002', 'any'));
  if (kind === PRECERTIFICATE_KIND && apiVersion === PRECERTIFICATE_API_VERSION) return precertificateV001(spec);
  throw new MonitorError('unparseable_entry', `${JSON.stringify(kind)} ${JSON.stringify(apiVersion)} is not a supported entry type (hashedrekord or dsse 0.0.1 or 0.0.2, precertificate 0.0.1)`);
}

const V001_HASH_BYTES: Readonly<Record<string, number>> = { sha256: 32, sha384: 48, sha512: 64 };
const PROTO_HASHES: Readonly<Record<string, ArtifactDigest['algorithm']>> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };

function hashedRekordV001(spec: Record<string, unknown>): ParsedBody {
  const hash = readObject(readObject(spec.data, 'spec.data', 'any', ['hash']).hash, 'spec.data.hash', 'any', ['algorithm', 'value']);
  const algorithm = readString(hash.algorithm, 'spec.data.hash.algorithm', { maxLength: 16 });
  const size = Object.hasOwn(V001_HASH_BYTES, algorithm) ? V001_HASH_BYTES[algorithm]! : undefined;
  if (size === undefined) throw new MonitorError('unparseable_entry', 'spec.data.hash.algorithm must be sha256, sha384 or sha512');
  const hex = encodeHex(readLowerHex(hash.value, 'spec.data.hash.value', size));
  const sig = readObject(spec.signature, 'spec.signature', 'any', ['publicKey']);
  const key = readObject(sig.publicKey, 'spec.signature.publicKey', 'any', ['content']);
  return { kind: 'hashedrekord', signer: pemSigner(key.content, 'spec.signature.publicKey.content'), digests: [{ algorithm: algorithm as ArtifactDigest['algorithm'], hex }] };
}

function hashedRekordV002(h: Record<string, unknown>): ParsedBody {
  const path = 'spec.hashedRekordV002';
  const data = readObject(h.data, `${path}.data`, 'any', ['algorithm', 'digest']);
  const algorithm = protoHash(data.algorithm, `${path}.data.algorithm`);
  const digest = readBase64(data.digest, `${path}.data.digest`);
  if (digest.length !== V001_HASH_BYTES[algorithm]) throw new MonitorError('unparseable_entry', `${path}.data.digest is ${digest.length} bytes, not a ${algorithm} digest`);
  const sig = readObject(h.signature, `${path}.signature`, 'any', ['verifier']);
  return { kind: 'hashedrekord', signer: protoSigner(sig.verifier, `${path}.signature.verifier`), digests: [{ algorithm, hex: encodeHex(digest) }] };
}

function dsseV001(spec: Record<string, unknown>): ParsedBody {
  const ph = readObject(spec.payloadHash, 'spec.payloadHash', 'any', ['algorithm', 'value']);
  if (readString(ph.algorithm, 'spec.payloadHash.algorithm', { maxLength: 16 }) !== 'sha256') {
    throw new MonitorError('unparseable_entry', 'spec.payloadHash.algorithm must be sha256');
  }
  const payloadHash = readLowerHex(ph.value, 'spec.payloadHash.value', 32);
  const first = readObject(readArray(spec.signatures, 'spec.signatures', 1, MAX_ENTRY_SIGNATURES)[0], 'spec.signatures[0]', 'any', ['verifier']);
  const signer = pemSigner(first.verifier, 'spec.signatures[0].verifier');
  return { kind: 'dsse', signer, digests: [{ algorithm: 'sha256', hex: encodeHex(payloadHash) }], payloadHash };
}

function dsseV002(d: Record<string, unknown>): ParsedBody {
  const path = 'spec.dsseV002';
  const ph = readObject(d.payloadHash, `${path}.payloadHash`, 'any', ['algorithm', 'digest']);
  if (protoHash(ph.algorithm, `${path}.payloadHash.algorithm`) !== 'sha256') throw new MonitorError('unparseable_entry', `${path}.payloadHash.algorithm must be SHA2_256`);
  const payloadHash = readBase64(ph.digest, `${path}.payloadHash.digest`);
  if (payloadHash.length !== 32) throw new MonitorError('unparseable_entry', `${path}.payloadHash.digest is not a SHA-256 digest`);
  const first = readObject(readArray(d.signatures, `${path}.signatures`, 1, MAX_ENTRY_SIGNATURES)[0], `${path}.signatures[0]`, 'any', ['verifier']);
  const signer = protoSigner(first.verifier, `${path}.signatures[0].verifier`);
  return { kind: 'dsse', signer, digests: [{ algorithm: 'sha256', hex: encodeHex(payloadHash) }], payloadHash };
}

// precertificateV001 reads the entry log/ca/precert-entry.ts formats. The chain and timestamp are
// checked for shape only: the monitor reports who got a certificate, whoever issued it (as it does
// for signing certificates); verifiers chain it (docs/ca.md).
function precertificateV001(spec: Record<string, unknown>): ParsedBody {
  const der = readBase64(spec.precertificate, 'spec.precertificate');
  readArray(spec.chain, 'spec.chain', 1, MAX_PRECERT_CHAIN).forEach((c, i) => readBase64(c, `spec.chain[${i}]`));
  const timestamp = spec.timestamp;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new MonitorError('unparseable_entry', 'spec.timestamp must be a non-negative whole number of milliseconds');
  }
  return { kind: 'precertificate', signer: { type: 'certificate', der }, digests: [] };
}

function protoHash(value: unknown, path: string): ArtifactDigest['algorithm'] {
  const name = readString(value, path, { maxLength: 16 });
  const algorithm = Object.hasOwn(PROTO_HASHES, name) ? PROTO_HASHES[name] : undefined;
  if (algorithm === undefined) throw new MonitorError('unparseable_entry', `${path} must be SHA2_256, SHA2_384 or SHA2_512`);
  return algorithm;
}

// pemSigner reads a v1 verifier: base64 of PEM text, a PUBLIC KEY block or CERTIFICATE blocks
// (leaf first). The log wrote it canonically; parsePem is strict all the same.
function pemSigner(value: unknown, path: string): Signer {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(readBase64(value, path));
  const first = parsePem(text, path, 'malformed_public_key')[0]!;
  if (first.type === 'PUBLIC KEY') return { type: 'spki', der: first.der };
  if (first.type === 'CERTIFICATE') return { type: 'certificate', der: first.der };
  throw new MonitorError('unparseable_entry', `${path} holds a ${first.type} PEM block, not a PUBLIC KEY or CERTIFICATE`);
}

// protoSigner reads a v2 Verifier: {publicKey: {rawBytes}} or {x509Certificate: {rawBytes}}.
function protoSigner(value: unknown, path: string): Signer {
  const v = readObject(value, path, 'any');
  if ((v.publicKey === undefined) === (v.x509Certificate === undefined)) {
    throw new MonitorError('unparseable_entry', `${path} must have exactly one of publicKey and x509Certificate`);
  }
  const which = v.publicKey !== undefined ? 'publicKey' : 'x509Certificate';
  const inner = readObject(v[which], fieldPath(path, which), 'any', ['rawBytes']);
  const der = readBase64(inner.rawBytes, fieldPath(fieldPath(path, which), 'rawBytes'));
  return { type: which === 'publicKey' ? 'spki' : 'certificate', der };
}
