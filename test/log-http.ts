// Helpers for driving the log over HTTP in tests (log/http*.test.ts, the crash test): a served test
// log, a POST that returns what a client sees, and the independent C2SP client check over HTTP:
// rebuild the tree from the checkpoint, tiles and entry bundles alone and hold it against every
// checkpoint and entry the log ever acknowledged. Request builders are in log-requests.ts.
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import type { CertificateTrust } from '../log/kinds/certificate-chain.ts';
import { DEFAULT_MAX_REQUEST_BYTES } from '../log/kinds/entry.ts';
import { initLog } from '../log/log-state.ts';
import { startLog, type LogRunConfig, type StartedLog } from '../log/main.ts';
import { systemClock, type Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db.ts';
import { listen } from '../platform/http.ts';
import { silentLogger } from '../platform/logger.ts';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { bundleForEntry } from '../tlog/entry-bundle.ts';
import { equalBytes, hashLeaf, type Hash } from '../tlog/merkle.ts';
import type { NoteVerifier } from '../tlog/note.ts';
import { newEd25519Verifier, type Ed25519Signer } from '../tlog/note-ed25519.ts';
import { generateSignerKey } from '../tlog/note-key.ts';
import { proveConsistency, verifyConsistency } from '../tlog/proof.ts';
import { formatEntriesPath, formatTilePath, tilesForSize, type Tile } from '../tlog/tile.ts';
import { TileHashReader } from '../tlog/tile-hash-reader.ts';

export * from './log-requests.ts';

/** Answer is what a client saw: status, headers and the body (parsed when JSON). */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** post sends a body (an object is JSON-encoded) and returns the answer. */
export async function post(url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  const data = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const res = await fetch(url, { method: 'POST', body: data, headers });
  return answer(res);
}

/** get fetches a URL and returns the answer. */
export async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return answer(await fetch(url, { headers }));
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, json };
}

/** getBytes fetches a URL's body as bytes; it throws unless the status is 200. */
export async function getBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** AckedEntry is an entry a client saw acknowledged: where the log said it is. */
export interface AckedEntry {
  index: bigint;
  leafHash: Hash;
}

/**
 * verifyLogOverHttp is the independent check a C2SP client does with only the read API and the
 * log's key: open the latest checkpoint; authenticate every tile through TileHashReader; check
 * every entry bundle against its level-0 tile; check that every acknowledged entry sits at its
 * index; check that every checkpoint ever returned verifies and is consistent with the latest, and
 * that its own last partial tile and bundle are still served. Returns the latest tree size.
 */
export async function verifyLogOverHttp(
  apiV2: string,
  verifier: NoteVerifier,
  origin: string,
  acked: readonly AckedEntry[],
  checkpoints: Iterable<string>,
): Promise<bigint> {
  const latest = openCheckpoint(new TextDecoder().decode(await getBytes(`${apiV2}/checkpoint`)), [verifier], { origin }).checkpoint;
  const fetchTile = (t: Tile) => getBytes(`${apiV2}/${formatTilePath(t)}`);
  const reader = new TileHashReader({ size: latest.size, root: latest.root }, fetchTile);
  const level0 = [...tilesForSize(latest.size)].filter((t) => t.level === 0);
  const leaves: Hash[] = [];
  for (let i = 0; i < level0.length; i += 8) {
    const group = level0.slice(i, i + 8);
    const entries = await Promise.all(group.map(async (t) => reader.verifyEntryBundle(t, await getBytes(`${apiV2}/${formatEntriesPath(t)}`))));
    for (const es of entries) leaves.push(...es.map(hashLeaf));
  }
  expect(BigInt(leaves.length)).toBe(latest.size);
  for (const a of acked) {
    expect(a.index < latest.size, `acknowledged entry ${a.index} is beyond the tree`).toBe(true);
    expect(equalBytes(leaves[Number(a.index)]!, a.leafHash), `acknowledged entry ${a.index} is not at its index`).toBe(true);
  }
  const seen = new Map<bigint, Hash>();
  for (const note of checkpoints) {
    const cp = openCheckpoint(note, [verifier], { origin }).checkpoint;
    const other = seen.get(cp.size);
    if (other !== undefined) expect(equalBytes(other, cp.root), `two roots for size ${cp.size}`).toBe(true);
    seen.set(cp.size, cp.root);
  }
  for (const [size, root] of seen) {
    if (size === 0n) continue;
    verifyConsistency(size, latest.size, root, latest.root, await proveConsistency(size, latest.size, reader));
    const old = new TileHashReader({ size, root }, fetchTile);
    const last = bundleForEntry(size - 1n, size);
    await old.verifyEntryBundle(last, await getBytes(`${apiV2}/${formatEntriesPath(last)}`));
  }
  return latest.size;
}

/** TestLogServer is a log served on loopback for a test. */
export interface TestLogServer {
  url: string;
  started: StartedLog;
  signer: Ed25519Signer;
  verifier: NoteVerifier;
  registry: Registry;
  close(): Promise<void>;
}

/**
 * startTestLogServer creates a log in `db` (initLog) and serves it on a free loopback port, with
 * real batching timers (a few ms) so that requests are answered without explicit flushes.
 */
export async function startTestLogServer(
  db: Db,
  opts: { origin?: string; trust?: CertificateTrust | null; clock?: Clock; config?: Partial<LogRunConfig>; init?: boolean; signer?: Ed25519Signer } = {},
): Promise<TestLogServer> {
  const signer = opts.signer ?? generateSignerKey(opts.origin ?? 'log.vigil.test/http').signer;
  const clock = opts.clock ?? systemClock;
  if (opts.init !== false) await initLog(db, { origin: signer.name, signer, clock });
  const registry = new Registry();
  const config: LogRunConfig = {
    maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
    retryAfterSeconds: 1,
    maxBatchEntries: 4096,
    maxBatchDelayMs: 5,
    maxPendingEntries: 32_768,
    maxPendingBytes: 64 * 1024 * 1024,
    ...opts.config,
  };
  const started = await startLog(config, { db, signer, trust: opts.trust ?? null, logger: silentLogger(), registry, clock });
  const server = await listen(started.app, '127.0.0.1', 0);
  return {
    url: server.url,
    started,
    signer,
    verifier: newEd25519Verifier(signer.name, signer.publicKey),
    registry,
    async close() {
      await started.close();
      await server.close();
    },
  };
}
