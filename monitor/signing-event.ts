// A signing event is what the monitor's matcher knows about one log entry, after the entry has
// been verified against the tree and parsed (hashedrekord 0.0.1/0.0.2, dsse 0.0.1/0.0.2, or a CA's
// precertificate 0.0.1: a certificate issued, nothing signed yet). Identity is
// always read from the entry itself (its certificate or key), never from a bundle (DESIGN.md,
// "Identities and namespaces"). Every string in it is attacker-controlled: whoever signed the entry
// chose it. The matcher normalises values itself (monitor/normalise.ts), so parsers fill them in
// exactly as the certificate or statement has them.

/**
 * SigningEntryKind is the log entry type an event was parsed from. A 'precertificate' event says a
 * certificate was issued to its identity (log/ca/precert-entry.ts); it has no artifact digests.
 */
export type SigningEntryKind = 'hashedrekord' | 'dsse' | 'precertificate';

/**
 * CiClaims are the build-provenance claims Fulcio copies from the OIDC token into certificate
 * extensions (OIDs under 1.3.6.1.4.1.57264.1). Parsers fill each from the current OID, or from the
 * deprecated GitHub-only OID in brackets when only that is present. All are optional: tokens from
 * email issuers carry none.
 */
export interface CiClaims {
  /** sourceRepositoryUri is .1.12 Source Repository URI, e.g. "https://github.com/org/repo". */
  sourceRepositoryUri?: string;
  /** repository is the repository as owner/name, e.g. "org/repo" (from .1.12's path, [.1.5]). */
  repository?: string;
  /**
   * workflow is the top-level workflow as repository path without host or ref, e.g.
   * "org/repo/.github/workflows/release.yml": .1.18 Build Config URI with the scheme, host and
   * "@<ref>" removed (GitHub's `workflow_ref` claim without its ref). The reusable workflow that
   * actually signed is .1.9, which for GitHub is also the URI SAN.
   */
  workflow?: string;
  /** workflowRef is `workflow` with its ref, e.g. "org/repo/.github/workflows/release.yml@refs/tags/v1". */
  workflowRef?: string;
  /** workflowTrigger is .1.20 Build Trigger, e.g. "push", "release" ([.1.2]). */
  workflowTrigger?: string;
  /** ref is .1.14 Source Repository Ref, e.g. "refs/tags/v1.2.3" ([.1.6]). */
  ref?: string;
  /** sha is .1.13 Source Repository Digest, the commit built, as hex ([.1.3]). */
  sha?: string;
  /** buildSignerUri is .1.9 Build Signer URI (the signing workflow, with host and ref). */
  buildSignerUri?: string;
  /** runnerEnvironment is .1.11 Runner Environment, e.g. "github-hosted" or "self-hosted". */
  runnerEnvironment?: string;
  /** runInvocationUri is .1.21 Run Invocation URI, the link to the CI run. */
  runInvocationUri?: string;
}

/**
 * CertificateIdentity is the signer of an entry signed with a Fulcio-style certificate: its one
 * SAN (email or URI), the OIDC issuer (.1.8, or the raw [.1.1]) and the CI claims.
 */
export interface CertificateIdentity {
  kind: 'email' | 'uri';
  /** san is the certificate's Subject Alternative Name, verbatim. */
  san: string;
  /** issuer is the OIDC issuer URL, verbatim, e.g. "https://token.actions.githubusercontent.com". */
  issuer: string;
  ci: CiClaims;
}

/**
 * KeyIdentity is the signer of an entry signed with a bare public key: the key is the identity,
 * so `san` holds the same value as SigningEvent.keyFingerprint (DESIGN.md: "Entries signed by a
 * bare key have the key's fingerprint as identity"). There is no issuer.
 */
export interface KeyIdentity {
  kind: 'key';
  /** san is the key fingerprint, lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. */
  san: string;
}

/** SignerIdentity is who signed an entry: a certificate identity or a bare key. */
export type SignerIdentity = CertificateIdentity | KeyIdentity;

/** NamespaceKind says what a namespace names. */
export type NamespaceKind = 'repository' | 'purl' | 'email-domain';

/**
 * Namespace is one thing a signing was about (DESIGN.md): a repository (value: the source
 * repository URI, e.g. "https://github.com/org/repo"), a package (value: the purl of an in-toto
 * subject, e.g. "pkg:npm/%40scope/name@1.0.0"; the version is ignored when matching), or the domain
 * of an email SAN (value: e.g. "example.com").
 */
export interface Namespace {
  kind: NamespaceKind;
  value: string;
}

/** ArtifactDigest is a digest of the signed artifact, as lowercase hex. */
export interface ArtifactDigest {
  algorithm: 'sha256' | 'sha384' | 'sha512';
  hex: string;
}

/** SigningEvent is one verified, parsed log entry, as the watch-rule matcher consumes it. */
export interface SigningEvent {
  /** logOrigin is the checkpoint origin of the log the entry was read from. */
  logOrigin: string;
  /** index is the entry's index in that log. */
  index: bigint;
  /**
   * integratedTimeSec is when the log integrated the entry, in seconds since the Unix epoch, where
   * the log states it (Rekor v1 style); undefined for tlog-tiles entries (Rekor v2), which carry
   * no time of their own.
   */
  integratedTimeSec: number | undefined;
  entryKind: SigningEntryKind;
  identity: SignerIdentity;
  /** keyFingerprint is lowercase hex SHA-256 of the signing key's DER SubjectPublicKeyInfo. */
  keyFingerprint: string;
  /**
   * artifactDigests are the signed artifact's digests: hashedrekord's one data digest, or each
   * digest of each in-toto subject of a dsse entry.
   */
  artifactDigests: readonly ArtifactDigest[];
  /** namespaces are what the signing was about; namespacesOfIdentity gives the identity's part. */
  namespaces: readonly Namespace[];
  /**
   * certificateNotBeforeSec is the signing certificate's notBefore, in seconds since the Unix epoch
   * (Fulcio issues certificates at signing time, valid for minutes); undefined for bare keys.
   */
  certificateNotBeforeSec?: number;
}

/**
 * namespacesOfIdentity returns the namespaces an identity implies: the source repository of a
 * certificate with CI claims, and the domain of an email SAN. Parsers add these to the subjects'
 * purls, so every parser derives them the same way.
 */
export function namespacesOfIdentity(identity: SignerIdentity): Namespace[] {
  if (identity.kind === 'key') return [];
  const out: Namespace[] = [];
  if (identity.ci.sourceRepositoryUri) out.push({ kind: 'repository', value: identity.ci.sourceRepositoryUri });
  if (identity.kind === 'email') {
    const at = identity.san.lastIndexOf('@');
    if (at >= 0 && at < identity.san.length - 1) out.push({ kind: 'email-domain', value: identity.san.slice(at + 1) });
  }
  return out;
}
