// Quorum policies: one parser and evaluator for C2SP tlog-policy (c2sp.org/tlog-policy) and its
// parent, the Sigsum policy (sigsum-go doc/policy.md). Used by the log (when to publish), the
// monitor and `vigil verify`.
//
// Key format, decided per key token: a token of exactly 64 hex digits is a Sigsum raw Ed25519
// public key, anything else must be a C2SP vkey. The two cannot be confused (a vkey always holds
// two '+'), so one file may mix them; `keyFormat` restricts a parse to one of them. A Sigsum log
// key signs checkpoints with origin `sigsum.org/v1/tree/<hex SHA-256(key)>` under that origin as
// key name (type 0x01). A Sigsum witness key cosigns (cosignature/v1, type 0x04) under the witness
// name as key name: sigsum-go doc/policy.md Appendix A asks for witness names equal to the key
// names on the cosignature lines, and the builtin policies follow it (`witness witness.glasklar.is
// <hex>`).
import { decodeHex, encodeHex } from './base64.ts';
import { TlogError } from './errors.ts';
import {
  computeKeyId,
  decodeVerifierKey,
  NOTE_KEY_TYPE_COSIGNATURE_V1,
  NOTE_KEY_TYPE_ECDSA,
  NOTE_KEY_TYPE_ED25519,
  NOTE_KEY_TYPE_MLDSA44,
  NOTE_KEY_TYPE_RFC6962,
  type VerifierKeyParts,
} from './note-key-id.ts';
import { sha256 } from './sha256.ts';

/** POLICY_NONE is the predefined name of the empty quorum, `quorum none` (tlog-policy). */
export const POLICY_NONE = 'none';

/** SIGSUM_ORIGIN_PREFIX starts the origin of a Sigsum log: the prefix, then hex SHA-256(key). */
export const SIGSUM_ORIGIN_PREFIX = 'sigsum.org/v1/tree/';

/** DEFAULT_MAX_POLICY_ENTRIES bounds logs, witnesses and groups (each); the spec asks for ≥ 32. */
export const DEFAULT_MAX_POLICY_ENTRIES = 1024;

// Signature types fit for each role (c2sp.org/signed-note): logs sign checkpoints with Ed25519,
// ECDSA or RFC 6962 tree head signatures; witnesses cosign with cosignature/v1 (0x04) or ML-DSA-44
// (0x06), and publish Ed25519 keys as 0x01 vkeys too (ArmoredWitness), which verifiers convert.
const LOG_KEY_TYPES: ReadonlySet<number> = new Set([NOTE_KEY_TYPE_ED25519, NOTE_KEY_TYPE_ECDSA, NOTE_KEY_TYPE_RFC6962]);
const WITNESS_KEY_TYPES: ReadonlySet<number> = new Set([
  NOTE_KEY_TYPE_ED25519,
  NOTE_KEY_TYPE_COSIGNATURE_V1,
  NOTE_KEY_TYPE_MLDSA44,
]);
const SIGSUM_HEX_KEY = /^[0-9a-fA-F]{64}$/;

/** PolicyKeyFormat says how a key was written: a C2SP vkey, or Sigsum's 64 hex digits. */
export type PolicyKeyFormat = 'vkey' | 'sigsum-hex';

/** PolicyLog is a `log` line: any listed log may sign an accepted checkpoint. */
export interface PolicyLog {
  /** origin is the checkpoint origin line, equal to the key name (tlog-policy "Defining a log"). */
  origin: string;
  key: VerifierKeyParts;
  /** keyText is the key token exactly as written, so formatPolicy reproduces it. */
  keyText: string;
  keyFormat: PolicyKeyFormat;
  url?: string;
}

/**
 * PolicyWitness is a `witness` line; `url`, when present, is its tlog-witness submission prefix.
 * For a Sigsum hex key, `key` is a cosignature/v1 key named after the witness (sigsum-go
 * doc/policy.md Appendix A). sigsum-go itself matches cosignatures by public key and takes the
 * key name from the signature line, so a verifier wanting its leniency matches by `key.publicKey`.
 */
export interface PolicyWitness {
  name: string;
  key: VerifierKeyParts;
  keyText: string;
  keyFormat: PolicyKeyFormat;
  url?: string;
}

/** PolicyGroup is a `group` line: satisfied when at least `threshold` of its members are. */
export interface PolicyGroup {
  name: string;
  threshold: number;
  /** members names witnesses or groups defined on earlier lines; each name is used once overall. */
  members: string[];
}

/**
 * Policy is a parsed policy. Groups are in definition order, so each group's members precede it;
 * `quorum` is POLICY_NONE or a witness or group name. Build one with parsePolicy: the evaluator
 * relies on the invariants the parser checks.
 */
export interface Policy {
  logs: PolicyLog[];
  witnesses: PolicyWitness[];
  groups: PolicyGroup[];
  quorum: string;
}

/** ParsePolicyOptions restricts the accepted key format and bounds the policy's size. */
export interface ParsePolicyOptions {
  /** keyFormat: 'auto' (default) decides per key token; 'vkey' or 'sigsum-hex' accept one form. */
  keyFormat?: 'auto' | PolicyKeyFormat;
  /** maxEntries bounds logs, witnesses and groups, each (default DEFAULT_MAX_POLICY_ENTRIES). */
  maxEntries?: number;
}

interface ParseState {
  policy: Policy;
  options: Required<ParsePolicyOptions>;
  /** defined holds witness and group names with their line, plus the predefined `none`. */
  defined: Map<string, number>;
  memberOf: Map<string, string>;
  logKeys: Map<string, number>;
  witnessKeys: Map<string, number>;
  quorumLine: number;
}

/**
 * parsePolicy parses a C2SP tlog-policy or Sigsum policy file (attacker-controlled when a monitor
 * reads someone else's policy). It throws TlogError 'malformed_policy' naming the line and the
 * reason: a disallowed control character, an unknown keyword, a wrong item count, an end-of-line
 * comment, a bad or duplicate key, a duplicate or undefined name, a name that is already a group
 * member, a threshold outside 1..n, or a missing or repeated quorum line. Bytes must be UTF-8.
 */
export function parsePolicy(input: string | Uint8Array, options: ParsePolicyOptions = {}): Policy {
  const text = typeof input === 'string' ? input : decodePolicyBytes(input);
  const st: ParseState = {
    policy: { logs: [], witnesses: [], groups: [], quorum: '' },
    options: {
      keyFormat: options.keyFormat ?? 'auto',
      maxEntries: options.maxEntries ?? DEFAULT_MAX_POLICY_ENTRIES,
    },
    defined: new Map([[POLICY_NONE, 0]]),
    memberOf: new Map(),
    logKeys: new Map(),
    witnessKeys: new Map(),
    quorumLine: 0,
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    checkPolicyCharacters(line, i + 1);
    const items = line.split(/[ \t]+/).filter((s) => s !== '');
    const keyword = items[0];
    // Empty lines and full-line comments ('#' after optional whitespace) are ignored.
    if (keyword === undefined || keyword.startsWith('#')) continue;
    parsePolicyLine(st, keyword, items.slice(1), i + 1);
  }
  if (st.quorumLine === 0) {
    throw new TlogError('malformed_policy', 'no quorum defined: a policy needs exactly one quorum line');
  }
  return st.policy;
}

function decodePolicyBytes(bytes: Uint8Array): string {
  try {
    // ignoreBOM keeps a leading BOM in the text, where it fails as an unknown keyword.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (err) {
    throw new TlogError('malformed_policy', 'policy is not valid UTF-8', { cause: err });
  }
}

// tlog-policy "Character set": only tab, newline, 0x20-0x7E and 0x80 and above. A carriage
// return is a control character too, so CRLF files are refused (sigsum-go's line scanner drops it).
function checkPolicyCharacters(line: string, lineNo: number): void {
  // A lone surrogate has no UTF-8 encoding: a string holding one is not a file of octets.
  if (/\p{Cs}/u.test(line)) throw policyError(lineNo, 'invalid Unicode (a lone surrogate)');
  for (let j = 0; j < line.length; j++) {
    const c = line.charCodeAt(j);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      const hex = c.toString(16).padStart(2, '0');
      throw policyError(lineNo, `control character 0x${hex} is not allowed`);
    }
  }
}

function policyError(lineNo: number, message: string, cause?: unknown): TlogError {
  return new TlogError('malformed_policy', `line ${lineNo}: ${message}`, cause === undefined ? undefined : { cause });
}

function parsePolicyLine(st: ParseState, keyword: string, args: string[], lineNo: number): void {
  if (!['log', 'witness', 'group', 'quorum'].includes(keyword)) {
    throw policyError(lineNo, `unknown keyword: ${quote(keyword)}`);
  }
  // An end-of-line comment is an error, not a comment: transparency-dev/formats strips them and
  // sigsum-go rejects them, so a '#' item would mean different things to different verifiers.
  if (args.some((a) => a.startsWith('#'))) {
    throw policyError(lineNo, `invalid ${keyword} policy line: end-of-line comments are not allowed`);
  }
  if (keyword === 'log') parseLogLine(st, args, lineNo);
  else if (keyword === 'witness') parseWitnessLine(st, args, lineNo);
  else if (keyword === 'group') parseGroupLine(st, args, lineNo);
  else parseQuorumLine(st, args, lineNo);
}

function parseLogLine(st: ParseState, args: string[], lineNo: number): void {
  const [keyText, url] = args;
  if (keyText === undefined || args.length > 2) {
    throw policyError(lineNo, `invalid log policy line: want "log <key> [<url>]", got ${args.length} items after "log"`);
  }
  checkEntryLimit(st, st.policy.logs.length, 'log', lineNo);
  const { key, keyFormat } = parsePolicyKeyToken(st, keyText, 'log', undefined, lineNo);
  const keyHex = encodeHex(key.publicKey);
  const first = st.logKeys.get(keyHex);
  if (first !== undefined) {
    throw policyError(lineNo, `duplicate log: ${quote(keyText)} has the same public key as the log on line ${first}`);
  }
  st.logKeys.set(keyHex, lineNo);
  st.policy.logs.push({ origin: key.name, key, keyText, keyFormat, ...(url === undefined ? {} : { url }) });
}

function parseWitnessLine(st: ParseState, args: string[], lineNo: number): void {
  const [name, keyText, url] = args;
  if (name === undefined || keyText === undefined || args.length > 3) {
    throw policyError(lineNo, `invalid witness policy line: want "witness <name> <key> [<url>]", got ${args.length} items after "witness"`);
  }
  checkEntryLimit(st, st.policy.witnesses.length, 'witness', lineNo);
  checkNewName(st, name, lineNo);
  const { key, keyFormat } = parsePolicyKeyToken(st, keyText, 'witness', name, lineNo);
  const keyHex = encodeHex(key.publicKey);
  const first = st.witnessKeys.get(keyHex);
  if (first !== undefined) {
    throw policyError(lineNo, `duplicate witness: ${quote(keyText)} has the same public key as the witness on line ${first}`);
  }
  st.witnessKeys.set(keyHex, lineNo);
  st.defined.set(name, lineNo);
  st.policy.witnesses.push({ name, key, keyText, keyFormat, ...(url === undefined ? {} : { url }) });
}

function parseGroupLine(st: ParseState, args: string[], lineNo: number): void {
  const [name, thresholdText, ...members] = args;
  if (name === undefined || thresholdText === undefined || members.length === 0) {
    throw policyError(lineNo, `invalid group policy line: want "group <name> all|any|<k> <member>...", got ${args.length} items after "group"`);
  }
  checkEntryLimit(st, st.policy.groups.length, 'group', lineNo);
  const threshold = parseThreshold(thresholdText, members.length, lineNo);
  checkNewName(st, name, lineNo);
  for (const m of members) {
    if (m === POLICY_NONE) throw policyError(lineNo, `"${POLICY_NONE}" cannot be a group member`);
    if (!st.defined.has(m)) throw policyError(lineNo, `undefined name: ${quote(m)} (names must be defined on earlier lines)`);
    const owner = st.memberOf.get(m);
    if (owner !== undefined) {
      throw policyError(lineNo, `${quote(m)} is already a member of group ${quote(owner)}; each name can be a member once`);
    }
    st.memberOf.set(m, name);
  }
  // Defined only after its members are checked, so a group can never contain itself.
  st.defined.set(name, lineNo);
  st.policy.groups.push({ name, threshold, members });
}

function parseQuorumLine(st: ParseState, args: string[], lineNo: number): void {
  const [name] = args;
  if (name === undefined || args.length !== 1) {
    throw policyError(lineNo, `invalid quorum policy line: want "quorum <name>|none", got ${args.length} items after "quorum"`);
  }
  if (st.quorumLine !== 0) {
    throw policyError(lineNo, `duplicate quorum line: the quorum is already defined on line ${st.quorumLine}`);
  }
  if (!st.defined.has(name)) {
    throw policyError(lineNo, `undefined name: ${quote(name)} (the quorum must name an earlier witness or group, or none)`);
  }
  st.quorumLine = lineNo;
  st.policy.quorum = name;
}

function checkNewName(st: ParseState, name: string, lineNo: number): void {
  const first = st.defined.get(name);
  if (first !== undefined) {
    const where = first === 0 ? 'it is predefined' : `first defined on line ${first}`;
    throw policyError(lineNo, `duplicate name: ${quote(name)} (${where})`);
  }
}

function checkEntryLimit(st: ParseState, count: number, what: string, lineNo: number): void {
  if (count >= st.options.maxEntries) {
    throw policyError(lineNo, `too many ${what} lines: the limit is ${st.options.maxEntries}`);
  }
}

// tlog-policy "Defining a witness group": all = n, any = 1, else decimal k with 1 <= k <= n.
function parseThreshold(text: string, n: number, lineNo: number): number {
  if (text === 'all') return n;
  if (text === 'any') return 1;
  if (!/^(0|[1-9][0-9]*)$/.test(text)) {
    throw policyError(lineNo, `invalid group threshold ${quote(text)}: want all, any or a decimal number without leading zeros`);
  }
  const k = Number(text);
  if (k < 1 || k > n) {
    throw policyError(lineNo, `group threshold ${quote(text)} out of range: want 1 <= k <= ${n} (the number of members)`);
  }
  return k;
}

function parsePolicyKeyToken(
  st: ParseState,
  token: string,
  role: 'log' | 'witness',
  witnessName: string | undefined,
  lineNo: number,
): { key: VerifierKeyParts; keyFormat: PolicyKeyFormat } {
  const keyFormat: PolicyKeyFormat = SIGSUM_HEX_KEY.test(token) ? 'sigsum-hex' : 'vkey';
  if (st.options.keyFormat !== 'auto' && st.options.keyFormat !== keyFormat) {
    const want = st.options.keyFormat === 'vkey' ? 'a vkey' : '64 hex digits (a Sigsum key)';
    throw policyError(lineNo, `invalid ${role} key ${quote(token)}: want ${want}`);
  }
  if (keyFormat === 'sigsum-hex') {
    const publicKey = decodeHex(token);
    return { key: sigsumPolicyKey(publicKey, role, witnessName), keyFormat };
  }
  let key: VerifierKeyParts;
  try {
    key = decodeVerifierKey(token);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw policyError(lineNo, `invalid ${role} key ${quote(token)}: ${reason}`, err);
  }
  const allowed = role === 'log' ? LOG_KEY_TYPES : WITNESS_KEY_TYPES;
  if (!allowed.has(key.type)) {
    throw policyError(lineNo, `invalid ${role} key ${quote(token)}: signature type 0x${key.type.toString(16).padStart(2, '0')} cannot be a ${role} key`);
  }
  return { key, keyFormat };
}

// A Sigsum key is the key of an Ed25519 vkey whose name is the log origin (logs) or the witness
// name (witnesses, as cosignature/v1): see the top of this file.
function sigsumPolicyKey(publicKey: Uint8Array, role: 'log' | 'witness', witnessName = ''): VerifierKeyParts {
  const name = role === 'log' ? sigsumLogOrigin(publicKey) : witnessName;
  const type = role === 'log' ? NOTE_KEY_TYPE_ED25519 : NOTE_KEY_TYPE_COSIGNATURE_V1;
  return { name, keyId: computeKeyId(name, type, publicKey), type, publicKey };
}

/** sigsumLogOrigin returns the checkpoint origin of a Sigsum log: `sigsum.org/v1/tree/<hex SHA-256(key)>`. */
export function sigsumLogOrigin(publicKey: Uint8Array): string {
  return SIGSUM_ORIGIN_PREFIX + encodeHex(sha256(publicKey));
}

/**
 * isQuorumSatisfied reports whether the witnesses named in `cosignedBy` (those whose cosignatures
 * verified) satisfy the policy's quorum. Names that are not witnesses of the policy, including
 * group names, count for nothing. `quorum none` is always satisfied.
 */
export function isQuorumSatisfied(policy: Policy, cosignedBy: Iterable<string>): boolean {
  if (policy.quorum === POLICY_NONE) return true;
  const witnessNames = new Set(policy.witnesses.map((w) => w.name));
  const satisfied = new Set<string>();
  for (const name of cosignedBy) if (witnessNames.has(name)) satisfied.add(name);
  // Groups are in definition order and only name earlier witnesses and groups, so one pass in
  // order settles every group before any group that contains it.
  for (const g of policy.groups) {
    let count = 0;
    for (const m of g.members) if (satisfied.has(m)) count++;
    if (count >= g.threshold) satisfied.add(g.name);
  }
  return satisfied.has(policy.quorum);
}

/**
 * isQuorumSatisfiedByKeys is isQuorumSatisfied for witnesses identified by the raw public keys
 * whose cosignatures verified; keys that belong to no witness of the policy count for nothing.
 */
export function isQuorumSatisfiedByKeys(policy: Policy, publicKeys: Iterable<Uint8Array>): boolean {
  const byKey = new Map(policy.witnesses.map((w) => [encodeHex(w.key.publicKey), w.name]));
  const names: string[] = [];
  for (const k of publicKeys) {
    const name = byKey.get(encodeHex(k));
    if (name !== undefined) names.push(name);
  }
  return isQuorumSatisfied(policy, names);
}

/**
 * formatPolicy writes a policy in canonical order (logs, witnesses, groups, quorum) with keys as
 * they were written, so parsePolicy(formatPolicy(p)) equals p. It throws 'invalid_argument' if an
 * item is empty, holds whitespace or a control character, or starts with '#'.
 */
export function formatPolicy(policy: Policy): string {
  const lines: string[] = [];
  for (const l of policy.logs) lines.push(policyLine('log', l.keyText, l.url));
  for (const w of policy.witnesses) lines.push(policyLine('witness', w.name, w.keyText, w.url));
  for (const g of policy.groups) {
    const k = g.threshold === g.members.length ? 'all' : g.threshold === 1 ? 'any' : String(g.threshold);
    lines.push(policyLine('group', g.name, k, ...g.members));
  }
  lines.push(policyLine('quorum', policy.quorum));
  return lines.map((l) => `${l}\n`).join('');
}

function policyLine(...items: (string | undefined)[]): string {
  const present = items.filter((i): i is string => i !== undefined);
  for (const item of present) {
    if (item === '' || item.startsWith('#') || /[\x00-\x20\x7f]/.test(item)) {
      throw new TlogError('invalid_argument', `couldn't format policy: item ${quote(item)} is empty, starts with '#' or holds whitespace or a control character`);
    }
  }
  return present.join(' ');
}

// Quotes untrusted text for an error message, cut short so messages stay small.
function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
