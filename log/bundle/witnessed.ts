// witnessed.ts enforces a log's witness policy when verifying a bundle (`vigil verify`): a log key
// alone can sign a private fork for one victim, so an entry counts only once it is provably in a
// checkpoint that the policy's quorum of witnesses cosigned (C2SP tlog-witness, tlog-cosignature,
// tlog-policy). Two ways to prove it, tried in this order:
//  1. the bundle's own checkpoint carries cosignature/v1 lines of a quorum (works offline);
//  2. with the log's URL: the log's published checkpoint (GET <url>/api/v2/checkpoint, which the
//     log serves only once its quorum cosigned it) verifies with the log key, carries a quorum,
//     and the bundle's checkpoint is consistent with it — the consistency proof is built from the
//     log's tiles (tlog-tiles), every tile authenticated against the published root first.
// If the published checkpoint is smaller than the bundle's, the witnesses have not caught up: the
// check polls until `waitMs` has passed, then fails with not_yet_witnessed.
// attachWitnessedCheckpoint (`vigil sign --witnessed`) makes bundles of the first kind: it swaps
// the entry's proof for one into the published cosigned checkpoint, read from the tiles.
// Only tlog/ primitives read notes, cosignatures, policies and proofs.
import { decodeBase64, encodeBase64 } from '../../tlog/base64.ts';
import { openCheckpoint, parseCheckpoint, type Checkpoint } from '../../tlog/checkpoint.ts';
import { newPolicyCosignerVerifier, verifyCosignature, type CosignatureVerifier } from '../../tlog/cosignature.ts';
import { isTlogError } from '../../tlog/errors.ts';
import { equalBytes, hashLeaf } from '../../tlog/merkle.ts';
import { decodeUtf8, parseNote } from '../../tlog/note.ts';
import { newEd25519Verifier } from '../../tlog/note-ed25519.ts';
import { NOTE_KEY_TYPE_ED25519 } from '../../tlog/note-key-id.ts';
import { isQuorumSatisfied, parsePolicy, type Policy } from '../../tlog/policy.ts';
import { proveConsistency, proveInclusion, verifyConsistency, verifyInclusion } from '../../tlog/proof.ts';
import { TileHashReader } from '../../tlog/tile-hash-reader.ts';
import { formatTilePath } from '../../tlog/tile.ts';
import { systemClock, type Clock } from '../../platform/clock.ts';
import { computeLogId } from '../set.ts';
import type { BundleJson, TlogEntryJson } from './bundle-json.ts';
import { BundleError, rethrowAs } from './errors.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, request } from './sign.ts';
import type { TrustedLog } from './trusted-root.ts';
import type { VerifiedBundle, VerifiedEntryCheckpoint } from './verify.ts';

/** DEFAULT_WITNESS_WAIT_MS is how long verification waits for the log to publish a large enough checkpoint. */
export const DEFAULT_WITNESS_WAIT_MS = 10_000;
/** DEFAULT_WITNESS_POLL_INTERVAL_MS is the pause between two reads of the published checkpoint. */
export const DEFAULT_WITNESS_POLL_INTERVAL_MS = 500;
/** MAX_WITNESS_POLICY_BYTES bounds a witness policy text. */
export const MAX_WITNESS_POLICY_BYTES = 64 << 10;

/** VerifierWitnessPolicy is a parsed witness policy with the cosignature verifiers of its witnesses. */
export interface VerifierWitnessPolicy {
  readonly policy: Policy;
  /** witnesses are the policy's witnesses with their verifiers (Ed25519 0x01/0x04, ML-DSA-44 0x06). */
  readonly witnesses: readonly { readonly name: string; readonly verifier: CosignatureVerifier }[];
}

/** WitnessOptions says which policy to enforce and where the log's read API is. */
export interface WitnessOptions {
  /** policyText is the tlog-policy text (witnesses, groups, quorum; `log` lines optional). */
  readonly policyText: string;
  /** url is the log's base URL (`<url>/api/v2/checkpoint`, `<url>/api/v2/tile/…`); none: offline. */
  readonly url?: string;
  /** waitMs is how long to wait for a published checkpoint that covers the bundle's; default 10 s. */
  readonly waitMs?: number;
  readonly pollIntervalMs?: number;
  readonly timeoutMs?: number;
  readonly clock?: Clock;
}

/** WitnessedCheckpoint says which cosigned checkpoint proves an entry, and who cosigned it. */
export interface WitnessedCheckpoint {
  /** source: 'bundle' if the bundle's checkpoint carries the quorum, 'published' if the log's does. */
  readonly source: 'bundle' | 'published';
  readonly size: bigint;
  /** cosigners are the policy's witnesses whose cosignatures verified. */
  readonly cosigners: readonly string[];
}

/**
 * parseVerifierWitnessPolicy parses a witness policy (tlog/policy.ts) for `log`. If it has `log`
 * lines, one must be this log's Ed25519 key. Witnesses may cosign with Ed25519 (cosignature/v1)
 * or ML-DSA-44 (subtree/v1). Throws malformed_witness_policy.
 */
export function parseVerifierWitnessPolicy(text: string, log: TrustedLog): VerifierWitnessPolicy {
  // text is trusted input only if the user pinned it; from a URL it is trust on first use.
  if (text.length > MAX_WITNESS_POLICY_BYTES) throw new BundleError('malformed_witness_policy', `the witness policy is over ${MAX_WITNESS_POLICY_BYTES} bytes`);
  const policy = rethrowAs('malformed_witness_policy', 'the witness policy does not parse', () => parsePolicy(text));
  const named = policy.logs.some((l) => l.key.type === NOTE_KEY_TYPE_ED25519 && equalBytes(l.key.publicKey, log.publicKey));
  if (policy.logs.length > 0 && !named) {
    throw new BundleError('malformed_witness_policy', 'the witness policy names other logs, not the bundle\'s log');
  }
  const witnesses = policy.witnesses.map((w) => ({ name: w.name, verifier: newPolicyCosignerVerifier(w.key) }));
  return { policy, witnesses };
}

/**
 * cosignersOf returns the names of the policy's witnesses with a valid cosignature/v1 line on the
 * signed checkpoint note (attacker-controlled). A line that does not verify counts for nothing.
 */
export function cosignersOf(note: string, policy: VerifierWitnessPolicy): string[] {
  const parsed = rethrowAs('invalid_checkpoint', 'the checkpoint note', () => parseNote(note));
  const names: string[] = [];
  for (const w of policy.witnesses) {
    const ok = parsed.signatures.some((sig) => {
      if (sig.name !== w.verifier.name || sig.keyId !== w.verifier.keyId) return false;
      try {
        verifyCosignature(w.verifier, parsed.text, sig);
        return true;
      } catch {
        return false; // a forged or transplanted line: not this witness's cosignature
      }
    });
    if (ok) names.push(w.name);
  }
  return names;
}

/**
 * verifyWitnessed proves that a verified entry checkpoint is in a checkpoint the policy's quorum
 * cosigned (see the top of this file) and says which. Throws not_witnessed, not_yet_witnessed,
 * inconsistent_checkpoint, request_failed or invalid_response.
 */
export async function verifyWitnessed(entry: VerifiedEntryCheckpoint, policy: VerifierWitnessPolicy, opts: Omit<WitnessOptions, 'policyText'>): Promise<WitnessedCheckpoint> {
  const own = cosignersOf(entry.note, policy);
  if (isQuorumSatisfied(policy.policy, own)) return { source: 'bundle', size: entry.checkpoint.size, cosigners: own };
  if (opts.url === undefined) {
    throw new BundleError('not_witnessed', `the bundle's checkpoint (size ${entry.checkpoint.size}) is not cosigned by the witness policy's quorum (${describeCosigners(own)}); give the log's --url to check it against the log's published cosigned checkpoint`);
  }
  const published = await awaitPublished(entry, policy, { ...opts, url: opts.url });
  await checkConsistent(entry.checkpoint, published.checkpoint, opts.url, opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  return { source: 'published', size: published.checkpoint.size, cosigners: published.cosigners };
}

/**
 * verifyBundleWitnessed enforces the witness policy on every log entry of a bundle that
 * verifyBundle (verify.ts) already verified. Throws the errors of parseVerifierWitnessPolicy and
 * verifyWitnessed.
 */
export async function verifyBundleWitnessed(verified: VerifiedBundle, opts: WitnessOptions): Promise<WitnessedCheckpoint[]> {
  const out: WitnessedCheckpoint[] = [];
  for (const entry of verified.checkpoints) {
    out.push(await verifyWitnessed(entry, parseVerifierWitnessPolicy(opts.policyText, entry.log), opts));
  }
  return out;
}

/** fetchWitnessPolicy reads `<url>/api/v2/witness-policy`: trust on first use (prefer a kept file). */
export async function fetchWitnessPolicy(url: string, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<string> {
  const { bytes } = await request(`${url}/api/v2/witness-policy`, {}, timeoutMs);
  if (bytes.length > MAX_WITNESS_POLICY_BYTES) throw new BundleError('invalid_response', `the witness policy at ${url} is over ${MAX_WITNESS_POLICY_BYTES} bytes`);
  return rethrowAs('invalid_response', 'the witness policy is not UTF-8', () => decodeUtf8(bytes));
}

/** AttachOptions says where the log is and how long to wait for it to publish. */
export type AttachOptions = Omit<WitnessOptions, 'policyText' | 'url'> & { readonly url: string };

/**
 * attachWitnessedCheckpoint (`vigil sign --witnessed`) waits until the log's published cosigned
 * checkpoint covers each entry of `bundle`, then replaces the entry's inclusion proof with one into
 * that checkpoint, built from the log's tiles (authenticated against its root), so that the bundle
 * proves its witnessing offline. The log key and the quorum are checked later, by verification.
 * Throws not_yet_witnessed, request_failed or invalid_response; the input is not modified.
 */
export async function attachWitnessedCheckpoint(bundle: BundleJson, opts: AttachOptions): Promise<BundleJson> {
  const entries: TlogEntryJson[] = [];
  for (const entry of bundle.verificationMaterial.tlogEntries) entries.push(await attachToEntry(entry, opts));
  return { ...bundle, verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: entries } };
}

async function attachToEntry(entry: TlogEntryJson, opts: AttachOptions): Promise<TlogEntryJson> {
  const index = BigInt(entry.logIndex);
  const origin = rethrowAs('invalid_response', 'the log entry\'s checkpoint', () => parseCheckpoint(parseNote(entry.inclusionProof.checkpoint.envelope).text).origin);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const clock = opts.clock ?? systemClock;
  const deadline = clock.nowMs() + (opts.waitMs ?? DEFAULT_WITNESS_WAIT_MS);
  for (;;) {
    const { note, checkpoint } = await fetchUnverifiedCheckpoint(opts.url, timeoutMs);
    if (checkpoint.origin !== origin) throw new BundleError('invalid_response', `the log's published checkpoint is for ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(origin)}`);
    if (checkpoint.size > index) return withProof(entry, note, checkpoint, await proveFromTiles(index, checkpoint, opts.url, timeoutMs));
    if (clock.nowMs() >= deadline) {
      throw new BundleError('not_yet_witnessed', `the log's published cosigned checkpoint has size ${checkpoint.size}: entry ${index} is not yet witnessed, retry later`);
    }
    await new Promise((r) => setTimeout(r, opts.pollIntervalMs ?? DEFAULT_WITNESS_POLL_INTERVAL_MS));
  }
}

async function fetchUnverifiedCheckpoint(url: string, timeoutMs: number): Promise<{ note: string; checkpoint: Checkpoint }> {
  const where = `${url}/api/v2/checkpoint`;
  // The answer is attacker-controlled; `vigil verify` checks its log signature and quorum.
  const { bytes } = await request(where, {}, timeoutMs);
  return rethrowAs('invalid_response', `the checkpoint at ${where}`, () => {
    const note = decodeUtf8(bytes);
    return { note, checkpoint: parseCheckpoint(parseNote(note).text) };
  });
}

async function proveFromTiles(index: bigint, checkpoint: Checkpoint, url: string, timeoutMs: number): Promise<Uint8Array[]> {
  return readProof(checkpoint, () => proveInclusion(index, checkpoint.size, tileReader(checkpoint, url, timeoutMs)));
}

function withProof(entry: TlogEntryJson, note: string, checkpoint: Checkpoint, hashes: readonly Uint8Array[]): TlogEntryJson {
  // Checked here so a wrong proof is never written: the entry's leaf must prove into the new root.
  rethrowAs('invalid_response', 'the inclusion proof read from the log\'s tiles', () =>
    verifyInclusion(hashLeaf(decodeBase64(entry.canonicalizedBody)), BigInt(entry.logIndex), checkpoint.size, [...hashes], checkpoint.root));
  const inclusionProof = { logIndex: entry.logIndex, rootHash: encodeBase64(checkpoint.root), treeSize: String(checkpoint.size), hashes: hashes.map(encodeBase64), checkpoint: { envelope: note } };
  return { ...entry, inclusionProof };
}

interface Published {
  readonly checkpoint: Checkpoint;
  readonly cosigners: string[];
}

// awaitPublished reads the log's published checkpoint until it is at least as large as the
// entry's, or waitMs has passed (not_yet_witnessed). A published checkpoint without a quorum is
// not_witnessed at once (a fail-open log, or a policy that is not the log's).
async function awaitPublished(entry: VerifiedEntryCheckpoint, policy: VerifierWitnessPolicy, opts: Omit<WitnessOptions, 'policyText'> & { url: string }): Promise<Published> {
  const clock = opts.clock ?? systemClock;
  const deadline = clock.nowMs() + (opts.waitMs ?? DEFAULT_WITNESS_WAIT_MS);
  for (;;) {
    const published = await fetchPublished(entry, policy, opts.url, opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    if (published.checkpoint.size >= entry.checkpoint.size) return published;
    if (clock.nowMs() >= deadline) {
      throw new BundleError('not_yet_witnessed', `the log's published cosigned checkpoint has size ${published.checkpoint.size}, smaller than the bundle's ${entry.checkpoint.size}: not yet witnessed, retry later`);
    }
    await new Promise((r) => setTimeout(r, opts.pollIntervalMs ?? DEFAULT_WITNESS_POLL_INTERVAL_MS));
  }
}

async function fetchPublished(entry: VerifiedEntryCheckpoint, policy: VerifierWitnessPolicy, url: string, timeoutMs: number): Promise<Published> {
  const where = `${url}/api/v2/checkpoint`;
  // The answer is attacker-controlled: it counts only if the log's key and the quorum signed it.
  const { bytes } = await request(where, {}, timeoutMs);
  const note = rethrowAs('invalid_response', `${where} is not UTF-8`, () => decodeUtf8(bytes));
  const { checkpoint } = rethrowAs('invalid_response', `the checkpoint at ${where} does not verify with the log's key`, () =>
    openCheckpoint(note, logVerifiers(entry), { origin: entry.checkpoint.origin }));
  const cosigners = cosignersOf(note, policy);
  if (!isQuorumSatisfied(policy.policy, cosigners)) {
    throw new BundleError('not_witnessed', `the log's published checkpoint (size ${checkpoint.size}) is not cosigned by the witness policy's quorum (${describeCosigners(cosigners)}): the policy is not the log's, or the log publishes unwitnessed checkpoints`);
  }
  return { checkpoint, cosigners };
}

// logVerifiers are the log-key verifiers under the key names that signed the entry's checkpoint
// (tlog-entry.ts bound each such name to the log ID).
function logVerifiers(entry: VerifiedEntryCheckpoint) {
  const names = new Set(parseNote(entry.note).signatures.map((s) => s.name));
  return [...names].filter((n) => equalBytes(computeLogId(n, entry.log.publicKey), entry.log.logId)).map((n) => newEd25519Verifier(n, entry.log.publicKey));
}

// checkConsistent proves that `older` (the bundle's) is a prefix of `newer` (the published, cosigned
// one): with a proof read from the log's tiles, authenticated against the newer root first.
async function checkConsistent(older: Checkpoint, newer: Checkpoint, url: string, timeoutMs: number): Promise<void> {
  if (older.size === newer.size) {
    if (!equalBytes(older.root, newer.root)) throw forked(older, newer, 'same size, different root');
    return;
  }
  const proof = await readProof(newer, () => proveConsistency(older.size, newer.size, tileReader(newer, url, timeoutMs)));
  try {
    verifyConsistency(older.size, newer.size, older.root, newer.root, proof);
  } catch (err) {
    throw forked(older, newer, err instanceof Error ? err.message : String(err));
  }
}

// tileReader reads the log's tiles (tlog-tiles, under <url>/api/v2/), each authenticated against
// `checkpoint` before use.
function tileReader(checkpoint: Checkpoint, url: string, timeoutMs: number): TileHashReader {
  return new TileHashReader(checkpoint, async (tile) => (await request(`${url}/api/v2/${formatTilePath(tile)}`, {}, timeoutMs)).bytes);
}

// readProof builds a proof from tiles; a tile that does not authenticate is the log's fault.
async function readProof(checkpoint: Checkpoint, build: () => Promise<Uint8Array[]>): Promise<Uint8Array[]> {
  try {
    return await build();
  } catch (err) {
    if (!isTlogError(err)) throw err;
    throw new BundleError('invalid_response', `the log's tiles do not authenticate against its published checkpoint of size ${checkpoint.size}: ${err.message}`, { cause: err });
  }
}

function forked(older: Checkpoint, newer: Checkpoint, why: string): BundleError {
  return new BundleError('inconsistent_checkpoint', `the bundle's checkpoint (size ${older.size}) is not consistent with the log's published cosigned checkpoint (size ${newer.size}): ${why}; the log may be showing you a fork`);
}

function describeCosigners(names: readonly string[]): string {
  return names.length === 0 ? 'no valid cosignature of its witnesses' : `cosigned only by ${names.join(', ')}`;
}
