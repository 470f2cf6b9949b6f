// trusted-root.ts renders GET /api/v1/trusted_root.json: a Sigstore TrustedRoot (protobuf JSON:
// lowerCamelCase names, bytes as standard base64, times RFC 3339) that stock @sigstore/verify
// accepts with default thresholds (research notes 5.4, 5.6–5.8):
//
// - tlogs: the log's Ed25519 checkpoint key (DER SPKI), logId = the full C2SP key ID (set.ts
//   computeLogId), no checkpointKeyId (pitfall 8). baseUrl must contain the checkpoint signer name,
//   the origin (pitfall 9), so it defaults to https://<origin>.
// - certificateAuthorities: the intermediate then the self-signed root (a chain that stops at the
//   intermediate fails: research notes 5.7).
// - ctlogs: the CA's CT key, logId = SHA-256 of its SPKI (RFC 6962 log ID).
// - timestampAuthorities: given by the caller (log/tsa/ exports its entry).
import { encodeBase64 } from '../../tlog/base64.ts';
import { computeLogId } from '../set.ts';
import type { Ca } from './keys.ts';

/** TRUSTED_ROOT_MEDIA_TYPE is the TrustedRoot's mediaType (the public-good root's, v0.1). */
export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410).
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** TrustedRootLog names the log: its checkpoint key and where clients find it. */
export interface TrustedRootLog {
  /** origin is the checkpoint origin, the name of the Ed25519 key. */
  readonly origin: string;
  /** publicKey is the raw 32-byte Ed25519 key. */
  readonly publicKey: Uint8Array;
  /** baseUrl is the log's URL; it must contain the origin (default `https://<origin>`). */
  readonly baseUrl?: string;
  /** validFrom is when the key started signing (default: the Unix epoch, i.e. every entry). */
  readonly validFrom?: Date;
}

/** TimestampAuthorityJson is a TrustedRoot `timestampAuthorities` entry (as log/tsa/ renders it). */
export interface TimestampAuthorityJson {
  subject: { organization: string; commonName: string };
  certChain: { certificates: { rawBytes: string }[] };
  validFor: { start: string; end?: string };
}

/** TrustedRootJson is the rendered TrustedRoot. */
export interface TrustedRootJson {
  mediaType: string;
  tlogs: unknown[];
  certificateAuthorities: unknown[];
  ctlogs: unknown[];
  timestampAuthorities: TimestampAuthorityJson[];
}

/** TrustedRootInput is everything formatTrustedRoot lists. */
export interface TrustedRootInput {
  readonly ca: Ca;
  readonly log: TrustedRootLog;
  /** caUrl is the CA's URL (default: the log's baseUrl). */
  readonly caUrl?: string;
  /** ctBaseUrl names the CT log (default: `<log baseUrl>/ct`); clients only match its logId. */
  readonly ctBaseUrl?: string;
  /** timestampAuthorities are the TSAs whose timestamps verifiers accept (log/tsa/). */
  readonly timestampAuthorities?: readonly TimestampAuthorityJson[];
}

/** formatTrustedRoot renders the TrustedRoot JSON object for `input`. */
export function formatTrustedRoot(input: TrustedRootInput): TrustedRootJson {
  const { ca, log } = input;
  const baseUrl = log.baseUrl ?? `https://${log.origin}`;
  const caStart = ca.validFrom.toISOString();
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [{
      baseUrl,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: encodeBase64(Buffer.concat([ED25519_SPKI_PREFIX, log.publicKey])),
        keyDetails: 'PKIX_ED25519',
        validFor: { start: (log.validFrom ?? new Date(0)).toISOString() },
      },
      logId: { keyId: encodeBase64(computeLogId(log.origin, log.publicKey)) },
    }],
    certificateAuthorities: [{
      subject: { organization: ca.subject.organization, commonName: ca.subject.commonName },
      uri: input.caUrl ?? baseUrl,
      certChain: { certificates: ca.chain.map((der) => ({ rawBytes: encodeBase64(der) })) },
      validFor: { start: caStart },
    }],
    ctlogs: [{
      baseUrl: input.ctBaseUrl ?? `${baseUrl}/ct`,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: encodeBase64(ca.ctPublicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: caStart } },
      logId: { keyId: encodeBase64(ca.ctLogId) },
    }],
    timestampAuthorities: [...(input.timestampAuthorities ?? [])],
  };
}
