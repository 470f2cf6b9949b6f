// verified-entry.ts holds the shapes every entry kind produces and the last step they share:
// turning the canonical body into bytes and a leaf hash, within the entry size limit.
import { hashLeaf } from '../../tlog/merkle.ts';
import { errorMessage, LogError } from '../errors.ts';
import { canonicalizeJson, type CanonicalJsonValue } from './canonical-json.ts';
import type { CertificateIdentity } from './certificate.ts';
import type { CertificateTrust } from './certificate-chain.ts';
import type { HashAlgorithm } from './key-details.ts';
import type { KeyAlgorithm } from './public-key.ts';

/** MAX_ENTRY_BYTES is the largest canonical body: entry bundles length-prefix entries with a uint16. */
export const MAX_ENTRY_BYTES = 65_535;

/** EntryKind is a Rekor entry kind the log accepts. */
export type EntryKind = 'hashedrekord' | 'dsse';

/** EntryApiVersion is a kind's version: 0.0.1 through the v1 API, 0.0.2 through the v2 API. */
export type EntryApiVersion = '0.0.1' | '0.0.2';

/** EntryContext is what deciding an entry depends on besides the request. */
export interface EntryContext {
  /** trust is the CA material certificates must chain to; null refuses certificate-signed entries. */
  readonly trust: CertificateTrust | null;
  /** integrationTime is when the entry is accepted: certificates must be valid then. */
  readonly integrationTime: Date;
}

/** VerifierMaterial is what verified a signature: a bare key or a certificate chain. */
export type VerifierMaterial =
  | {
      readonly type: 'public_key';
      /** spki is the DER SubjectPublicKeyInfo. */
      readonly spki: Uint8Array;
      /** keyFingerprint is the lowercase hex SHA-256 of spki: the identity of a key-signed entry. */
      readonly keyFingerprint: string;
      readonly keyAlgorithm: KeyAlgorithm;
    }
  | {
      readonly type: 'certificate';
      /** chain is the verified path, DER: [leaf, ...intermediates, root]. */
      readonly chain: readonly Uint8Array[];
      /** spki is the leaf's DER SubjectPublicKeyInfo. */
      readonly spki: Uint8Array;
      readonly keyFingerprint: string;
      readonly keyAlgorithm: KeyAlgorithm;
      /** identity is the leaf's SANs and Fulcio extensions, for indexing. */
      readonly identity: CertificateIdentity;
      readonly notBefore: Date;
      readonly notAfter: Date;
    };

/** VerifiedSignature is one signature the log checked, with what checked it. */
export interface VerifiedSignature {
  readonly signature: Uint8Array;
  readonly verifier: VerifierMaterial;
}

/** ArtifactDigest is the digest an entry is about: the signed digest, or a DSSE payload's SHA-256. */
export interface ArtifactDigest {
  readonly algorithm: HashAlgorithm;
  /** hex is the lowercase hex digest. */
  readonly hex: string;
}

/** DsseContent is the envelope content of a dsse entry (not part of the canonical body). */
export interface DsseContent {
  readonly payloadType: string;
  readonly payload: Uint8Array;
}

/** VerifiedContent is what a kind's parser returns: a canonical body value and what it verified. */
export interface VerifiedContent {
  readonly kind: EntryKind;
  readonly apiVersion: EntryApiVersion;
  readonly body: CanonicalJsonValue;
  readonly artifactDigest: ArtifactDigest;
  readonly signatures: readonly VerifiedSignature[];
  readonly dsse?: DsseContent;
}

/** VerifiedEntry is an entry ready to be sequenced: every signature and certificate checked. */
export interface VerifiedEntry extends Omit<VerifiedContent, 'body'> {
  /** canonicalBody is the exact RFC 8785 JSON that becomes the leaf (at most MAX_ENTRY_BYTES). */
  readonly canonicalBody: Uint8Array;
  /** leafHash is SHA-256(0x00 || canonicalBody): the entry's identity for duplicate detection. */
  readonly leafHash: Uint8Array;
}

/** finishEntry canonicalises content's body and refuses it with entry_too_large over maxEntryBytes. */
export function finishEntry(content: VerifiedContent, maxEntryBytes: number): VerifiedEntry {
  let canonicalBody: Uint8Array;
  try {
    canonicalBody = canonicalizeJson(content.body);
  } catch (err) {
    throw new LogError('malformed_entry', `couldn't canonicalize the entry body: ${errorMessage(err)}`, { cause: err });
  }
  if (canonicalBody.length > maxEntryBytes) {
    throw new LogError('entry_too_large', `canonical ${content.kind} ${content.apiVersion} body is ${canonicalBody.length} bytes, over the limit of ${maxEntryBytes}`);
  }
  const { body: _body, ...rest } = content;
  return { ...rest, canonicalBody, leafHash: hashLeaf(canonicalBody) };
}
