// search-verify.ts checks one search result as a client that does not trust the search server
// would: the leaf bytes hash to a leaf that the audit path proves into the checkpoint's tree; the
// checkpoint is signed by the log's key (when the client knows it); and the entry, re-parsed from
// those bytes, is what the server said and matches the query. What is shown is then the re-parsed
// entry, never the server's description of it. Completeness (that nothing was left out) cannot be
// checked this way; see docs/search.md.
import { errorMessage as errorMessageOf } from '../log/errors.ts';
import { decodeBase64 } from '../tlog/base64.ts';
import { openCheckpoint, parseCheckpoint, parseTreeSize, type Checkpoint } from '../tlog/checkpoint.ts';
import { equalBytes, hashLeaf } from '../tlog/merkle.ts';
import { parseNote, type NoteVerifier } from '../tlog/note.ts';
import { verifyInclusion } from '../tlog/proof.ts';
import { parseLogEntry } from './entry-parse.ts';
import { MonitorError } from './errors.ts';
import { normaliseIdentity, normaliseIssuer, normaliseKeyFingerprint, normaliseNamespace } from './normalise.ts';
import { namespacesOfIdentity, type SigningEvent } from './signing-event.ts';
import type { SearchQuery } from './search.ts';

/** VerifiedResult is a result that passed verifySearchResult. */
export interface VerifiedResult {
  event: SigningEvent;
  /** treeSize is the size of the checkpoint the entry was proved into. */
  treeSize: bigint;
  /** signatureChecked says whether the checkpoint's signature was verified with a known log key. */
  signatureChecked: boolean;
  /** unchecked names the query criteria the leaf bytes alone cannot confirm (DSSE payload subjects). */
  unchecked: string[];
}

function fail(what: string, message: string, cause?: unknown): never {
  throw new MonitorError('unverified_result', `${what}: ${message}`, { cause });
}

function field(result: Record<string, unknown>, name: string, what: string): unknown {
  if (!Object.hasOwn(result, name)) fail(what, `has no ${name}`);
  return result[name];
}

function str(v: unknown, name: string, what: string): string {
  if (typeof v !== 'string') fail(what, `${name} is not a string`);
  return v;
}

// openResultCheckpoint verifies the note with the log's keys when the client has some for this
// origin, else only parses it (the proof then ties the entry to a root the server chose).
function openResultCheckpoint(note: string, origin: string, keys: readonly NoteVerifier[], what: string): { checkpoint: Checkpoint; signed: boolean } {
  try {
    if (keys.length > 0) return { checkpoint: openCheckpoint(note, keys, { origin }).checkpoint, signed: true };
    const checkpoint = parseCheckpoint(parseNote(note).text);
    return { checkpoint, signed: false };
  } catch (err) {
    return fail(what, `its checkpoint does not verify: ${errorMessageOf(err)}`, err);
  }
}

/**
 * verifySearchResult checks result, one element of a search response's `results` (untrusted: the
 * server may lie), against query. logKeys maps a log origin to the verifiers of its checkpoints.
 * Throws MonitorError 'unverified_result' saying what failed.
 */
export function verifySearchResult(result: unknown, query: SearchQuery, logKeys: ReadonlyMap<string, readonly NoteVerifier[]>): VerifiedResult {
  if (typeof result !== 'object' || result === null) fail('result', 'is not an object');
  const r = result as Record<string, unknown>;
  const origin = str(field(r, 'log_origin', 'result'), 'log_origin', 'result');
  const what = `result ${JSON.stringify(origin.slice(0, 100))}#${String(r.index).slice(0, 24)}`;
  let index: bigint;
  let body: Uint8Array;
  let proof: Record<string, unknown>;
  try {
    index = parseTreeSize(str(field(r, 'index', what), 'index', what));
    body = decodeBase64(str(field(r, 'body', what), 'body', what), 'body');
    proof = field(r, 'inclusion_proof', what) as Record<string, unknown>;
    if (typeof proof !== 'object' || proof === null) fail(what, 'has no inclusion proof (its log has no verified checkpoint covering it)');
  } catch (err) {
    if (err instanceof MonitorError) throw err;
    return fail(what, errorMessageOf(err), err);
  }
  const { checkpoint, signed } = openResultCheckpoint(str(field(proof, 'checkpoint', what), 'checkpoint', what), origin, logKeys.get(origin) ?? [], what);
  if (checkpoint.origin !== origin) fail(what, `its checkpoint is for ${JSON.stringify(checkpoint.origin)}`);
  try {
    if (String(checkpoint.size) !== proof.tree_size || !equalBytes(decodeBase64(str(proof.root_hash, 'root_hash', what)), checkpoint.root)) {
      fail(what, 'its tree_size or root_hash differ from its checkpoint');
    }
    const hashes = proof.hashes;
    if (!Array.isArray(hashes) || hashes.length > 64) fail(what, 'its proof hashes are not a list of at most 64');
    verifyInclusion(hashLeaf(body), index, checkpoint.size, hashes.map((h) => decodeBase64(str(h, 'proof hash', what))), checkpoint.root);
  } catch (err) {
    if (err instanceof MonitorError) throw err;
    return fail(what, `its inclusion proof does not verify: ${errorMessageOf(err)}`, err);
  }
  let event: SigningEvent;
  try {
    event = parseLogEntry(origin, index, body);
  } catch (err) {
    return fail(what, `its entry does not parse: ${errorMessageOf(err)}`, err);
  }
  return { event, treeSize: checkpoint.size, signatureChecked: signed, unchecked: checkMatches(event, query, what) };
}

// checkMatches re-applies the query to the re-parsed entry; it returns the criteria a leaf cannot
// confirm (a dsse entry's in-toto subjects are in its payload, not its leaf).
function checkMatches(e: SigningEvent, q: SearchQuery, what: string): string[] {
  const unchecked: string[] = [];
  const id = e.identity;
  const no = (criterion: string): never => fail(what, `its entry does not match ${criterion}`);
  if (q.log !== undefined && e.logOrigin !== q.log) no('log');
  if (q.identity !== undefined && normaliseIdentity(id.san) !== normaliseIdentity(q.identity)) no('identity');
  if (q.identityPrefix !== undefined && !normaliseIdentity(id.san).startsWith(normaliseIdentity(q.identityPrefix))) no('identity prefix');
  if (q.issuer !== undefined && (id.kind === 'key' || normaliseIssuer(id.issuer) !== normaliseIssuer(q.issuer))) no('issuer');
  if (q.keyFingerprint !== undefined && e.keyFingerprint !== normaliseKeyFingerprint(q.keyFingerprint)) no('key');
  if (q.digest !== undefined) {
    const hex = q.digest.slice(q.digest.indexOf(':') + 1).toLowerCase();
    if (!e.artifactDigests.some((d) => d.hex === hex)) (e.entryKind === 'dsse' ? unchecked.push('digest') : no('digest'));
  }
  if (q.namespace !== undefined) {
    const ns = normaliseNamespace(q.namespace);
    if (!namespacesOfIdentity(id).some((n) => normaliseNamespace(n.value) === ns)) (e.entryKind === 'dsse' ? unchecked.push('namespace') : no('namespace'));
  }
  // The index times an entry by the log's integration time where the log states one (not in the
  // leaf), else by the certificate's notBefore, which the leaf does hold.
  if (q.sinceSec !== undefined || q.untilSec !== undefined) {
    const t = e.integratedTimeSec ?? e.certificateNotBeforeSec;
    if (t === undefined) unchecked.push('time range');
    else if ((q.sinceSec !== undefined && t < q.sinceSec) || (q.untilSec !== undefined && t > q.untilSec)) no('time range');
  }
  return unchecked;
}
