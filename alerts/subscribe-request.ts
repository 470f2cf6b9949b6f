// What a subscriber submits (attacker-controlled, every field): an address, watch rules and
// expected-signer policies, a delivery mode and the logs they follow. Rules and policies are
// validated by monitor/rules.ts, the same parser the monitor uses, with the ids filled in here.
import { isMonitorError } from '../monitor/errors.ts';
import { parseSignerPolicy, parseWatchRule, type SignerPolicy, type WatchRule } from '../monitor/rules.ts';
import { AlertsError } from './errors.ts';

/** Delivery is when mail goes out: at once, or grouped in an hourly or daily digest. */
export type Delivery = 'immediate' | 'hourly' | 'daily';
/** DELIVERIES are the delivery modes. */
export const DELIVERIES: readonly Delivery[] = ['immediate', 'hourly', 'daily'];

/** RuleSpecs are a subscriber's rules and policies without ids and owner (the server assigns them). */
export interface RuleSpecs {
  rules: Omit<WatchRule, 'id' | 'subscriberId'>[];
  policies: Omit<SignerPolicy, 'id' | 'subscriberId'>[];
}

/** SubscribeRequest is a validated subscription request. */
export interface SubscribeRequest extends RuleSpecs {
  email: string;
  delivery: Delivery;
  /** logs are the origins whose log alerts the subscriber gets; "*" is every log. */
  logs: string[];
}

/** Limits bound one subscriber's settings. */
export interface Limits {
  maxRules: number;
  maxPolicies: number;
  maxLogs: number;
}

/** MAX_EMAIL_LENGTH is RFC 5321's limit on a path. */
export const MAX_EMAIL_LENGTH = 254;
// The WHATWG `input type=email` grammar: no spaces, quotes, commas or angle brackets, so an address
// can never add a recipient or a header.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const ORIGIN = /^[\x21-\x7e]{1,256}$/;

/** parseEmail validates an address (attacker-controlled) or throws invalid_email. */
export function parseEmail(value: unknown): string {
  if (typeof value !== 'string') throw new AlertsError('invalid_email', 'email: want an address');
  const email = value.trim();
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email)) throw new AlertsError('invalid_email', 'email: want a plain address like name@example.com');
  return email;
}

/** emailKey is the address as compared: lowercased, so Alice@Example.com is alice@example.com. */
export function emailKey(email: string): string {
  return email.toLowerCase();
}

/** parseSubscribeRequest validates a JSON subscription request or throws an AlertsError. */
export function parseSubscribeRequest(body: unknown, limits: Limits): SubscribeRequest {
  const o = asObject(body, 'request', ['email', 'rules', 'policies', 'delivery', 'logs']);
  const email = parseEmail(o.email);
  const specs = parseRuleSpecs({ rules: o.rules ?? [], policies: o.policies ?? [] }, limits);
  if (specs.rules.length + specs.policies.length === 0) throw new AlertsError('invalid_rules', 'rules: give at least one identity, namespace or key to watch, or a policy');
  return { email, ...specs, delivery: parseDelivery(o.delivery ?? 'immediate'), logs: parseLogs(o.logs ?? ['*'], limits) };
}

/** parseRuleSpecs validates `{rules, policies}` with monitor/rules.ts, or throws invalid_rules / too_many_rules. */
export function parseRuleSpecs(body: unknown, limits: Limits): RuleSpecs {
  const o = asObject(body, 'rule set', ['rules', 'policies']);
  const rules = asArray(o.rules ?? [], 'rules', limits.maxRules);
  const policies = asArray(o.policies ?? [], 'policies', limits.maxPolicies);
  try {
    return {
      rules: rules.map((r, i) => strip(parseWatchRule(withIds(r, `rules[${i}]`), `rules[${i}]`))),
      policies: policies.map((p, i) => strip(parseSignerPolicy(withIds(p, `policies[${i}]`), `policies[${i}]`))),
    };
  } catch (err) {
    if (isMonitorError(err)) throw new AlertsError('invalid_rules', err.message, { cause: err });
    throw err;
  }
}

/** parseDelivery validates a delivery mode. */
export function parseDelivery(value: unknown): Delivery {
  if (!DELIVERIES.includes(value as Delivery)) throw new AlertsError('malformed_request', `delivery: want one of ${DELIVERIES.join(', ')}`);
  return value as Delivery;
}

/** parseLogs validates the followed logs: "*" or checkpoint origins, at most limits.maxLogs. */
export function parseLogs(value: unknown, limits: Limits): string[] {
  const logs = asArray(value, 'logs', limits.maxLogs);
  if (logs.some((l) => typeof l !== 'string' || !ORIGIN.test(l))) throw new AlertsError('malformed_request', 'logs: want "*" or log origins (printable, no spaces, at most 256 characters)');
  return [...new Set(logs as string[])];
}

function withIds(value: unknown, path: string): unknown {
  const o = asObject(value, path, undefined);
  if ('id' in o || 'subscriberId' in o) throw new AlertsError('invalid_rules', `${path}: id and subscriberId are assigned by the server`);
  return { ...o, id: 'new', subscriberId: 'new' };
}

function strip<T extends { id: string; subscriberId: string }>(v: T): Omit<T, 'id' | 'subscriberId'> {
  const { id: _id, subscriberId: _s, ...rest } = v;
  return rest;
}

function asObject(value: unknown, path: string, allowed: readonly string[] | undefined): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AlertsError('malformed_request', `${path}: want a JSON object`);
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (allowed !== undefined && !allowed.includes(k)) throw new AlertsError('malformed_request', `${path}.${k}: is not a known field`);
  return o;
}

function asArray(value: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(value)) throw new AlertsError('malformed_request', `${path}: want an array`);
  if (value.length > max) throw new AlertsError('too_many_rules', `${path}: at most ${max} allowed`);
  return value;
}

/**
 * ruleSpecsFromForm turns the subscribe page's fields into rule specs: one pattern per line in
 * identities, namespaces and keys (a line with `*` is a glob, `regex:` starts an anchored regex,
 * anything else is exact), an optional issuer for the identity lines, and an optional policy.
 */
export function ruleSpecsFromForm(form: Record<string, unknown>): { rules: unknown[]; policies: unknown[] } {
  const issuer = text(form.issuer);
  const rules: unknown[] = [
    ...lines(form.identities).map((l) => ({ target: 'identity', ...pattern(l), ...(issuer ? { issuer } : {}) })),
    ...lines(form.namespaces).map((l) => ({ target: 'namespace', ...pattern(l) })),
    ...lines(form.keys).map((l) => ({ target: 'key', ...pattern(l) })),
  ];
  const policies: unknown[] = [];
  const ns = text(form.policy_namespace);
  if (ns) {
    const signer: Record<string, unknown> = { issuer: text(form.policy_issuer), identity: pattern(text(form.policy_identity)) };
    if (text(form.policy_workflow)) signer.workflow = text(form.policy_workflow);
    if (text(form.policy_ref)) signer.ref = text(form.policy_ref);
    policies.push({ namespace: ns, allowedSigners: [signer] });
  }
  return { rules, policies };
}

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

function lines(v: unknown): string[] {
  return text(v).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}

function pattern(line: string): { match: string; pattern: string } {
  if (line.startsWith('regex:')) return { match: 'regex', pattern: line.slice('regex:'.length) };
  return { match: line.includes('*') ? 'glob' : 'exact', pattern: line };
}
