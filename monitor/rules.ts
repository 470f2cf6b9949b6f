// Watch rules and expected-signer policies, and their parsing from JSON (subscriber input: every
// field is attacker-controlled). Errors name the field by its JSON path, e.g.
// `rules[3].pattern: regex: lookaround is not supported at offset 4`.
//
// Patterns are compared with normalised values (monitor/normalise.ts): exact and glob patterns are
// normalised the same way when compiled, so "Alice@Example.com" finds "alice@example.com"; a regex
// is applied as written to the normalised value, so it must be written in that form (emails and
// domains in lowercase, purls decoded without version: "pkg:npm/@scope/name").
import { MonitorError, type MonitorErrorCode } from './errors.ts';
import { HEX_64 } from './normalise.ts';
import { compilePattern, MAX_PATTERN_LENGTH, type MatchMode, type PatternDomain } from './pattern.ts';
import { parsePurl } from './purl.ts';

/** WatchTarget is what a watch rule looks at: the signer's SAN, each namespace, or the key. */
export type WatchTarget = 'identity' | 'namespace' | 'key';

/** WatchRule says that a subscriber wants to hear of every entry whose target matches pattern. */
export interface WatchRule {
  id: string;
  subscriberId: string;
  target: WatchTarget;
  match: MatchMode;
  pattern: string;
  /** issuer, for identity rules only, restricts matches to one OIDC issuer (compared exactly). */
  issuer?: string;
}

/** IdentityPattern is an allowed signer's SAN pattern. */
export interface IdentityPattern {
  match: MatchMode;
  pattern: string;
}

/** AllowedSigner is one signer an expected-signer policy accepts; every given field must fit. */
export interface AllowedSigner {
  /** issuer is the OIDC issuer URL, compared exactly (after lowercasing scheme and host). */
  issuer: string;
  identity: IdentityPattern;
  /** workflow is the top-level workflow path, e.g. "org/repo/.github/workflows/release.yml", exact. */
  workflow?: string;
  /** ref is a glob over the source repository ref, e.g. "refs/tags/*". */
  ref?: string;
}

/**
 * SignerPolicy says who may sign for the namespaces its glob covers (a pattern without `*` is one
 * namespace). An entry about such a namespace that no allowed signer fits is an unexpected signer.
 */
export interface SignerPolicy {
  id: string;
  subscriberId: string;
  namespace: string;
  allowedSigners: AllowedSigner[];
}

/** RuleSet is a document of rules and policies: `{ "rules": [...], "policies": [...] }`. */
export interface RuleSet {
  rules: WatchRule[];
  policies: SignerPolicy[];
}

/** MAX_ID_LENGTH bounds rule, policy and subscriber ids. */
export const MAX_ID_LENGTH = 128;
/** MAX_ALLOWED_SIGNERS bounds the allowed signers of one policy. */
export const MAX_ALLOWED_SIGNERS = 64;

const ID = /^[\x21-\x7e]+$/; // printable ASCII, no spaces
const ISSUER = /^https?:\/\/[^\s/?#]+/;
const CONTROL = /[\x00-\x1f\x7f]/;
const TARGETS: readonly WatchTarget[] = ['identity', 'namespace', 'key'];
const MODES: readonly MatchMode[] = ['exact', 'glob', 'regex'];

/** parseWatchRule validates one watch rule, or throws malformed_rule, malformed_pattern or pattern_too_large. */
export function parseWatchRule(value: unknown, path = 'rule'): WatchRule {
  const r = new Reader(value, path, 'malformed_rule', ['id', 'subscriberId', 'target', 'match', 'pattern', 'issuer']);
  const rule: WatchRule = {
    id: r.id('id'),
    subscriberId: r.id('subscriberId'),
    target: r.oneOf('target', TARGETS),
    match: r.oneOf('match', MODES),
    pattern: r.string('pattern'),
  };
  const issuer = r.optionalString('issuer');
  if (issuer !== undefined) {
    if (rule.target !== 'identity') r.fail('issuer', 'applies only to identity rules');
    rule.issuer = checkIssuer(r, 'issuer', issuer);
  }
  checkPattern(r, 'pattern', rule.target, rule.match, rule.pattern);
  return rule;
}

/** parseSignerPolicy validates one expected-signer policy, or throws malformed_policy or a pattern error. */
export function parseSignerPolicy(value: unknown, path = 'policy'): SignerPolicy {
  const r = new Reader(value, path, 'malformed_policy', ['id', 'subscriberId', 'namespace', 'allowedSigners']);
  const policy: SignerPolicy = {
    id: r.id('id'),
    subscriberId: r.id('subscriberId'),
    namespace: r.string('namespace'),
    allowedSigners: [],
  };
  checkPattern(r, 'namespace', 'namespace', 'glob', policy.namespace);
  const signers = r.array('allowedSigners', 1, MAX_ALLOWED_SIGNERS);
  policy.allowedSigners = signers.map((s, i) => parseAllowedSigner(s, `${path}.allowedSigners[${i}]`));
  return policy;
}

function parseAllowedSigner(value: unknown, path: string): AllowedSigner {
  const r = new Reader(value, path, 'malformed_policy', ['issuer', 'identity', 'workflow', 'ref']);
  const signer: AllowedSigner = { issuer: checkIssuer(r, 'issuer', r.string('issuer')), identity: { match: 'exact', pattern: '' } };
  const id = new Reader(r.field('identity'), `${path}.identity`, 'malformed_policy', ['match', 'pattern']);
  signer.identity = { match: id.oneOf('match', MODES), pattern: id.string('pattern') };
  checkPattern(id, 'pattern', 'identity', signer.identity.match, signer.identity.pattern);
  const workflow = r.optionalString('workflow');
  if (workflow !== undefined) signer.workflow = checkPlain(r, 'workflow', workflow);
  const ref = r.optionalString('ref');
  if (ref !== undefined) signer.ref = checkPattern(r, 'ref', 'ref', 'glob', ref);
  return signer;
}

/** parseRuleSet validates a rule-set document; ids must be unique among rules and among policies. */
export function parseRuleSet(value: unknown): RuleSet {
  const r = new Reader(value, 'ruleSet', 'malformed_rule', ['rules', 'policies']);
  const rules = (r.field('rules') === undefined ? [] : r.array('rules', 0, Infinity)).map((v, i) => parseWatchRule(v, `rules[${i}]`));
  const policies = (r.field('policies') === undefined ? [] : r.array('policies', 0, Infinity)).map((v, i) =>
    parseSignerPolicy(v, `policies[${i}]`),
  );
  checkUnique(rules.map((x) => x.id), 'rules');
  checkUnique(policies.map((x) => x.id), 'policies');
  return { rules, policies };
}

/** parseRuleSetJson parses JSON text and validates it as a rule set. */
export function parseRuleSetJson(text: string): RuleSet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MonitorError('malformed_rule', `rule set is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseRuleSet(value);
}

function checkUnique(ids: string[], field: string): void {
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    const first = seen.get(id);
    if (first !== undefined) throw new MonitorError('duplicate_id', `${field}[${i}].id: ${JSON.stringify(id)} is also ${field}[${first}].id`);
    seen.set(id, i);
  });
}

function checkIssuer(r: Reader, key: string, issuer: string): string {
  if (!ISSUER.test(issuer)) r.fail(key, 'must be an http(s) URL, the OIDC issuer identifier');
  return checkPlain(r, key, issuer);
}

function checkPlain(r: Reader, key: string, text: string): string {
  if (text === '') r.fail(key, 'is empty');
  if (text.length > MAX_PATTERN_LENGTH) r.fail(key, `is longer than ${MAX_PATTERN_LENGTH} characters`);
  if (CONTROL.test(text)) r.fail(key, 'contains a control character');
  if (text.trim() !== text) r.fail(key, 'has leading or trailing whitespace');
  return text;
}

// checkPattern compiles a pattern to report syntax errors, then checks what its domain requires.
function checkPattern(r: Reader, key: string, domain: PatternDomain, mode: MatchMode, pattern: string): string {
  if (pattern === '') r.fail(key, 'is empty');
  try {
    compilePattern(domain, mode, pattern); // first, so that a long pattern is pattern_too_large whatever its mode
  } catch (err) {
    if (err instanceof MonitorError) throw new MonitorError(err.code, `${r.path}.${key}: ${err.message}`, { cause: err });
    throw err;
  }
  if (mode !== 'regex') checkPlain(r, key, pattern);
  if (domain === 'key' && mode === 'exact' && !HEX_64.test(pattern)) r.fail(key, 'must be 64 hex digits (SHA-256 of the key)');
  if (domain === 'namespace' && mode !== 'regex' && /^pkg:/i.test(pattern)) checkPurlPattern(r, key, pattern);
  return pattern;
}

function checkPurlPattern(r: Reader, key: string, pattern: string): void {
  const p = parsePurl(pattern);
  if (p === undefined) r.fail(key, 'is not a purl: pkg:<type>/[<namespace>/]<name>');
  if (p.hasVersion || p.hasQualifiers || p.hasSubpath) r.fail(key, 'names a package version, qualifiers or subpath: a namespace is a package (pkg:<type>/<name>)');
}

// Reader reads typed fields of one JSON object, failing with the object's path and error code.
class Reader {
  private readonly obj: Record<string, unknown>;

  constructor(value: unknown, readonly path: string, private readonly code: MonitorErrorCode, allowed: readonly string[]) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MonitorError(code, `${path}: must be an object`);
    this.obj = value as Record<string, unknown>;
    for (const k of Object.keys(this.obj)) if (!allowed.includes(k)) this.fail(k, 'is not a known field');
  }

  fail(key: string, reason: string): never {
    throw new MonitorError(this.code, `${this.path}.${key}: ${reason}`);
  }

  field(key: string): unknown {
    return Object.hasOwn(this.obj, key) ? this.obj[key] : undefined;
  }

  string(key: string): string {
    const v = this.field(key);
    if (v === undefined) this.fail(key, 'is missing');
    if (typeof v !== 'string') this.fail(key, 'must be a string');
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.field(key) === undefined ? undefined : this.string(key);
  }

  id(key: string): string {
    const v = this.string(key);
    if (v.length > MAX_ID_LENGTH || !ID.test(v)) this.fail(key, `must be 1 to ${MAX_ID_LENGTH} printable ASCII characters without spaces`);
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T {
    const v = this.string(key);
    if (!(values as readonly string[]).includes(v)) this.fail(key, `must be one of ${values.join(', ')}`);
    return v as T;
  }

  array(key: string, min: number, max: number): unknown[] {
    const v = this.field(key);
    if (!Array.isArray(v)) this.fail(key, v === undefined ? 'is missing' : 'must be an array');
    if (v.length < min || v.length > max) this.fail(key, `must have ${min} to ${max} elements`);
    return v;
  }
}
