// bundle-json.ts is the Sigstore bundle in protobuf JSON (research notes 5.5): the types, the
// strict reader a verifier runs on an attacker-supplied bundle, and the builders `vigil sign` uses
// to turn the log's answers (Rekor v1 LogEntry or v2 TransparencyLogEntry) into tlog entries.
import { decodeHex, encodeBase64 } from '../../tlog/base64.ts';
import type { RekorV1Entry, TransparencyLogEntryJson } from '../rekor-json.ts';
import { BundleError } from './errors.ts';
import { jsonReader } from './json-read.ts';

/** BUNDLE_V03_MEDIA_TYPE is what `vigil sign` writes. */
export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** BUNDLE_V02_MEDIA_TYPE is what @sigstore/sign 4.1.1 writes for blobs; verified too. */
export const BUNDLE_V02_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
const MEDIA_TYPES = new Set([BUNDLE_V03_MEDIA_TYPE, BUNDLE_V02_MEDIA_TYPE, 'application/vnd.dev.sigstore.bundle.v0.2+json']);

/** MAX_TLOG_ENTRIES bounds a bundle's log entries. */
export const MAX_TLOG_ENTRIES = 4;
/** MAX_RFC3161_TIMESTAMPS bounds a bundle's RFC 3161 timestamps. */
export const MAX_RFC3161_TIMESTAMPS = 4;
/** MAX_PROOF_HASHES bounds an inclusion proof (a uint64 tree needs at most 64). */
export const MAX_PROOF_HASHES = 64;

/** TlogEntryJson is dev.sigstore.rekor.v1.TransparencyLogEntry as bundles carry it. */
export interface TlogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  inclusionPromise?: { signedEntryTimestamp: string };
  inclusionProof: { logIndex: string; rootHash: string; treeSize: string; hashes: string[]; checkpoint: { envelope: string } };
  canonicalizedBody: string;
}

/** BundleJson is a v0.3 bundle (message signature or DSSE). */
export interface BundleJson {
  mediaType: string;
  verificationMaterial: {
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
    tlogEntries: TlogEntryJson[];
    timestampVerificationData?: { rfc3161Timestamps: { signedTimestamp: string }[] };
  };
  messageSignature?: { messageDigest: { algorithm: string; digest: string }; signature: string };
  dsseEnvelope?: { payload: string; payloadType: string; signatures: { sig: string; keyid: string }[] };
}

/** ParsedTlogEntry is a bundle's log entry with its bytes decoded (nothing verified yet). */
export interface ParsedTlogEntry {
  readonly logIndex: bigint;
  readonly logId: Uint8Array;
  readonly kind: string;
  readonly version: string;
  readonly integratedTime: bigint;
  readonly signedEntryTimestamp?: Uint8Array;
  readonly proofIndex: bigint;
  readonly hashes: readonly Uint8Array[];
  readonly checkpoint: string;
  readonly body: Uint8Array;
}

/** ParsedBundle is a bundle with its bytes decoded (nothing verified yet). */
export interface ParsedBundle {
  readonly certificate: Uint8Array;
  readonly tlogEntries: readonly ParsedTlogEntry[];
  readonly rfc3161Timestamps: readonly Uint8Array[];
  readonly content:
    | { readonly type: 'message'; readonly digest: Uint8Array; readonly signature: Uint8Array }
    | { readonly type: 'dsse'; readonly payloadType: string; readonly payload: Uint8Array; readonly signature: Uint8Array };
}

const r = jsonReader('malformed_bundle');

function readEntry(v: unknown, path: string): ParsedTlogEntry {
  const o = r.object(v, path);
  const kv = r.object(o.kindVersion, `${path}.kindVersion`);
  const proof = r.object(o.inclusionProof, `${path}.inclusionProof`);
  const promise = o.inclusionPromise === undefined || o.inclusionPromise === null ? undefined : r.object(o.inclusionPromise, `${path}.inclusionPromise`);
  return {
    logIndex: r.uint(o.logIndex, `${path}.logIndex`),
    logId: r.bytes(r.object(o.logId, `${path}.logId`).keyId, `${path}.logId.keyId`),
    kind: r.string(kv.kind, `${path}.kindVersion.kind`),
    version: r.string(kv.version, `${path}.kindVersion.version`),
    integratedTime: o.integratedTime === undefined ? 0n : r.uint(o.integratedTime, `${path}.integratedTime`),
    ...(promise === undefined ? {} : { signedEntryTimestamp: r.bytes(promise.signedEntryTimestamp, `${path}.inclusionPromise.signedEntryTimestamp`) }),
    proofIndex: r.uint(proof.logIndex, `${path}.inclusionProof.logIndex`),
    hashes: r.array(proof.hashes ?? [], `${path}.inclusionProof.hashes`, MAX_PROOF_HASHES).map((h, i) => r.bytes(h, `${path}.inclusionProof.hashes[${i}]`)),
    checkpoint: r.string(r.object(proof.checkpoint, `${path}.inclusionProof.checkpoint`).envelope, `${path}.inclusionProof.checkpoint.envelope`),
    body: r.bytes(o.canonicalizedBody, `${path}.canonicalizedBody`),
  };
}

function readCertificate(vm: Record<string, unknown>, mediaType: string): Uint8Array {
  if (vm.certificate !== undefined) return r.bytes(r.object(vm.certificate, 'verificationMaterial.certificate').rawBytes, 'verificationMaterial.certificate.rawBytes');
  if (mediaType !== BUNDLE_V03_MEDIA_TYPE && vm.x509CertificateChain !== undefined) {
    // v0.2: the leaf first; other certificates in the bundle are ignored (trust comes from the root).
    const certs = r.array(r.object(vm.x509CertificateChain, 'verificationMaterial.x509CertificateChain').certificates, 'verificationMaterial.x509CertificateChain.certificates', 8);
    return r.bytes(r.object(certs[0], 'verificationMaterial.x509CertificateChain.certificates[0]').rawBytes, 'verificationMaterial.x509CertificateChain.certificates[0].rawBytes');
  }
  throw new BundleError('unsupported_bundle', 'the bundle has no certificate (key-signed bundles are not verified by Vigil; v0.3 needs verificationMaterial.certificate)');
}

function readContent(o: Record<string, unknown>): ParsedBundle['content'] {
  if ((o.messageSignature === undefined) === (o.dsseEnvelope === undefined)) {
    throw new BundleError('malformed_bundle', 'the bundle must have exactly one of messageSignature and dsseEnvelope');
  }
  if (o.messageSignature !== undefined) {
    const ms = r.object(o.messageSignature, 'messageSignature');
    const md = r.object(ms.messageDigest, 'messageSignature.messageDigest');
    if (md.algorithm !== 'SHA2_256') throw new BundleError('unsupported_bundle', 'messageSignature.messageDigest.algorithm must be SHA2_256');
    return { type: 'message', digest: r.bytes(md.digest, 'messageSignature.messageDigest.digest'), signature: r.bytes(ms.signature, 'messageSignature.signature') };
  }
  const env = r.object(o.dsseEnvelope, 'dsseEnvelope');
  const sigs = r.array(env.signatures, 'dsseEnvelope.signatures', 1);
  if (sigs.length !== 1) throw new BundleError('malformed_bundle', 'dsseEnvelope must have exactly one signature');
  const payloadType = r.string(env.payloadType, 'dsseEnvelope.payloadType');
  return { type: 'dsse', payloadType, payload: r.bytes(env.payload, 'dsseEnvelope.payload'), signature: r.bytes(r.object(sigs[0], 'dsseEnvelope.signatures[0]').sig, 'dsseEnvelope.signatures[0].sig') };
}

/** parseBundle reads bundle JSON text or value (attacker-controlled); throws malformed_bundle or unsupported_bundle. */
export function parseBundle(input: string | unknown): ParsedBundle {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (err) {
      throw new BundleError('malformed_bundle', 'the bundle is not JSON', { cause: err });
    }
  }
  const o = r.object(json, 'bundle');
  const mediaType = r.string(o.mediaType, 'mediaType');
  if (!MEDIA_TYPES.has(mediaType)) throw new BundleError('unsupported_bundle', `media type ${JSON.stringify(mediaType.slice(0, 80))} is not a v0.3 or v0.2 bundle`);
  const vm = r.object(o.verificationMaterial, 'verificationMaterial');
  const entries = r.array(vm.tlogEntries, 'verificationMaterial.tlogEntries', MAX_TLOG_ENTRIES).map((e, i) => readEntry(e, `verificationMaterial.tlogEntries[${i}]`));
  const tvd = vm.timestampVerificationData === undefined ? {} : r.object(vm.timestampVerificationData, 'verificationMaterial.timestampVerificationData');
  const stamps = r.array(tvd.rfc3161Timestamps ?? [], 'timestampVerificationData.rfc3161Timestamps', MAX_RFC3161_TIMESTAMPS)
    .map((t, i) => r.bytes(r.object(t, `rfc3161Timestamps[${i}]`).signedTimestamp, `rfc3161Timestamps[${i}].signedTimestamp`));
  return { certificate: readCertificate(vm, mediaType), tlogEntries: entries, rfc3161Timestamps: stamps, content: readContent(o) };
}

function kindVersionOf(body: string): { kind: string; version: string } {
  const parsed = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as { kind?: unknown; apiVersion?: unknown };
  if (typeof parsed.kind !== 'string' || typeof parsed.apiVersion !== 'string') throw new BundleError('invalid_response', 'the log entry body has no kind and apiVersion');
  return { kind: parsed.kind, version: parsed.apiVersion };
}

/** tlogEntryFromV1 turns a Rekor v1 LogEntry value (POST /api/v1/log/entries) into a bundle entry. */
export function tlogEntryFromV1(e: RekorV1Entry): TlogEntryJson {
  const hex = (s: string) => encodeBase64(decodeHex(s));
  const p = e.verification.inclusionProof;
  return {
    logIndex: String(e.logIndex),
    logId: { keyId: hex(e.logID) },
    kindVersion: kindVersionOf(e.body),
    integratedTime: String(e.integratedTime),
    inclusionPromise: { signedEntryTimestamp: e.verification.signedEntryTimestamp },
    inclusionProof: { logIndex: String(p.logIndex), rootHash: hex(p.rootHash), treeSize: String(p.treeSize), hashes: p.hashes.map(hex), checkpoint: { envelope: p.checkpoint } },
    canonicalizedBody: e.body,
  };
}

/** tlogEntryFromV2 turns a v2 TransparencyLogEntry into a bundle entry (no SET: none exists in v2). */
export function tlogEntryFromV2(e: TransparencyLogEntryJson): TlogEntryJson {
  const { inclusionPromise: _none, ...rest } = e;
  return rest;
}
