// signing-cert.ts decides one POST /api/v2/signingCert (Fulcio v2, research notes 3.1), without
// HTTP: verify the identity token, map it to a principal, check the proof of possession, then
//
//   1. build the leaf template (Fulcio profile, certificate.ts);
//   2. sign the precertificate (CT poison) and append it to the log (precert-entry.ts); the call
//      resolves once the entry's batch is committed, so a certificate is never issued unlogged;
//   3. sign the SCT over the precertificate entry with the CT key (sct.ts);
//   4. sign the final certificate with the SCT list embedded, and answer the chain.
//
// If we crash between 2 and 4, the log holds a precertificate for which no certificate was ever
// returned: harmless (CT logs hold such entries too), and monitors still see the identity.
import type { Clock } from '../../platform/clock.ts';
import { isLogError } from '../errors.ts';
import { formatPem } from '../kinds/pem.ts';
import type { Log } from '../log.ts';
import { formatFinalCertificate, formatPrecertificate, formatSctTbs, newLeafTemplate, prepareLeaf } from './certificate.ts';
import { CaError } from './errors.ts';
import { principalOf } from './identity.ts';
import type { Ca } from './keys.ts';
import type { OidcVerifier } from './oidc.ts';
import { formatPrecertificateEntry } from './precert-entry.ts';
import { verifyCsr, verifyPublicKeyRequest } from './proof.ts';
import { formatSctListExtensionValue, signSct } from './sct.ts';

/** SigningCertDeps are what issuing a certificate needs. */
export interface SigningCertDeps {
  readonly ca: Ca;
  readonly verifier: OidcVerifier;
  /** log receives the precertificate entry before the certificate exists. */
  readonly log: Pick<Log, 'addEntry'>;
  readonly clock: Clock;
}

/** SigningCertResponse is Fulcio's SigningCertificate with an embedded SCT (protobuf JSON). */
export interface SigningCertResponse {
  signedCertificateEmbeddedSct: { chain: { certificates: string[] } };
}

/** IssuedCertificate is what issueSigningCertificate made, for the HTTP layer's response and logs. */
export interface IssuedCertificate {
  readonly response: SigningCertResponse;
  /** kind is the issuer kind (a metrics label). */
  readonly kind: string;
  readonly logIndex: bigint;
}

function readRequest(body: unknown): { token: string; publicKeyRequest?: unknown; csr?: unknown } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new CaError('malformed_request', 'the request must be a JSON object');
  const r = body as Record<string, unknown>;
  const credentials = r.credentials as Record<string, unknown> | undefined;
  if (credentials === null || typeof credentials !== 'object' || typeof credentials.oidcIdentityToken !== 'string') {
    throw new CaError('malformed_request', 'credentials.oidcIdentityToken must be a string');
  }
  const hasKey = r.publicKeyRequest !== undefined;
  const hasCsr = r.certificateSigningRequest !== undefined;
  if (hasKey === hasCsr) throw new CaError('malformed_request', 'the request must have exactly one of publicKeyRequest and certificateSigningRequest');
  return { token: credentials.oidcIdentityToken, publicKeyRequest: r.publicKeyRequest, csr: r.certificateSigningRequest };
}

/**
 * issueSigningCertificate handles one parsed request body (attacker-controlled JSON). Throws
 * CaError with the reason (token, identity, proof of possession, log_failed).
 */
export async function issueSigningCertificate(body: unknown, deps: SigningCertDeps): Promise<IssuedCertificate> {
  const request = readRequest(body);
  const { issuer, claims } = await deps.verifier.verifyToken(request.token);
  const principal = principalOf(issuer, claims);
  const spki = request.csr !== undefined ? await verifyCsr(request.csr) : verifyPublicKeyRequest(request.publicKeyRequest, principal.challenge);
  const nowMs = deps.clock.nowMs();
  const template = newLeafTemplate(new Date(nowMs), { spki, san: principal.san, issuer: issuer.issuerUrl, claims: principal.claims });
  // Profile: a leaf lives no longer than its issuer (and the issuer must be valid now).
  if (template.notAfter > deps.ca.intermediate.notAfter || template.notBefore < deps.ca.intermediate.notBefore) {
    throw new CaError('invalid_config', `the CA's intermediate certificate is not valid from ${template.notBefore.toISOString()} to ${template.notAfter.toISOString()}; re-issue it`);
  }
  const leaf = prepareLeaf(deps.ca, template);
  const precertificate = formatPrecertificate(deps.ca, leaf);
  let logIndex: bigint;
  try {
    const result = await deps.log.addEntry(formatPrecertificateEntry({ precertificate, chain: deps.ca.chain, timestampMs: nowMs }));
    logIndex = result.index;
  } catch (err) {
    const why = isLogError(err) ? `${err.code}: ${err.message}` : 'internal error';
    throw new CaError('log_failed', `couldn't log the precertificate, so no certificate was issued (${why})`, { cause: err });
  }
  const sct = signSct(deps.ca, BigInt(nowMs), deps.ca.intermediateSpki, formatSctTbs(leaf));
  const certificate = formatFinalCertificate(deps.ca, leaf, formatSctListExtensionValue([sct]));
  const certificates = [certificate, ...deps.ca.chain].map((der) => formatPem('CERTIFICATE', der));
  return { response: { signedCertificateEmbeddedSct: { chain: { certificates } } }, kind: issuer.kind, logIndex };
}

/** formatTrustBundle is GET /api/v2/trustBundle: the one chain, intermediate then root, PEM. */
export function formatTrustBundle(ca: Ca): { chains: { certificates: string[] }[] } {
  return { chains: [{ certificates: ca.chain.map((der) => formatPem('CERTIFICATE', der)) }] };
}

/** formatConfiguration is GET /api/v2/configuration: Fulcio's issuer list (protobuf JSON). */
export function formatConfiguration(verifier: OidcVerifier): { issuers: Record<string, string>[] } {
  return {
    issuers: verifier.issuers.map((i) => ({
      issuerUrl: i.issuerUrl,
      audience: i.clientId,
      challengeClaim: i.kind === 'email' ? 'email' : 'sub',
      issuerType: i.kind,
      ...(i.subjectDomain === undefined ? {} : { subjectDomain: i.subjectDomain }),
    })),
  };
}
