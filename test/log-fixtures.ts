// Fixtures for the log core's tests: the two databases, a log driven by explicit flush() (timers
// pushed out of the way), distinct entries, and an independent C2SP client check that rebuilds the
// tree from the read API alone and verifies it against every checkpoint the log ever returned.
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { manualClock } from '../platform/clock.ts';
import type { Db } from '../platform/db.ts';
import { silentLogger } from '../platform/logger.ts';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { bundleForEntry } from '../tlog/entry-bundle.ts';
import { equalBytes, hashLeaf, type Hash } from '../tlog/merkle.ts';
import { newEd25519Verifier, type Ed25519Signer } from '../tlog/note-ed25519.ts';
import { generateSignerKey } from '../tlog/note-key.ts';
import { proveConsistency, verifyConsistency, verifyInclusion } from '../tlog/proof.ts';
import { tilesForSize, type Tile } from '../tlog/tile.ts';
import { TileHashReader } from '../tlog/tile-hash-reader.ts';
import { isLogError, type LogErrorCode } from '../log/errors.ts';
import { initLog } from '../log/log-state.ts';
import { createLog, type Log, type LogConfig } from '../log/log.ts';
import type { AddEntryResult } from '../log/pool.ts';
import { openTestPg, openTestPglite } from './db.ts';

/** TEST_ORIGIN is the origin of test logs. */
export const TEST_ORIGIN = 'log.vigil.test/core';

/** Backend names a database and how to open a fresh one. */
export interface Backend {
  name: 'pg' | 'pglite';
  open(): Promise<{ db: Db; drop: () => Promise<void> }>;
}

/** backends lists PostgreSQL (when it answers) and PGlite, for suites that run on both. */
export function backends(hasPostgres: boolean, prefix: string): Backend[] {
  const pglite: Backend = { name: 'pglite', open: openTestPglite };
  return hasPostgres ? [{ name: 'pg', open: () => openTestPg(prefix) }, pglite] : [pglite];
}

/** newSigner returns a fresh Ed25519 checkpoint key for the test origin. */
export function newSigner(origin = TEST_ORIGIN): Ed25519Signer {
  return generateSignerKey(origin).signer;
}

/** testEntry returns a distinct entry body of about `size` bytes. */
export function testEntry(tag: string, i: number, size = 64): Uint8Array {
  const head = new TextEncoder().encode(`${tag} entry ${i} `);
  const body = new Uint8Array(Math.max(size, head.length));
  body.set(head);
  return body;
}

/** TestLogHandle is a log under test with what the test drove through it. */
export interface TestLogHandle {
  log: Log;
  signer: Ed25519Signer;
  clock: ReturnType<typeof manualClock>;
  registry: Registry;
}

/**
 * openTestLog creates (unless `init` is false) and opens a log whose timers effectively never fire
 * unless the config says otherwise: tests integrate with flush().
 */
export async function openTestLog(
  db: Db,
  opts: { signer?: Ed25519Signer; init?: boolean; config?: Partial<LogConfig>; clock?: ReturnType<typeof manualClock> } = {},
): Promise<TestLogHandle> {
  const signer = opts.signer ?? newSigner();
  const clock = opts.clock ?? manualClock(1_700_000_000_000);
  if (opts.init !== false) await initLog(db, { origin: TEST_ORIGIN, signer, clock });
  const registry = new Registry();
  const hour = 3_600_000;
  const config: LogConfig = {
    origin: TEST_ORIGIN,
    signer,
    maxBatchDelayMs: hour,
    leaderCheckIntervalMs: hour,
    pendingCheckIntervalMs: hour,
    ...opts.config,
  };
  const log = await createLog(config, { db, clock, logger: silentLogger(), metrics: registry });
  return { log, signer, clock, registry };
}

/** addAll submits bodies, flushes, and returns the settled results in order. */
export async function addAll(log: Log, bodies: readonly Uint8Array[]): Promise<PromiseSettledResult<AddEntryResult>[]> {
  const settled = Promise.allSettled(bodies.map((b) => log.addEntry(b)));
  await log.flush();
  return settled;
}

/** fulfilled asserts that every result succeeded and returns the values. */
export function fulfilled(results: readonly PromiseSettledResult<AddEntryResult>[]): AddEntryResult[] {
  return results.map((r, i) => {
    if (r.status === 'rejected') throw new Error(`entry ${i} failed: ${String(r.reason)}`, { cause: r.reason });
    return r.value;
  });
}

/** expectLogError asserts that a settled result was rejected with a LogError of `code`. */
export function expectRejected(r: PromiseSettledResult<unknown>, code: LogErrorCode): void {
  expect(r.status).toBe('rejected');
  const reason = (r as PromiseRejectedResult).reason;
  expect(isLogError(reason, code), `want LogError ${code}, got ${String(reason)}`).toBe(true);
}

/** Acknowledged is an entry the log acknowledged, with its body. */
export interface Acknowledged {
  body: Uint8Array;
  result: AddEntryResult;
}

/**
 * verifyLogFromReadApi is the independent check, as a C2SP client with only the read API and the
 * log's public key would do it: open the latest checkpoint; authenticate every tile through
 * TileHashReader; check every entry bundle against its level-0 tile; check that each acknowledged
 * entry sits at its index; check each returned inclusion proof against its checkpoint; and check
 * that every checkpoint ever returned is consistent with the latest, reading that old checkpoint's
 * own partial tiles. Returns the number of entries verified.
 */
export async function verifyLogFromReadApi(log: Log, signer: Ed25519Signer, acked: readonly Acknowledged[]): Promise<number> {
  const verifier = newEd25519Verifier(signer.name, signer.publicKey);
  const latest = openCheckpoint((await log.getCheckpoint()).checkpoint, [verifier], { origin: log.origin }).checkpoint;
  const fetchTile = async (t: Tile): Promise<Uint8Array> => {
    const data = await log.getTile(t.level, t.index, t.width);
    if (data === undefined) throw new Error(`tile ${t.level}/${t.index}.p/${t.width} is missing`);
    return data;
  };
  const reader = new TileHashReader({ size: latest.size, root: latest.root }, fetchTile);
  const leaves: Hash[] = [];
  for (const t of tilesForSize(latest.size)) {
    if (t.level !== 0) continue;
    const bundle = await log.getEntryBundle(t.index, t.width);
    if (bundle === undefined) throw new Error(`bundle ${t.index}.p/${t.width} is missing`);
    const entries = await reader.verifyEntryBundle(t, bundle);
    leaves.push(...entries.map(hashLeaf));
  }
  expect(BigInt(leaves.length)).toBe(latest.size);
  const checkpoints = new Map<bigint, { root: Hash; note: string }>();
  for (const { body, result } of acked) {
    const cp = openCheckpoint(result.checkpoint, [verifier], { origin: log.origin }).checkpoint;
    expect(cp.size).toBe(result.size);
    expect(equalBytes(cp.root, result.root)).toBe(true);
    verifyInclusion(hashLeaf(body), result.index, cp.size, result.inclusionProof, cp.root);
    expect(equalBytes(leaves[Number(result.index)]!, hashLeaf(body)), `entry ${result.index}`).toBe(true);
    checkpoints.set(cp.size, { root: cp.root, note: result.checkpoint });
  }
  for (const [size, { root }] of checkpoints) {
    if (size === 0n) continue;
    verifyConsistency(size, latest.size, root, latest.root, await proveConsistency(size, latest.size, reader));
    // The old checkpoint's own tiles are still served and authenticate against it.
    const old = new TileHashReader({ size, root }, fetchTile);
    const last = bundleForEntry(size - 1n, size);
    await old.readTileHashes({ level: 0, index: last.index, width: last.width });
    expect(await log.getEntryBundle(last.index, last.width)).toBeDefined();
  }
  return leaves.length;
}
