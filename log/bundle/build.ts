// build.ts makes what a signer sends and keeps: the in-toto statement of an attestation, the log
// entry requests for a certificate-signed artifact (hashedrekord) or DSSE envelope, in the v1
// (Rekor ProposedEntry) and v2 (rekor-tiles CreateEntryRequest) forms, and the v0.3 bundle that
// carries the certificate, the log entry and the timestamps (research notes 5.5).
import { encodeBase64, encodeHex } from '../../tlog/base64.ts';
import { formatPem } from '../kinds/pem.ts';
import { BUNDLE_V03_MEDIA_TYPE, type BundleJson, type TlogEntryJson } from './bundle-json.ts';

/** DsseEnvelopeJson is a DSSE envelope with one signature, as bundles and the log carry it. */
export interface DsseEnvelopeJson {
  payload: string;
  payloadType: string;
  signatures: { sig: string; keyid: string }[];
}

/** SignedContent is what was signed: an artifact's SHA-256 digest, or a DSSE envelope. */
export type SignedContent =
  | { readonly type: 'message'; readonly digest: Uint8Array; readonly signature: Uint8Array }
  | { readonly type: 'dsse'; readonly envelope: DsseEnvelopeJson };

function pemB64(der: Uint8Array): string {
  return encodeBase64(new TextEncoder().encode(formatPem('CERTIFICATE', der)));
}

/** IN_TOTO_STATEMENT_V1 is the _type of an in-toto Statement v1 (github.com/in-toto/attestation, spec/v1). */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/** formatInTotoStatement returns an in-toto Statement v1 about one subject (name, SHA-256), as UTF-8 JSON. */
export function formatInTotoStatement(subjectName: string, digest: Uint8Array, predicateType: string, predicate: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ _type: IN_TOTO_STATEMENT_V1, subject: [{ name: subjectName, digest: { sha256: encodeHex(digest) } }], predicateType, predicate }));
}

const P256_DETAILS = 'PKIX_ECDSA_P256_SHA_256';

/** formatV1Proposal returns the Rekor v1 ProposedEntry: hashedrekord 0.0.1 or dsse 0.0.1. */
export function formatV1Proposal(certificate: Uint8Array, content: SignedContent): Record<string, unknown> {
  if (content.type === 'message') {
    return {
      apiVersion: '0.0.1', kind: 'hashedrekord',
      spec: { data: { hash: { algorithm: 'sha256', value: encodeHex(content.digest) } }, signature: { content: encodeBase64(content.signature), publicKey: { content: pemB64(certificate) } } },
    };
  }
  return { apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope: JSON.stringify(content.envelope), verifiers: [pemB64(certificate)] } } };
}

/** formatV2Request returns the v2 CreateEntryRequest (P-256 signing keys): hashedRekordRequestV002 or dsseRequestV002. */
export function formatV2Request(certificate: Uint8Array, content: SignedContent): Record<string, unknown> {
  const verifier = { x509Certificate: { rawBytes: encodeBase64(certificate) }, keyDetails: P256_DETAILS };
  if (content.type === 'message') {
    return { hashedRekordRequestV002: { digest: encodeBase64(content.digest), signature: { content: encodeBase64(content.signature), verifier } } };
  }
  return { dsseRequestV002: { envelope: content.envelope, verifiers: [verifier] } };
}

/** formatBundle returns the v0.3 bundle: leaf certificate only, one log entry, any RFC 3161 timestamps. */
export function formatBundle(certificate: Uint8Array, content: SignedContent, entry: TlogEntryJson, timestamps: readonly Uint8Array[] = []): BundleJson {
  const bundle: BundleJson = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: {
      certificate: { rawBytes: encodeBase64(certificate) },
      tlogEntries: [entry],
      ...(timestamps.length === 0 ? {} : { timestampVerificationData: { rfc3161Timestamps: timestamps.map((t) => ({ signedTimestamp: encodeBase64(t) })) } }),
    },
  };
  if (content.type === 'message') {
    bundle.messageSignature = { messageDigest: { algorithm: 'SHA2_256', digest: encodeBase64(content.digest) }, signature: encodeBase64(content.signature) };
  } else {
    bundle.dsseEnvelope = content.envelope;
  }
  return bundle;
}
