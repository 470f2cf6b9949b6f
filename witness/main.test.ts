// startWitness as `vigil up` uses it: several witnesses on one database (rows scoped by name),
// each with its own registry, mounted under /witness/<name>/ of one app on one port, one of them
// pulling a tlog-tiles log served over loopback.
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../platform/clock.ts';
import type { Db } from '../platform/db.ts';
import { listen, type Listening } from '../platform/http.ts';
import { silentLogger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { newCosignatureSigner, parseCosignerKey } from '../tlog/cosignature.ts';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { generateEd25519Seed } from '../tlog/note-ed25519.ts';
import { witnessCheckpointPath } from '../tlog/witness-request.ts';
import { openTestPglite } from '../test/db.ts';
import { TileLog, serveTileLog, type TileLogServer } from '../test/tile-log-server.ts';
import { TEST_WITNESS_START_MS, newTestLog, testLeaves } from '../test/witness-log.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IN_FLIGHT, DEFAULT_PULL_TIMEOUT_MS } from './config.ts';
import { startWitness, type StartedWitness, type WitnessRunConfig } from './main.ts';
import type { PullOutcome } from './pull.ts';

describe('startWitness: three witnesses on one port and one database', () => {
  let db: Db;
  let drop: () => Promise<void>;
  let tiles: TileLogServer;
  let server: Listening;
  const witnesses: StartedWitness[] = [];
  const pushed = newTestLog('example.com/pushed', testLeaves('p', 8));
  const pulled = new TileLog('example.com/pulled', 'q').grow(700);
  let firstPoll!: Promise<PullOutcome>;

  beforeAll(async () => {
    ({ db, drop } = await openTestPglite());
    tiles = await serveTileLog(pulled);
    const app = express();
    let polled!: (o: PullOutcome) => void;
    firstPoll = new Promise((r) => (polled = r));
    for (const name of ['alpha', 'beta', 'gamma']) {
      const config: WitnessRunConfig = {
        logs: [
          { origin: pushed.origin, vkeys: [pushed.vkey], qpd: undefined, pull: undefined },
          { origin: pulled.origin, vkeys: [pulled.vkey], qpd: undefined, pull: name === 'alpha' ? { url: tiles.url, intervalMs: 60_000 } : undefined },
        ],
        maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
        maxInFlight: DEFAULT_MAX_IN_FLIGHT,
        pullTimeoutMs: DEFAULT_PULL_TIMEOUT_MS,
      };
      const w = await startWitness(config, {
        db,
        signer: newCosignatureSigner(`${name}.example/witness`, generateEd25519Seed()),
        logger: silentLogger(),
        registry: createMetricsRegistry({ witness: name }, false),
        clock: manualClock(TEST_WITNESS_START_MS),
        ...(name === 'alpha' ? { onPoll: (_t: unknown, o: PullOutcome) => polled(o) } : {}),
      });
      witnesses.push(w);
      app.use(`/witness/${name}`, w.app);
    }
    server = await listen(app, '127.0.0.1', 0);
  });

  afterAll(async () => {
    await Promise.all(witnesses.map((w) => w.stop()));
    await server.close();
    await tiles.close();
    await drop();
  });

  it('keeps each witness state apart and serves each under its prefix', async () => {
    const post = (name: string, body: string) => fetch(`${server.url}/witness/${name}/add-checkpoint`, { method: 'POST', body });
    expect((await post('alpha', await pushed.request(0n, 4n))).status).toBe(200);
    expect((await post('beta', await pushed.request(0n, 6n))).status).toBe(200);
    const conflict = await post('alpha', await pushed.request(0n, 6n));
    expect([conflict.status, await conflict.text()]).toEqual([409, '4\n']);
    expect((await post('gamma', await pushed.request(4n, 6n))).status).toBe(409);
    const status = (await (await fetch(`${server.url}/witness/beta/`)).json()) as { name: string };
    expect(status.name).toBe('beta.example/witness');
    const metrics = await (await fetch(`${server.url}/witness/alpha/metrics`)).text();
    expect(metrics).toContain(`vigil_witness_add_checkpoint_conflicts_total{origin="${pushed.origin}",witness="alpha"} 1`);
  });

  it('pulls the log configured with `pull` and serves what it cosigned', async () => {
    expect(await firstPoll).toMatchObject({ result: 'cosigned', size: 700n });
    const res = await fetch(`${server.url}/witness/alpha/${witnessCheckpointPath(pulled.origin)}`);
    expect(res.status).toBe(200);
    const alpha = witnesses[0]!.node;
    expect(openCheckpoint(await res.text(), [parseCosignerKey(alpha.vkey)]).checkpoint.size).toBe(700n);
    expect((await fetch(`${server.url}/witness/beta/${witnessCheckpointPath(pulled.origin)}`)).status).toBe(404);
  });
});
