// A witnessing round: one log checkpoint being witnessed, with the cosignatures verified for it so
// far. The publisher starts a round for each new checkpoint of the log and keeps an older round
// alive while submissions for it are in flight, so a checkpoint that reaches its quorum late is
// still published (unless a larger one was published first).
import { openCheckpoint } from '../tlog/checkpoint.ts';
import type { Hash } from '../tlog/merkle.ts';
import { formatNote, parseNote, type NoteSignature } from '../tlog/note.ts';
import { newEd25519Verifier } from '../tlog/note-ed25519.ts';
import type { Log } from './log.ts';
import type { PublishedCheckpoint } from './published-store.ts';
import type { CheckpointSubmission } from './witness-client.ts';
import type { LogPublicKey, WitnessEndpoint } from './witness-policy.ts';

/** Round is one checkpoint being witnessed. */
export interface Round {
  readonly submission: CheckpointSubmission;
  /** logSignatures are the signature lines of the log's note, which the published note keeps first. */
  readonly logSignatures: readonly NoteSignature[];
  /** cosignatures holds the verified cosignature of each witness that gave one, by policy name. */
  readonly cosignatures: Map<string, NoteSignature>;
  /** settled holds the witnesses that answered for this round, or were backing off when asked. */
  readonly settled: Set<string>;
  /** met is set once the policy's quorum is reached; failureCounted once it was counted as failed. */
  met: boolean;
  failureCounted: boolean;
}

/**
 * newRound starts the round of the log's checkpoint note `note`, after verifying it with the log's
 * key and origin (TlogError if it does not verify: nothing unverified reaches a witness). Its
 * consistency proofs come from the log, one per old size, shared by the witnesses that hold that
 * size (tessera's witness gateway does the same).
 */
export function newRound(note: string, logKey: LogPublicKey, log: Pick<Log, 'origin' | 'getConsistencyProof'>): Round {
  const opened = openCheckpoint(note, [newEd25519Verifier(logKey.name, logKey.publicKey)], { origin: log.origin });
  const size = opened.checkpoint.size;
  const proofs = new Map<bigint, Promise<Hash[]>>();
  const proof = (old: bigint): Promise<Hash[]> => {
    let p = proofs.get(old);
    if (p === undefined) {
      p = log.getConsistencyProof(old, size).then((c) => c.proof);
      proofs.set(old, p);
    }
    return p;
  };
  return {
    submission: { note, text: opened.note.text, size, proof },
    logSignatures: parseNote(note).signatures,
    cosignatures: new Map(),
    settled: new Set(),
    met: false,
    failureCounted: false,
  };
}

/**
 * formatPublication builds the checkpoint to publish for a round: the log's note with the
 * cosignature lines appended in policy order.
 */
export function formatPublication(round: Round, witnesses: readonly WitnessEndpoint[], quorumMet: boolean): PublishedCheckpoint {
  const cosignatures = witnesses.flatMap((w) => round.cosignatures.get(w.name) ?? []);
  return {
    size: round.submission.size,
    note: formatNote(round.submission.text, [...round.logSignatures, ...cosignatures]),
    quorumMet,
    cosigners: cosignatures.length,
  };
}
