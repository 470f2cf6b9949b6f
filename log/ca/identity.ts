// identity.ts turns a verified token into what the certificate says (Fulcio's principals, research
// notes 3.1–3.3, fulcio config/identity/config.yaml `ci-issuer-metadata`): the one SAN, the
// challenge claim the proof of possession signs, and the CI claims in the 57264.1.x extensions.
//
//   email            SAN email = `email` (email_verified must be true); challenge `email`
//   github-workflow  SAN URI = <url>/<job_workflow_ref>; challenge `sub`; .1.2–.1.6 (raw), .1.9–.1.24
//   gitlab-pipeline  SAN URI = https://<ci_config_ref_uri>; challenge `sub`; .1.9–.1.24
//   uri              SAN URI = `sub`, which must start with the issuer's subjectDomain; challenge `sub`
//
// Every claim is attacker-influenced (whoever controls the issuer chose it); values must be
// non-empty strings (or numbers, which CI tokens use for IDs) of bounded length.
import type { JWTPayload } from 'jose';
import type { ClaimExtension, SubjectAltName } from './certificate.ts';
import { CaError } from './errors.ts';
import type { IssuerConfig } from './oidc.ts';

/** Principal is who a token names, as a certificate will say it. */
export interface Principal {
  readonly san: SubjectAltName;
  /** challenge is the claim value the proof of possession must sign. */
  readonly challenge: string;
  readonly claims: readonly ClaimExtension[];
}

const MAX_CLAIM_CHARS = 1024;
const ARC = '1.3.6.1.4.1.57264.1';

function claim(claims: JWTPayload, name: string): string | undefined {
  const v = claims[name];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string' || v === '' || v.length > MAX_CLAIM_CHARS) return undefined;
  return v;
}

function required(claims: JWTPayload, name: string, issuer: IssuerConfig): string {
  const v = claim(claims, name);
  if (v === undefined) throw new CaError('identity_refused', `tokens of ${issuer.issuerUrl} (${issuer.kind}) need a ${name} claim of at most ${MAX_CLAIM_CHARS} characters`);
  return v;
}

/** template fills `{name}` placeholders; undefined when a claim it needs is missing. */
function template(claims: JWTPayload, text: string, defaults: Record<string, string>): string | undefined {
  let missing = false;
  const out = text.replace(/\{([a-z_]+)\}/g, (_m, name: string) => {
    const v = claim(claims, name) ?? defaults[name];
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

type Templates = readonly (readonly [arc: number, text: string, encoding?: 'raw'])[];

const GITHUB: Templates = [
  [2, '{event_name}', 'raw'], [3, '{sha}', 'raw'], [4, '{workflow}', 'raw'], [5, '{repository}', 'raw'], [6, '{ref}', 'raw'],
  [9, '{url}/{job_workflow_ref}'], [10, '{job_workflow_sha}'], [11, '{runner_environment}'],
  [12, '{url}/{repository}'], [13, '{sha}'], [14, '{ref}'], [15, '{repository_id}'],
  [16, '{url}/{repository_owner}'], [17, '{repository_owner_id}'], [18, '{url}/{workflow_ref}'], [19, '{workflow_sha}'],
  [20, '{event_name}'], [21, '{url}/{repository}/actions/runs/{run_id}/attempts/{run_attempt}'],
  [22, '{repository_visibility}'], [23, '{environment}'], [24, '{sub}'],
];

const GITLAB: Templates = [
  [9, 'https://{ci_config_ref_uri}'], [10, '{ci_config_sha}'], [11, '{runner_environment}'],
  [12, '{url}/{project_path}'], [13, '{sha}'], [14, 'refs/{ref_kind}/{ref}'], [15, '{project_id}'],
  [16, '{url}/{namespace_path}'], [17, '{namespace_id}'], [18, 'https://{ci_config_ref_uri}'], [19, '{ci_config_sha}'],
  [20, '{pipeline_source}'], [21, '{url}/{project_path}/-/jobs/{job_id}'], [22, '{project_visibility}'],
  [23, '{environment}'], [24, '{sub}'],
];

function ciClaims(claims: JWTPayload, templates: Templates, defaults: Record<string, string>): ClaimExtension[] {
  const out: ClaimExtension[] = [];
  for (const [arc, text, encoding] of templates) {
    const value = template(claims, text, defaults);
    if (value !== undefined) out.push({ oid: `${ARC}.${arc}`, value, encoding: encoding ?? 'utf8String' });
  }
  return out;
}

function emailPrincipal(issuer: IssuerConfig, claims: JWTPayload): Principal {
  const email = required(claims, 'email', issuer);
  const verified = claims.email_verified === true || claims.email_verified === 'true';
  if (!verified && issuer.skipEmailVerification !== true) {
    throw new CaError('email_not_verified', `the identity token's email is not verified by ${issuer.issuerUrl} (email_verified is not true)`);
  }
  return { san: { type: 'email', value: email }, challenge: email, claims: [] };
}

function uriPrincipal(issuer: IssuerConfig, claims: JWTPayload): Principal {
  const sub = required(claims, 'sub', issuer);
  let url: URL;
  try {
    url = new URL(sub);
  } catch {
    throw new CaError('identity_refused', `the token's sub is not a URI`);
  }
  if (!sub.startsWith(issuer.subjectDomain!) || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new CaError('identity_refused', `the token's sub is not under ${issuer.subjectDomain}`);
  }
  return { san: { type: 'uri', value: sub }, challenge: sub, claims: [] };
}

// A SAN email or URI is an IA5String (RFC 5280 §4.2.1.6): ASCII. Other characters would be
// encoded as whatever byte the encoder makes of them (a code point above U+00FF loses its high
// bits: the certificate would name someone else), and logs refuse such certificates (Go's x509,
// log/kinds/certificate.ts). Spaces and control characters have no place in either form.
const SAN_CHARS = /^[\x21-\x7e]+$/;

/**
 * principalOf maps a verified token's claims to its principal. Throws CaError 'email_not_verified'
 * or 'identity_refused' when the token does not carry what its issuer's kind needs, or when the
 * identity is not plain ASCII (an IA5String SAN).
 */
export function principalOf(issuer: IssuerConfig, claims: JWTPayload): Principal {
  const p = principalOfKind(issuer, claims);
  if (!SAN_CHARS.test(p.san.value)) {
    throw new CaError('identity_refused', `the token's identity ${JSON.stringify(p.san.value.slice(0, 200))} is not plain ASCII, which a certificate's ${p.san.type === 'email' ? 'email' : 'URI'} name must be`);
  }
  return p;
}

function principalOfKind(issuer: IssuerConfig, claims: JWTPayload): Principal {
  switch (issuer.kind) {
    case 'email':
      return emailPrincipal(issuer, claims);
    case 'uri':
      return uriPrincipal(issuer, claims);
    case 'github-workflow': {
      const sub = required(claims, 'sub', issuer);
      const url = (issuer.ciUrl ?? 'https://github.com').replace(/\/+$/, '');
      const san = `${url}/${required(claims, 'job_workflow_ref', issuer)}`;
      return { san: { type: 'uri', value: san }, challenge: sub, claims: ciClaims(claims, GITHUB, { url }) };
    }
    case 'gitlab-pipeline': {
      const sub = required(claims, 'sub', issuer);
      const url = (issuer.ciUrl ?? 'https://gitlab.com').replace(/\/+$/, '');
      const san = `https://${required(claims, 'ci_config_ref_uri', issuer)}`;
      const refKind = claim(claims, 'ref_type') === 'branch' ? 'heads' : 'tags';
      return { san: { type: 'uri', value: san }, challenge: sub, claims: ciClaims(claims, GITLAB, { url, ref_kind: refKind }) };
    }
  }
}
