// Pull mode against a tlog-tiles log served statically over loopback HTTP (test/tile-log-server.ts):
// the witness fetches the checkpoint, verifies it, builds the consistency proof from tiles it
// authenticates against the new checkpoint, and cosigns through its own add-checkpoint path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../platform/clock.ts';
import { silentLogger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { newCosignatureSigner, newCosignatureVerifier } from '../tlog/cosignature.ts';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { generateEd25519Seed } from '../tlog/note-ed25519.ts';
import { TileLog, serveTileLog, type TileLogServer } from '../test/tile-log-server.ts';
import { TEST_WITNESS_START_MS } from '../test/witness-log.ts';
import { newWitnessMetrics } from './metrics.ts';
import { pullCheckpoint, startPulling, type PullDeps, type PullOutcome, type PullTarget } from './pull.ts';
import { LogRateLimiter } from './rate-limit.ts';
import { MemoryWitnessStore } from './store-memory.ts';
import { newFollowedLogs } from './witness-config.ts';
import { WitnessNode } from './witness-node.ts';

const ORIGIN = 'example.com/pulled';
const BIG = 70_000; // three tile levels

function newPuller(server: TileLogServer, opts: { maxCheckpointBytes?: number } = {}) {
  const logs = newFollowedLogs([{ origin: ORIGIN, vkeys: [server.log.vkey] }]);
  const signer = newCosignatureSigner('pull.example/witness', generateEd25519Seed());
  const store = new MemoryWitnessStore();
  const registry = createMetricsRegistry({}, false);
  const metrics = newWitnessMetrics(registry);
  const clock = manualClock(TEST_WITNESS_START_MS);
  // A qpd of 1 would refuse every pushed request after the burst; pulled ones are not limited.
  const rateLimiter = new LogRateLimiter(new Map([[ORIGIN, 1]]), clock, 1);
  const node = new WitnessNode({ maxBodyBytes: 128 * 1024, maxInFlight: 1 }, { logs, store, signer, clock, logger: silentLogger(), metrics, rateLimiter });
  const deps: PullDeps = { node, store, logger: silentLogger(), metrics, timeoutMs: 5_000, maxCheckpointBytes: opts.maxCheckpointBytes ?? 4096 };
  const target: PullTarget = { log: logs.get(ORIGIN)!, pull: { url: server.url, intervalMs: 100 } };
  const verifier = newCosignatureVerifier(signer.name, signer.publicKey);
  return { deps, target, store, registry, verifier, pull: () => pullCheckpoint(target, deps) };
}

describe('witness pull mode', () => {
  let a: TileLog;
  let server: TileLogServer;
  beforeAll(async () => {
    a = new TileLog(ORIGIN, 'A').grow(300);
    server = await serveTileLog(a);
  });
  afterAll(async () => server.close());

  it('cosigns the first checkpoint, then grows to a three-level tree with a proof built from tiles', async () => {
    a.grow(300).publish(300n);
    const p = newPuller(server);
    expect(await p.pull()).toMatchObject({ result: 'cosigned', size: 300n });
    expect(await p.pull()).toMatchObject({ result: 'up_to_date', size: 300n });
    a.grow(BIG);
    server.fetched.length = 0;
    expect(await p.pull()).toMatchObject({ result: 'cosigned', size: BigInt(BIG) });
    expect(server.fetched.filter((f) => f.startsWith('tile/')).length).toBeGreaterThan(0);
    const stored = await p.store.getLatest(ORIGIN);
    expect(stored?.size).toBe(BigInt(BIG));
    // The stored note carries the log's signature and a cosignature that verifies.
    expect(openCheckpoint(stored!.note, [p.verifier]).checkpoint.size).toBe(BigInt(BIG));
    const metrics = await p.registry.metrics();
    expect(metrics).toContain(`vigil_witness_pull_polls_total{origin="${ORIGIN}",result="cosigned"} 2`);
    expect(metrics).toContain(`vigil_witness_last_cosigned_size_entries{origin="${ORIGIN}"} ${BIG}`);
  });

  it('refuses a tile that does not authenticate, at every tile the proof reads, and changes no state', async () => {
    a.publish(300n);
    const probe = newPuller(server);
    await probe.pull();
    a.publish(BigInt(BIG));
    server.fetched.length = 0;
    expect((await probe.pull()).result).toBe('cosigned');
    const used = [...new Set(server.fetched.filter((f) => f.startsWith('tile/')))];
    expect(used.length).toBeGreaterThanOrEqual(3);
    for (const path of used) {
      const p = newPuller(server);
      a.publish(300n);
      await p.pull();
      a.publish(BigInt(BIG));
      const bad = a.files.get(path)!.slice();
      bad[bad.length - 1]! ^= 1;
      server.override.set(path, bad);
      try {
        const o = await p.pull();
        expect(o.result, path).toBe('bad_tiles');
        expect(o.message).toMatch(/tile/);
      } finally {
        server.override.delete(path);
      }
      expect((await p.store.getLatest(ORIGIN))?.size, path).toBe(300n);
    }
  });

  it('reads a partial tile that the log replaced by its full tile from the full tile', async () => {
    const log = new TileLog('example.com/pulled', 'A', a.key).grow(300);
    const s = await serveTileLog(log);
    try {
      const p = newPuller(s);
      expect((await p.pull()).result).toBe('cosigned');
      log.grow(BIG);
      log.grow(BIG + 500);
      log.publish(BigInt(BIG)); // the checkpoint lags: its level-0 partial tile is now full
      s.override.set('tile/0/273.p/112', 404);
      expect(await p.pull()).toMatchObject({ result: 'cosigned', size: BigInt(BIG) });
      expect(s.fetched).toContain('tile/0/273');
    } finally {
      await s.close();
    }
  });

  it('refuses a fork (same key, another history) with 422 and keeps the cosigned state', async () => {
    const log = new TileLog(ORIGIN, 'A', a.key).grow(2000);
    const s = await serveTileLog(log);
    try {
      const p = newPuller(s);
      expect((await p.pull()).result).toBe('cosigned');
      s.log = new TileLog(ORIGIN, 'A', a.key).grow(3000, { tag: 'B', fromIndex: 1000 });
      const o = await p.pull();
      expect(o.result).toBe('refused');
      expect(o.message).toMatch(/^add-checkpoint answered 422/);
      expect((await p.store.getLatest(ORIGIN))?.size).toBe(2000n);
      // Same size, other root: a split view, also 422.
      s.log = new TileLog(ORIGIN, 'A', a.key).grow(2000, { tag: 'B', fromIndex: 1000 });
      expect(await p.pull()).toMatchObject({ result: 'refused', size: 2000n });
      // An older checkpoint is not cosigned (stale), whatever its history.
      s.log = new TileLog(ORIGIN, 'A', a.key).grow(1500);
      expect((await p.pull()).result).toBe('stale');
    } finally {
      await s.close();
    }
  });

  it('fails closed on fetch errors, oversized or unsigned checkpoints', async () => {
    const p = newPuller(server, { maxCheckpointBytes: 64 });
    expect(await p.pull()).toMatchObject({ result: 'fetch_failed', message: expect.stringMatching(/64-byte limit/) });
    const q = newPuller(server);
    server.override.set('checkpoint', 500);
    expect(await q.pull()).toMatchObject({ result: 'fetch_failed', message: expect.stringMatching(/HTTP 500/) });
    server.override.set('checkpoint', new TextEncoder().encode(new TileLog(ORIGIN, 'X').grow(5).checkpointNote(5n)));
    expect((await q.pull()).result).toBe('bad_checkpoint');
    server.override.delete('checkpoint');
    const closed = await serveTileLog(a);
    await closed.close();
    expect((await pullCheckpoint({ ...q.target, pull: { url: closed.url, intervalMs: 100 } }, q.deps)).result).toBe('fetch_failed');
    expect(await q.store.getLatest(ORIGIN)).toBeUndefined();
  });

  it('startPulling polls at once and then every interval, until stopped', async () => {
    a.publish(BigInt(BIG));
    const p = newPuller(server);
    const outcomes: PullOutcome[] = [];
    let done!: () => void;
    const twoPolls = new Promise<void>((r) => (done = r));
    const pulling = startPulling([p.target], p.deps, (_t, o) => {
      outcomes.push(o);
      if (outcomes.length === 2) done();
    });
    await twoPolls;
    await pulling.stop();
    const n = outcomes.length;
    expect(outcomes.slice(0, 2).map((o) => o.result)).toEqual(['cosigned', 'up_to_date']);
    await pulling.stop();
    expect(outcomes.length).toBe(n);
  });
});
