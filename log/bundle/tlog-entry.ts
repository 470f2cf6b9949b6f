// tlog-entry.ts verifies a bundle's log entry against the trusted root's log, with tlog/'s
// primitives only: the checkpoint is a C2SP signed note whose Ed25519 signature must verify with
// the log's key (the key name is bound by the log ID: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key) = logId),
// the entry's leaf hash must prove into that checkpoint's root at the entry's index, and a signed
// entry timestamp, when present, must verify and gives the entry's time.
import { openCheckpoint, type Checkpoint } from '../../tlog/checkpoint.ts';
import { equalBytes, hashLeaf } from '../../tlog/merkle.ts';
import { parseNote } from '../../tlog/note.ts';
import { newEd25519Verifier } from '../../tlog/note-ed25519.ts';
import { verifyInclusion } from '../../tlog/proof.ts';
import { computeLogId, isValidEntryTimestamp } from '../set.ts';
import type { ParsedTlogEntry } from './bundle-json.ts';
import { BundleError, rethrowAs } from './errors.ts';
import { isValidAt, type TrustedLog, type TrustedRoot } from './trusted-root.ts';

/** VerifiedTlogEntry is a log entry proven in a verified checkpoint. */
export interface VerifiedTlogEntry {
  readonly log: TrustedLog;
  readonly checkpoint: Checkpoint;
  /** time is the integrated time proven by a SET, or undefined (v2 entries have none). */
  readonly time?: Date;
}

function openEntryCheckpoint(note: string, log: TrustedLog): Checkpoint {
  return rethrowAs('invalid_checkpoint', 'checkpoint does not verify with the log key', () => {
    const hint = Buffer.from(log.logId.subarray(0, 4)).readUInt32BE();
    const names = new Set(parseNote(note).signatures.filter((s) => s.keyId === hint).map((s) => s.name));
    const verifiers = [...names].filter((n) => equalBytes(computeLogId(n, log.publicKey), log.logId)).map((n) => newEd25519Verifier(n, log.publicKey));
    if (verifiers.length === 0) throw new BundleError('invalid_checkpoint', 'the checkpoint carries no signature by the log\'s key');
    return openCheckpoint(note, verifiers).checkpoint;
  });
}

function entryTime(entry: ParsedTlogEntry, log: TrustedLog): Date | undefined {
  if (entry.signedEntryTimestamp === undefined) return undefined;
  const seconds = Number(entry.integratedTime);
  const ok = rethrowAs('invalid_entry_timestamp', 'signed entry timestamp', () =>
    seconds > 0 && isValidEntryTimestamp(log.publicKey, { body: entry.body, integratedTime: seconds, logId: log.logId, logIndex: entry.logIndex }, entry.signedEntryTimestamp!));
  if (!ok) throw new BundleError('invalid_entry_timestamp', 'the signed entry timestamp does not verify with the log key');
  const time = new Date(seconds * 1000);
  if (!isValidAt(log.validFor, time)) throw new BundleError('invalid_entry_timestamp', `the log key was not valid at the entry's time ${time.toISOString()}`);
  return time;
}

/**
 * verifyTlogEntry proves `entry` (attacker-controlled) in `root`'s log: the log exists, its
 * checkpoint verifies, the inclusion proof holds, and the SET (if any) verifies. Throws
 * unknown_log, invalid_checkpoint, invalid_inclusion_proof, invalid_entry_timestamp or
 * malformed_bundle.
 */
export function verifyTlogEntry(entry: ParsedTlogEntry, root: TrustedRoot): VerifiedTlogEntry {
  const log = root.tlogs.find((l) => equalBytes(l.logId, entry.logId));
  if (log === undefined) throw new BundleError('unknown_log', `log ${Buffer.from(entry.logId).toString('base64')} is not in the trusted root`);
  // One shard: the entry's index and the proof's index are the same number.
  if (entry.proofIndex !== entry.logIndex) throw new BundleError('malformed_bundle', 'inclusionProof.logIndex is not the entry\'s logIndex');
  const checkpoint = openEntryCheckpoint(entry.checkpoint, log);
  rethrowAs('invalid_inclusion_proof', 'the entry is not in the checkpoint\'s tree', () =>
    verifyInclusion(hashLeaf(entry.body), entry.logIndex, checkpoint.size, [...entry.hashes], checkpoint.root));
  const time = entryTime(entry, log);
  return time === undefined ? { log, checkpoint } : { log, checkpoint, time };
}
