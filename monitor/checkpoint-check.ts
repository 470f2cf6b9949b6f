// Checks on one signed checkpoint of a followed log, and between two of them. Pure functions over
// tlog/: the log's signature (openCheckpoint), the witness quorum (tlog/policy.ts), and whether
// two checkpoints can both be honest, read from tiles authenticated against one of them.
import { openCheckpoint, type Checkpoint } from '../tlog/checkpoint.ts';
import { verifyCosignature } from '../tlog/cosignature.ts';
import { equalBytes } from '../tlog/merkle.ts';
import { parseNote } from '../tlog/note.ts';
import { isQuorumSatisfied } from '../tlog/policy.ts';
import { proveConsistency, treeRoot, verifyConsistency } from '../tlog/proof.ts';
import { TileHashReader, type FetchTile } from '../tlog/tile-hash-reader.ts';
import type { FollowedLog } from './config.ts';

/** CheckedCheckpoint is a checkpoint whose log signature verified, with its quorum evaluated. */
export interface CheckedCheckpoint {
  checkpoint: Checkpoint;
  note: string;
  /** cosignedBy are the policy witnesses whose cosignature lines verified. */
  cosignedBy: string[];
  /** quorum is whether cosignedBy satisfies the policy (true when the log has no policy). */
  quorum: boolean;
}

/**
 * checkCheckpoint verifies `note` (attacker-controlled) with the log's keys and origin, then its
 * cosignatures. It throws the tlog errors of openCheckpoint when the log signature fails. A
 * cosignature line of a policy witness that fails to verify does not count (and does not throw):
 * witnesses are not the log, and a garbled line from one must not stop the monitor.
 */
export function checkCheckpoint(log: FollowedLog, note: string): CheckedCheckpoint {
  const opened = openCheckpoint(note, log.verifiers, { origin: log.origin });
  if (opened.checkpoint.extensions.length > 0) {
    // Extension lines are not part of tlog-checkpoint v1 as Vigil follows it; they would also let a
    // log show two "different" checkpoints of one tree.
    throw new Error('checkpoint has extension lines');
  }
  const cosignedBy: string[] = [];
  if (log.policy !== undefined) {
    const { signatures } = parseNote(note);
    for (const c of log.cosigners) {
      const lines = signatures.filter((s) => s.name === c.verifier.name && s.keyId === c.verifier.keyId);
      const ok = lines.some((s) => {
        try {
          verifyCosignature(c.verifier, opened.note.text, s);
          return true;
        } catch {
          return false;
        }
      });
      if (ok) cosignedBy.push(c.name);
    }
  }
  const quorum = log.policy === undefined || isQuorumSatisfied(log.policy, cosignedBy);
  return { checkpoint: opened.checkpoint, note, cosignedBy, quorum };
}

/** TreeHead is a verified size and root. */
export interface TreeHead {
  size: bigint;
  root: Uint8Array;
}

/**
 * checkConsistent reports whether `a` and `b` (both signed by the log) describe one history: equal
 * roots at equal sizes; otherwise a consistency proof from the larger tree's tiles, authenticated
 * against the larger checkpoint, that leads to both roots. Returns a reason when they conflict,
 * undefined when they agree. Throws when tiles cannot be read (fetch errors; and TlogError
 * 'invalid_tile' / 'malformed_tile' when the log's tiles do not authenticate against `larger`).
 */
export async function checkConsistent(a: TreeHead, b: TreeHead, fetchTile: FetchTile): Promise<string | undefined> {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  if (small.size === large.size) {
    return equalBytes(small.root, large.root) ? undefined : `two checkpoints of size ${small.size} with different roots`;
  }
  if (small.size === 0n) return undefined; // every tree extends the empty one
  const reader = new TileHashReader(large, fetchTile);
  const proof = await proveConsistency(small.size, large.size, reader);
  try {
    verifyConsistency(small.size, large.size, small.root, large.root, proof);
    return undefined;
  } catch (err) {
    return `the tree of size ${large.size} does not extend the tree of size ${small.size}: ${(err as Error).message}`;
  }
}

/** rootAt returns the root of the first `size` leaves of a verified tree, read from its authenticated tiles. */
export async function rootAt(head: TreeHead, size: bigint, fetchTile: FetchTile): Promise<Uint8Array> {
  return treeRoot(size, new TileHashReader(head, fetchTile));
}
