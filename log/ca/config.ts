// config.ts reads the CA's issuer list, the file the operator names (e.g. with --ca-issuers), a
// JSON document in the spirit of Fulcio's `oidc-issuers`:
//
//   {"issuers": [
//     {"issuerUrl": "https://token.actions.githubusercontent.com", "clientId": "sigstore", "kind": "github-workflow"},
//     {"issuerUrl": "https://accounts.google.com", "clientId": "sigstore", "kind": "email"},
//     {"issuerUrl": "https://ci.example.com", "clientId": "sigstore", "kind": "uri", "subjectDomain": "https://ci.example.com/"}
//   ]}
//
// Every problem is reported at once (STYLE, Configuration). The development issuer is never in it
// implicitly: `vigil up` adds it explicitly.
import { readFileSync } from 'node:fs';
import { errorMessage } from '../errors.ts';
import { CaError } from './errors.ts';
import type { IssuerConfig, IssuerKind } from './oidc.ts';

const KINDS: readonly IssuerKind[] = ['email', 'github-workflow', 'gitlab-pipeline', 'uri'];
const FIELDS = new Set(['issuerUrl', 'clientId', 'kind', 'subjectDomain', 'ciUrl', 'skipEmailVerification']);

function readIssuer(v: unknown, at: string, problems: string[]): IssuerConfig | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    problems.push(`${at} must be an object`);
    return undefined;
  }
  const o = v as Record<string, unknown>;
  const before = problems.length;
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) problems.push(`${at}.${k} is not a known field`);
  const str = (k: string, required: boolean): string | undefined => {
    if (o[k] === undefined && !required) return undefined;
    if (typeof o[k] !== 'string' || o[k] === '') problems.push(`${at}.${k} must be a non-empty string`);
    return typeof o[k] === 'string' ? o[k] : undefined;
  };
  const issuerUrl = str('issuerUrl', true);
  const clientId = str('clientId', true);
  const kind = str('kind', true);
  const subjectDomain = str('subjectDomain', kind === 'uri');
  const ciUrl = str('ciUrl', false);
  if (kind !== undefined && !KINDS.includes(kind as IssuerKind)) problems.push(`${at}.kind must be one of ${KINDS.join(', ')}`);
  if (issuerUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(issuerUrl)) problems.push(`${at}.issuerUrl must be an http(s) URL`);
  if (o.skipEmailVerification !== undefined && typeof o.skipEmailVerification !== 'boolean') problems.push(`${at}.skipEmailVerification must be a boolean`);
  if (problems.length !== before) return undefined;
  return {
    issuerUrl: issuerUrl!, clientId: clientId!, kind: kind as IssuerKind,
    ...(subjectDomain === undefined ? {} : { subjectDomain }),
    ...(ciUrl === undefined ? {} : { ciUrl }),
    ...(o.skipEmailVerification === true ? { skipEmailVerification: true } : {}),
  };
}

/** parseIssuers reads the issuer list's JSON text; CaError 'invalid_config' lists every problem. */
export function parseIssuers(text: string, source = 'issuers'): IssuerConfig[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CaError('invalid_config', `${source} is not JSON: ${errorMessage(err)}`, { cause: err });
  }
  const list = (doc as { issuers?: unknown } | null)?.issuers;
  if (!Array.isArray(list)) throw new CaError('invalid_config', `${source} must be {"issuers": [...]}`);
  const problems: string[] = [];
  const issuers = list.map((v, i) => readIssuer(v, `issuers[${i}]`, problems));
  const urls = issuers.flatMap((i) => (i === undefined ? [] : [i.issuerUrl]));
  const dup = urls.find((u, i) => urls.indexOf(u) !== i);
  if (dup !== undefined) problems.push(`issuer ${dup} is listed twice`);
  if (problems.length > 0) throw new CaError('invalid_config', `${source}: ${problems.join('; ')}`);
  return issuers as IssuerConfig[];
}

/** loadIssuersFile reads and parses the issuer list in `file`. */
export function loadIssuersFile(file: string): IssuerConfig[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CaError('invalid_config', `couldn't read the CA issuers file ${file}: ${errorMessage(err)}`, { cause: err });
  }
  return parseIssuers(text, file);
}
