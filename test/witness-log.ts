// Test fixtures for the witness: small in-memory logs (optionally forked: one key, two histories)
// that sign checkpoints and build add-checkpoint bodies, and a witness wired to a memory store and
// a manual clock.
import { formatCheckpoint } from '../tlog/checkpoint.ts';
import { newCosignatureSigner, newCosignatureVerifier, type CosignatureVerifier } from '../tlog/cosignature.ts';
import { MemoryHashStore } from '../tlog/memory-hash-store.ts';
import { hashLeaf, rootFromLeafHashes, type Hash } from '../tlog/merkle.ts';
import { signNote } from '../tlog/note.ts';
import { generateEd25519Seed, type Ed25519Signer } from '../tlog/note-ed25519.ts';
import { generateSignerKey } from '../tlog/note-key.ts';
import { proveConsistency } from '../tlog/proof.ts';
import { formatAddCheckpointRequest } from '../tlog/witness-request.ts';
import { manualClock } from '../platform/clock.ts';
import type { AddCheckpointDeps } from '../witness/add-checkpoint.ts';
import { MemoryWitnessStore } from '../witness/store-memory.ts';
import type { WitnessStore } from '../witness/store.ts';
import { newFollowedLogs, type FollowedLogSpec } from '../witness/witness-config.ts';

/** TestLog is one history of a log: its leaves, its key, and signed checkpoints of every size. */
export interface TestLog {
  readonly origin: string;
  readonly vkey: string;
  readonly signer: Ed25519Signer;
  readonly size: bigint;
  rootAt(size: bigint): Hash;
  /** checkpointNote is the log-signed checkpoint note of the tree of `size` leaves. */
  checkpointNote(size: bigint): string;
  /** proof is the consistency proof old → size ([] when old is 0 or equal to size). */
  proof(old: bigint, size: bigint): Promise<Hash[]>;
  /** request builds an add-checkpoint body with the genuine proof, or `proof` if given. */
  request(old: bigint, size: bigint, proof?: readonly Hash[]): Promise<string>;
}

/** testLeaves returns n distinct leaf hashes labelled by `tag`. */
export function testLeaves(tag: string, n: number): Hash[] {
  return Array.from({ length: n }, (_, i) => hashLeaf(new TextEncoder().encode(`${tag} ${i}`)));
}

/** newTestLog builds a log over `leaves`, signing with `signer` (a fresh key if none is given). */
export function newTestLog(origin: string, leaves: readonly Hash[], key = generateSignerKey(origin)): TestLog {
  const hashes = new MemoryHashStore(leaves);
  const notes = new Map<bigint, string>();
  const rootAt = (size: bigint): Hash => rootFromLeafHashes(leaves.slice(0, Number(size)));
  const checkpointNote = (size: bigint): string => {
    let n = notes.get(size);
    if (n === undefined) {
      n = signNote(formatCheckpoint({ origin, size, root: rootAt(size) }), [key.signer]);
      notes.set(size, n);
    }
    return n;
  };
  const proof = async (old: bigint, size: bigint): Promise<Hash[]> =>
    old === 0n || old >= size ? [] : proveConsistency(old, size, hashes);
  return {
    origin,
    vkey: key.vkey,
    signer: key.signer,
    size: BigInt(leaves.length),
    rootAt,
    checkpointNote,
    proof,
    request: async (old, size, p) =>
      formatAddCheckpointRequest({ oldSize: old, proof: [...(p ?? (await proof(old, size)))], checkpointNote: checkpointNote(size) }),
  };
}

/** forkedTestLogs builds two histories of one log (one key) sharing their first `common` leaves. */
export function forkedTestLogs(origin: string, common: number, size: number): [TestLog, TestLog] {
  const key = generateSignerKey(origin);
  const shared = testLeaves('common', common);
  return [
    newTestLog(origin, [...shared, ...testLeaves('fork A', size - common)], key),
    newTestLog(origin, [...shared, ...testLeaves('fork B', size - common)], key),
  ];
}

/** TestWitness is a witness over a memory store (or a wrapper of it) and a manual clock. */
export interface TestWitness {
  readonly deps: AddCheckpointDeps;
  readonly memory: MemoryWitnessStore;
  readonly verifier: CosignatureVerifier;
  readonly clock: ReturnType<typeof manualClock>;
}

/** TEST_WITNESS_START_MS is the manual clock's start: 2023-11-14T22:13:20Z. */
export const TEST_WITNESS_START_MS = 1_700_000_000_000;

/**
 * newTestWitness makes a witness named `name` with a fresh key following `logs`. `wrapStore`
 * may wrap the memory store (to yield, fail or race) without replacing it.
 */
export function newTestWitness(
  logs: readonly FollowedLogSpec[],
  opts: { name?: string; wrapStore?: (s: MemoryWitnessStore) => WitnessStore } = {},
): TestWitness {
  const name = opts.name ?? 'example.com/witness';
  const signer = newCosignatureSigner(name, generateEd25519Seed());
  const memory = new MemoryWitnessStore();
  const clock = manualClock(TEST_WITNESS_START_MS);
  const store = opts.wrapStore ? opts.wrapStore(memory) : memory;
  return {
    deps: { logs: newFollowedLogs(logs), store, signer, clock: () => clock.nowMs() },
    memory,
    verifier: newCosignatureVerifier(name, signer.publicKey),
    clock,
  };
}
