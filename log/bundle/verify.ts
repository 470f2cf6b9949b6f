// verify.ts is Vigil's bundle verifier (`vigil verify`): everything stock @sigstore/verify checks
// (research notes 5.3) plus what it does not — the certificate in the log entry must be the
// bundle's certificate, and identity regexes are always anchored. Each failed check throws its
// own BundleError code (errors.ts), in this order: policy, bundle shape, log entries (checkpoint,
// inclusion, SET, body), RFC 3161 timestamps, a time source, the certificate chain at every
// verified time, the SCT, the signature over the artifact, the identity, and (when the policy asks
// for an attestation) the in-toto predicate type.
import { parseCertificate, type ParsedCertificate } from '../kinds/certificate.ts';
import { verifyCertificateChain } from '../kinds/certificate-chain.ts';
import { encodeDssePae, IN_TOTO_PAYLOAD_TYPE } from '../kinds/dsse.ts';
import { verifyMessageSignature } from '../kinds/verifier.ts';
import { decodeUtf8 } from '../../tlog/note.ts';
import { equalBytes } from '../../tlog/merkle.ts';
import { encodeHex } from '../../tlog/base64.ts';
import { sha256 } from '../../tlog/sha256.ts';
import { parseBundle, type ParsedBundle } from './bundle-json.ts';
import { checkEntryBody } from './entry-body.ts';
import { BundleError, rethrowAs } from './errors.ts';
import { verifyEmbeddedScts } from './sct.ts';
import { verifyRfc3161Timestamp } from './timestamp.ts';
import { verifyTlogEntry } from './tlog-entry.ts';
import { isValidAt, type TrustedLog, type TrustedRoot } from './trusted-root.ts';
import type { Checkpoint } from '../../tlog/checkpoint.ts';

/**
 * VerifyPolicy says who must have signed: a SAN regex (always anchored) and the exact issuer; and,
 * for an attestation, its predicate type.
 */
export interface VerifyPolicy {
  readonly identityRegex: string;
  readonly issuer: string;
  /** predicateType, when set, requires an in-toto attestation of exactly this predicate type. */
  readonly predicateType?: string;
}

/** VerifiedBundle is what a verified bundle proves. */
export interface VerifiedBundle {
  /** identity is the certificate's SAN (URI first, then email). */
  readonly identity: string;
  readonly issuer: string;
  /** times are the verified signing times (SETs, RFC 3161 timestamps). */
  readonly times: readonly Date[];
  readonly logIndexes: readonly bigint[];
  /** predicateType is the attestation's predicate type, for an in-toto DSSE bundle; else undefined. */
  readonly predicateType: string | undefined;
  /** checkpoints are each log entry's verified checkpoint (and its note), for witnessed.ts. */
  readonly checkpoints: readonly VerifiedEntryCheckpoint[];
}

/** VerifiedEntryCheckpoint is a log entry's checkpoint, verified with its log's key. */
export interface VerifiedEntryCheckpoint {
  readonly log: TrustedLog;
  readonly checkpoint: Checkpoint;
  /** note is the signed checkpoint note as the bundle carries it (cosignature lines included). */
  readonly note: string;
}

/** anchorRegex compiles an identity pattern as a whole-string match: ^(?:pattern)$. */
export function anchorRegex(pattern: string): RegExp {
  return rethrowAs('invalid_policy', `identity regex ${JSON.stringify(pattern)} does not compile`, () => new RegExp(`^(?:${pattern})$`));
}

function checkChainAt(leaf: ParsedCertificate, root: TrustedRoot, at: Date): ParsedCertificate {
  let last: unknown;
  for (const ca of root.certificateAuthorities) {
    if (!isValidAt(ca.validFor, at)) continue;
    try {
      return verifyCertificateChain(leaf, ca.trust, at, 'bundle certificate')[1]!;
    } catch (err) {
      last = err;
    }
  }
  const why = last instanceof Error ? last.message : `no trusted CA is valid at ${at.toISOString()}`;
  throw new BundleError('untrusted_certificate', `the certificate does not chain to a trusted CA at ${at.toISOString()}: ${why}`, { cause: last });
}

/** checkInTotoSubject checks that a subject of the statement is the artifact; returns the predicate type. */
function checkInTotoSubject(payload: Uint8Array, artifact: Uint8Array): string | undefined {
  const statement = rethrowAs('artifact_mismatch', 'the DSSE payload is not an in-toto statement', () => JSON.parse(decodeUtf8(payload)) as { subject?: unknown; predicateType?: unknown });
  const want = encodeHex(sha256(artifact));
  const subjects = Array.isArray(statement.subject) ? statement.subject.slice(0, 1024) : [];
  const found = subjects.some((s: unknown) => typeof s === 'object' && s !== null && (s as { digest?: { sha256?: unknown } }).digest?.sha256 === want);
  if (!found) throw new BundleError('artifact_mismatch', `no subject of the in-toto statement has sha256 ${want}`);
  return typeof statement.predicateType === 'string' ? statement.predicateType : undefined;
}

/** checkSignature verifies the signature over the artifact or envelope; returns an attestation's predicate type. */
function checkSignature(bundle: ParsedBundle, leaf: ParsedCertificate, artifact: Uint8Array): string | undefined {
  const c = bundle.content;
  if (c.type === 'message') {
    if (!equalBytes(sha256(artifact), c.digest)) throw new BundleError('artifact_mismatch', 'the bundle\'s digest is not the artifact\'s SHA-256');
    if (!verifyMessageSignature(leaf.publicKey, 'sha256', artifact, c.signature)) throw new BundleError('invalid_signature', 'the signature does not verify over the artifact');
    return undefined;
  }
  if (!verifyMessageSignature(leaf.publicKey, 'sha256', encodeDssePae(c.payloadType, c.payload), c.signature)) {
    throw new BundleError('invalid_signature', 'the DSSE signature does not verify over the envelope');
  }
  if (c.payloadType === IN_TOTO_PAYLOAD_TYPE) return checkInTotoSubject(c.payload, artifact);
  if (!equalBytes(c.payload, artifact)) throw new BundleError('artifact_mismatch', 'the DSSE payload is not the artifact');
  return undefined;
}

function checkPredicateType(got: string | undefined, want: string | undefined): void {
  if (want === undefined || got === want) return;
  const what = got === undefined ? 'the bundle is not an in-toto attestation' : `the attestation's predicate type is ${JSON.stringify(got.slice(0, 200))}`;
  throw new BundleError('predicate_mismatch', `${what}, not ${JSON.stringify(want)}`);
}

function checkIdentity(leaf: ParsedCertificate, policy: VerifyPolicy, re: RegExp): { identity: string; issuer: string } {
  const identity = leaf.identity.uris[0] ?? leaf.identity.emails[0];
  if (identity === undefined || !re.test(identity)) {
    throw new BundleError('identity_mismatch', `the certificate's identity ${JSON.stringify(identity ?? '')} does not match ${re.source}`);
  }
  const issuer = leaf.identity.oidcIssuer;
  if (issuer !== policy.issuer) throw new BundleError('issuer_mismatch', `the certificate's issuer ${JSON.stringify(issuer ?? '')} is not ${JSON.stringify(policy.issuer)}`);
  return { identity, issuer };
}

/**
 * verifyBundle verifies a bundle (JSON text or value, attacker-controlled) for `artifact` with the
 * trust in `root` and returns what it proves, or throws the BundleError of the first failed check.
 */
export function verifyBundle(artifact: Uint8Array, bundleJson: unknown, root: TrustedRoot, policy: VerifyPolicy): VerifiedBundle {
  const re = anchorRegex(policy.identityRegex);
  if (policy.issuer === '') throw new BundleError('invalid_policy', 'the issuer must not be empty');
  const bundle = parseBundle(bundleJson);
  const leaf = rethrowAs('malformed_bundle', 'the bundle certificate', () => parseCertificate(bundle.certificate, 'bundle certificate'));
  if (bundle.tlogEntries.length === 0) throw new BundleError('malformed_bundle', 'the bundle has no log entry: Vigil requires proof that the signing was logged');
  const times: Date[] = [];
  const checkpoints: VerifiedEntryCheckpoint[] = [];
  for (const entry of bundle.tlogEntries) {
    const verified = verifyTlogEntry(entry, root);
    checkEntryBody(entry, bundle);
    checkpoints.push({ log: verified.log, checkpoint: verified.checkpoint, note: entry.checkpoint });
    if (verified.time !== undefined) times.push(verified.time);
  }
  for (const der of bundle.rfc3161Timestamps) times.push(verifyRfc3161Timestamp(der, bundle.content.signature, root.timestampAuthorities));
  if (times.length === 0) throw new BundleError('missing_timestamp', 'the bundle proves no signing time: no signed entry timestamp and no RFC 3161 timestamp');
  const issuers = times.map((t) => checkChainAt(leaf, root, t));
  verifyEmbeddedScts(leaf.der, issuers[0]!.publicKey.spki, root.ctlogs);
  const predicateType = checkSignature(bundle, leaf, artifact);
  const { identity, issuer } = checkIdentity(leaf, policy, re);
  checkPredicateType(predicateType, policy.predicateType);
  return { identity, issuer, times, logIndexes: bundle.tlogEntries.map((e) => e.logIndex), predicateType, checkpoints };
}
