// The logs a witness follows: for each origin, the log's verifier keys. Built from the witness's
// own list of {origin, vkeys} and from witness-network log lists (tlog/log-list.ts). A log is
// identified by its origin line (c2sp.org/tlog-witness, Introduction); its key names need not
// equal the origin (sum.golang.org signs "go.sum database tree").
import type { LogListEntry } from '../tlog/log-list.ts';
import { formatKeyId, newVerifierList, type VerifierList } from '../tlog/note.ts';
import type { VerifierKey } from '../tlog/note-ed25519.ts';
import { NOTE_KEY_TYPE_COSIGNATURE_V1 } from '../tlog/note-key-id.ts';
import { parseVerifierKey } from '../tlog/note-key.ts';
import { witnessOriginHash } from '../tlog/witness-request.ts';
import { WitnessError } from './errors.ts';

/** FollowedLogSpec is one log as configured: its origin line and the vkeys that may sign it. */
export interface FollowedLogSpec {
  readonly origin: string;
  readonly vkeys: readonly string[];
}

/** FollowedLog is a followed log ready for verification. */
export interface FollowedLog {
  readonly origin: string;
  /** originHash is the lowercase hex SHA-256 of the origin, which names the log in monitoring URLs. */
  readonly originHash: string;
  /** vkeys are the log's verifier keys exactly as configured. */
  readonly vkeys: readonly string[];
  /** verifiers finds the log's key for a signature line's (name, key ID). */
  readonly verifiers: VerifierList<VerifierKey>;
}

/**
 * FollowedLogs is the set of logs a witness cosigns for. Lookups take attacker-controlled strings
 * (an origin from a request body, a hash from a URL) and never throw. Implementations may grow
 * (a log list pulled later) but must never change the keys of a log already followed.
 */
export interface FollowedLogs {
  /** get returns the followed log with this origin, or undefined. */
  get(origin: string): FollowedLog | undefined;
  /** getByOriginHash returns the followed log whose origin hashes to `originHash` (lowercase hex). */
  getByOriginHash(originHash: string): FollowedLog | undefined;
  /** origins lists the followed origins, sorted. */
  origins(): string[];
}

/**
 * newFollowedLogs builds a FollowedLogs from specs. It reports every problem at once in one
 * WitnessError 'invalid_config': an empty or multi-line origin, an origin listed twice, a log
 * without keys, a vkey that does not parse or is a cosignature (0x04) key, and two keys of one log
 * with the same (name, key ID). Accepted log key types are those of parseVerifierKey: Ed25519
 * (0x01), ECDSA (0x02) and RFC 6962 (0x05).
 */
export function newFollowedLogs(specs: readonly FollowedLogSpec[]): FollowedLogs {
  const problems: string[] = [];
  const byOrigin = new Map<string, FollowedLog>();
  const byHash = new Map<string, FollowedLog>();
  for (const spec of specs) {
    const log = buildFollowedLog(spec, problems);
    if (log === undefined) continue;
    if (byOrigin.has(log.origin)) {
      problems.push(`log ${JSON.stringify(log.origin)} is listed twice`);
      continue;
    }
    byOrigin.set(log.origin, log);
    byHash.set(log.originHash, log);
  }
  if (problems.length > 0) {
    throw new WitnessError('invalid_config', `couldn't configure the followed logs: ${problems.join('; ')}`);
  }
  const sorted = [...byOrigin.keys()].sort();
  return {
    get: (origin) => byOrigin.get(origin),
    getByOriginHash: (originHash) => byHash.get(originHash),
    origins: () => sorted.slice(),
  };
}

/**
 * followedLogSpecsFromLogList turns parsed witness-network log list entries (logs/v0) into specs,
 * one Ed25519 vkey per origin. Concatenate them with the witness's own specs before calling
 * newFollowedLogs; an origin present in both is reported as listed twice.
 */
export function followedLogSpecsFromLogList(entries: readonly LogListEntry[]): FollowedLogSpec[] {
  return entries.map((e) => ({ origin: e.origin, vkeys: [e.vkey] }));
}

// buildFollowedLog checks one spec, appending to `problems` and returning undefined on failure.
function buildFollowedLog(spec: FollowedLogSpec, problems: string[]): FollowedLog | undefined {
  const where = `log ${JSON.stringify(spec.origin)}`;
  let originHash: string;
  try {
    originHash = witnessOriginHash(spec.origin);
  } catch {
    problems.push(`${where}: the origin must be a non-empty single line`);
    return undefined;
  }
  if (spec.vkeys.length === 0) problems.push(`${where}: no verifier keys`);
  const keys: VerifierKey[] = [];
  const seen = new Set<string>();
  for (const vkey of spec.vkeys) {
    const key = parseLogKey(vkey, where, problems);
    if (key === undefined) continue;
    const id = `${key.name}+${formatKeyId(key.keyId)}`;
    if (seen.has(id)) problems.push(`${where}: two keys named ${id}`);
    seen.add(id);
    keys.push(key);
  }
  if (keys.length !== spec.vkeys.length || keys.length === 0 || seen.size !== keys.length) return undefined;
  return { origin: spec.origin, originHash, vkeys: spec.vkeys.slice(), verifiers: newVerifierList(keys) };
}

function parseLogKey(vkey: string, where: string, problems: string[]): VerifierKey | undefined {
  let key: VerifierKey;
  try {
    key = parseVerifierKey(vkey);
  } catch (err) {
    problems.push(`${where}: vkey ${JSON.stringify(vkey)}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  if (key.type === NOTE_KEY_TYPE_COSIGNATURE_V1) {
    problems.push(`${where}: vkey ${JSON.stringify(vkey)} is a cosignature key, not a log key`);
    return undefined;
  }
  return key;
}
