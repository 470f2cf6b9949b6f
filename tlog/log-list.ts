// Witness-network log lists, format `logs/v0` (transparency-dev/witness-network
// log-list-format.md, enforced by its cmd/validate): the logs a witness of the public witness
// network follows, with the rate each log may send add-checkpoint requests at.
//
//   logs/v0                 header, the first line that is neither blank nor a comment
//   vkey <vkey>             starts a log; Ed25519 (type 0x01) only
//   origin <origin>         optional; defaults to the vkey's key name (recommended)
//   qpd <1..2^31-1>         add-checkpoint requests per day
//   contact <free text>     how humans reach the operator
//
// Every line is whitespace-trimmed; blank lines and lines starting with '#' are ignored.
import { TlogError } from './errors.ts';
import { decodeVerifierKey, NOTE_KEY_TYPE_ED25519, type VerifierKeyParts } from './note-key-id.ts';

/** LOG_LIST_HEADER is the first significant line of a list in this format. */
export const LOG_LIST_HEADER = 'logs/v0';

/** MAX_LOG_LIST_QPD is the largest `qpd` value (2^31 - 1). */
export const MAX_LOG_LIST_QPD = 2 ** 31 - 1;

/** LogListEntry is one log of a list. */
export interface LogListEntry {
  /** origin is the checkpoint origin line: the `origin` line, else the vkey's key name. */
  origin: string;
  /** vkey is the log's verifier key exactly as listed. */
  vkey: string;
  /** publicKey is the raw Ed25519 public key inside the vkey. */
  publicKey: Uint8Array;
  /** qpd is the number of add-checkpoint requests per day the log may send. */
  qpd: number;
  contact: string;
}

// The keys of one entry, in the only order allowed; `origin` may be skipped.
type Expect = 'vkey' | 'origin-or-qpd' | 'qpd' | 'contact';

interface Pending {
  vkey: string;
  publicKey: Uint8Array;
  keyName: string;
  origin?: string;
  qpd?: number;
  line: number;
}

/**
 * parseLogList parses a `logs/v0` list (attacker-controlled: witnesses fetch lists over the
 * network). It throws TlogError 'malformed_log_list' naming the line: a missing header, a key out
 * of order, a bad or non-Ed25519 vkey, a `qpd` outside 1..2^31-1 or with leading zeros, an empty
 * value, an origin listed twice, or an entry cut short at the end of the list.
 */
export function parseLogList(input: string | Uint8Array): LogListEntry[] {
  const text = typeof input === 'string' ? input : decodeListBytes(input);
  const entries: LogListEntry[] = [];
  const seen = new Map<string, number>();
  let headerSeen = false;
  let expect: Expect = 'vkey';
  let cur: Pending | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!headerSeen) {
      if (line !== LOG_LIST_HEADER) throw listError(lineNo, `want the ${LOG_LIST_HEADER} header, got ${quote(line)}`);
      headerSeen = true;
      continue;
    }
    const { key, value } = splitListLine(line, lineNo);
    if (key === 'vkey' && expect === 'vkey') {
      cur = parseVkeyValue(value, lineNo);
      expect = 'origin-or-qpd';
    } else if (key === 'origin' && expect === 'origin-or-qpd' && cur) {
      cur.origin = value;
      expect = 'qpd';
    } else if (key === 'qpd' && (expect === 'origin-or-qpd' || expect === 'qpd') && cur) {
      cur.qpd = parseQpd(value, lineNo);
      expect = 'contact';
    } else if (key === 'contact' && expect === 'contact' && cur) {
      entries.push(finishEntry(cur, value, seen));
      cur = undefined;
      expect = 'vkey';
    } else {
      throw listError(lineNo, `want ${expectText(expect)}, got ${quote(key)}`);
    }
  }
  if (!headerSeen) throw new TlogError('malformed_log_list', `log list has no ${LOG_LIST_HEADER} header`);
  if (cur) throw listError(cur.line, 'incomplete log entry at the end of the list: want qpd and contact lines');
  return entries;
}

function decodeListBytes(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (err) {
    throw new TlogError('malformed_log_list', 'log list is not valid UTF-8', { cause: err });
  }
}

function listError(lineNo: number, message: string, cause?: unknown): TlogError {
  return new TlogError('malformed_log_list', `line ${lineNo}: ${message}`, cause === undefined ? undefined : { cause });
}

function expectText(expect: Expect): string {
  return expect === 'origin-or-qpd' ? 'an origin or qpd line' : `a ${expect} line`;
}

// A line is `<key> <value>`, one space apart (cmd/validate splits on single spaces). Origins and
// contacts may hold spaces ("go.sum database tree"); vkeys and qpd values may not.
function splitListLine(line: string, lineNo: number): { key: string; value: string } {
  const sp = line.indexOf(' ');
  const key = sp < 0 ? line : line.slice(0, sp);
  // A contact is free text for humans, so extra spaces before it are forgiven.
  const rest = sp < 0 ? '' : line.slice(sp + 1);
  const value = key === 'contact' ? rest.trimStart() : rest;
  if (value === '') throw listError(lineNo, `${quote(key)} line has no value`);
  if (key !== 'contact' && /^\s|\s$/.test(value)) throw listError(lineNo, `${key} value ${quote(value)} has extra whitespace`);
  if ((key === 'vkey' || key === 'qpd') && /\s/.test(value)) {
    throw listError(lineNo, `${key} value ${quote(value)} must be one item`);
  }
  return { key, value };
}

function parseVkeyValue(vkey: string, lineNo: number): Pending {
  let k: VerifierKeyParts;
  try {
    k = decodeVerifierKey(vkey);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw listError(lineNo, `invalid vkey ${quote(vkey)}: ${reason}`, err);
  }
  if (k.type !== NOTE_KEY_TYPE_ED25519) {
    const t = k.type.toString(16).padStart(2, '0');
    throw listError(lineNo, `vkey ${quote(vkey)} has signature type 0x${t}; log lists allow only Ed25519 (0x01)`);
  }
  return { vkey, publicKey: k.publicKey, keyName: k.name, line: lineNo };
}

function parseQpd(value: string, lineNo: number): number {
  if (!/^[1-9][0-9]*$/.test(value) || value.length > 10 || Number(value) > MAX_LOG_LIST_QPD) {
    throw listError(lineNo, `invalid qpd ${quote(value)}: want a decimal from 1 to ${MAX_LOG_LIST_QPD} without leading zeros`);
  }
  return Number(value);
}

function finishEntry(cur: Pending, contact: string, seen: Map<string, number>): LogListEntry {
  const origin = cur.origin ?? cur.keyName;
  const first = seen.get(origin);
  if (first !== undefined) {
    throw listError(cur.line, `origin ${quote(origin)} is already listed by the entry on line ${first}`);
  }
  seen.set(origin, cur.line);
  return { origin, vkey: cur.vkey, publicKey: cur.publicKey, qpd: cur.qpd ?? 0, contact };
}

/**
 * mergeLogLists unions several lists, deduplicating by origin: the first list that names an
 * origin wins (its vkey, qpd and contact). The witness-network lists are meant to be disjoint
 * but overlap in practice. The same origin under a different public key is a conflict a witness
 * must not settle silently, so it throws 'malformed_log_list'.
 */
export function mergeLogLists(...lists: readonly (readonly LogListEntry[])[]): LogListEntry[] {
  const byOrigin = new Map<string, LogListEntry>();
  for (const list of lists) {
    for (const e of list) {
      const prev = byOrigin.get(e.origin);
      if (prev === undefined) {
        byOrigin.set(e.origin, e);
      } else if (!sameBytes(prev.publicKey, e.publicKey)) {
        throw new TlogError('malformed_log_list', `log lists disagree on the key of origin ${quote(e.origin)}: ${prev.vkey} and ${e.vkey}`);
      }
    }
  }
  return [...byOrigin.values()];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * formatLogList writes entries as a `logs/v0` list, leaving out `origin` where it equals the
 * vkey's key name, so parseLogList(formatLogList(x)) equals x. It throws 'invalid_argument' for a
 * value that would not survive the trip: empty, padded with whitespace, or holding a line break.
 */
export function formatLogList(entries: readonly LogListEntry[]): string {
  const out = [`${LOG_LIST_HEADER}\n`];
  for (const e of entries) {
    for (const v of [e.vkey, e.origin, e.contact]) {
      if (v === '' || v.trim() !== v || /[\r\n]/.test(v)) {
        throw new TlogError('invalid_argument', `couldn't format log list: value ${quote(v)} is empty, padded or multi-line`);
      }
    }
    const keyName = e.vkey.slice(0, e.vkey.indexOf('+'));
    out.push(`\nvkey ${e.vkey}\n`);
    if (e.origin !== keyName) out.push(`origin ${e.origin}\n`);
    out.push(`qpd ${e.qpd}\ncontact ${e.contact}\n`);
  }
  return out.join('');
}

// Quotes untrusted text for an error message, cut short so messages stay small.
function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
