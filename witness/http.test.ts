// The witness over real loopback HTTP, backed by the SQL store on PGlite: the scenario vectors
// step by step (witness/tessera-testlog-witness-scenario.json, witness/litewitness-scenario.json),
// exact 409s, bounded bodies, 429 under qpd and overload, 503 on contention, the monitoring read
// side, metrics and mounting under a prefix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db.ts';
import { signNote } from '../tlog/note.ts';
import { generateSignerKey } from '../tlog/note-key.ts';
import { formatCheckpoint } from '../tlog/checkpoint.ts';
import { TLOG_SIZE_CONTENT_TYPE, parseConflictResponse, witnessCheckpointPath } from '../tlog/witness-request.ts';
import { openTestPglite } from '../test/db.ts';
import { describeVectors } from '../test/vectors.ts';
import { newTestLog, testLeaves } from '../test/witness-log.ts';
import {
  LITEWITNESS_SCENARIO,
  TESSERA_SCENARIO,
  expectCosignedAnswer,
  litewitnessScenarioSetup,
  runLitewitnessScenario,
  runTesseraScenario,
  tesseraScenarioLogs,
  type ScenarioAnswer,
  type ScenarioWitness,
} from '../test/witness-scenarios.ts';
import { startTestWitnessServer, type TestWitnessOptions, type TestWitnessServer } from '../test/witness-server.ts';
import type { FollowedLogSpec } from './witness-config.ts';

let db: Db;
let drop: () => Promise<void>;
const servers: TestWitnessServer[] = [];
beforeAll(async () => ({ db, drop } = await openTestPglite()));
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await drop();
});

async function serve(logs: readonly FollowedLogSpec[], opts?: TestWitnessOptions): Promise<TestWitnessServer> {
  const s = await startTestWitnessServer(db, logs, opts);
  servers.push(s);
  return s;
}

async function post(s: TestWitnessServer, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<ScenarioAnswer & { headers: Headers }> {
  const res = await fetch(`${s.url}/add-checkpoint`, { method: 'POST', body, headers });
  return { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: await res.text(), headers: res.headers };
}

/** latestSizeOverHttp reads the state back through the monitoring endpoint, as a monitor would. */
async function latestSizeOverHttp(s: TestWitnessServer, origin: string): Promise<bigint | undefined> {
  const res = await fetch(`${s.url}/${witnessCheckpointPath(origin)}`);
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return BigInt((await res.text()).split('\n')[1]!);
}

function scenarioWitness(s: TestWitnessServer): ScenarioWitness {
  return {
    post: (body) => post(s, body),
    latestSize: (origin) => latestSizeOverHttp(s, origin),
    verifier: s.verifier,
    nowMs: () => s.clock.nowMs(),
    advance: (ms) => s.clock.advance(ms),
  };
}

describeVectors(`witness HTTP: ${TESSERA_SCENARIO}`, () => {
  it('answers the 16 steps over HTTP with the vector statuses, bodies, Content-Types and states', async () => {
    await runTesseraScenario(scenarioWitness(await serve(tesseraScenarioLogs())));
  });
});

describeVectors(`witness HTTP: ${LITEWITNESS_SCENARIO}`, () => {
  it('answers the 9 steps over HTTP as C2SP requires now', async () => {
    const { logs, witnessName } = litewitnessScenarioSetup();
    await runLitewitnessScenario(scenarioWitness(await serve(logs, { name: witnessName })));
  });
});

describe('witness HTTP: add-checkpoint', () => {
  const log = newTestLog('example.com/http-log', testLeaves('http', 16));
  const logs = [{ origin: log.origin, vkeys: [log.vkey] }];

  it('answers 409 with exactly `<size>\\n` and Content-Type text/x.tlog.size, no charset', async () => {
    const s = await serve(logs);
    expectCosignedAnswer(await post(s, await log.request(0n, 4n)), log.checkpointNote(4n), scenarioWitness(s));
    const res = await post(s, await log.request(0n, 8n));
    expect(res.status).toBe(409);
    expect(res.contentType).toBe(TLOG_SIZE_CONTENT_TYPE);
    expect(res.body).toBe('4\n');
    expect(parseConflictResponse(res.contentType, res.body)).toBe(4n);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expectCosignedAnswer(await post(s, await log.request(4n, 8n)), log.checkpointNote(8n), scenarioWitness(s));
  });

  it('refuses a body over the limit with 413 (declared or chunked) and an empty one with 400, changing nothing', async () => {
    const s = await serve(logs, { maxBodyBytes: 2048 });
    const big = (await log.request(0n, 4n)).padEnd(4096, 'x');
    expect((await post(s, big)).status).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(512).fill(0x41));
        c.close();
      },
    });
    const res = await fetch(`${s.url}/add-checkpoint`, { method: 'POST', body: chunked, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect((await post(s, '')).status).toBe(400);
    expect((await post(s, 'old 0\n')).status).toBe(400);
    expect(await latestSizeOverHttp(s, log.origin)).toBeUndefined();
    expect((await post(s, await log.request(0n, 4n))).status).toBe(200);
  });

  it('accepts any request Content-Type but refuses a compressed body', async () => {
    const s = await serve(logs);
    expect((await post(s, await log.request(0n, 2n), { 'content-type': 'application/json' })).status).toBe(200);
    expect((await post(s, await log.request(2n, 3n), { 'content-encoding': 'gzip' })).status).toBe(400);
  });

  it('answers 429 with Retry-After once a log exceeds its qpd, spending the budget only on signed requests', async () => {
    // qpd 86400 is one request per second, with a burst of DEFAULT_MIN_BURST (10).
    const s = await serve(logs, { qpd: new Map([[log.origin, 86_400]]) });
    const forged = signNote(formatCheckpoint({ origin: log.origin, size: 3n, root: log.rootAt(3n) }), [generateSignerKey(log.origin).signer]);
    for (let i = 0; i < 20; i++) expect((await post(s, `old 0\n\n${forged}`)).status).toBe(403);
    expect((await post(s, await log.request(0n, 1n))).status).toBe(200);
    for (let i = 0; i < 9; i++) expect((await post(s, await log.request(0n, 2n))).status).toBe(409);
    const limited = await post(s, await log.request(1n, 2n));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await latestSizeOverHttp(s, log.origin)).toBe(1n);
    s.clock.advance(1000);
    expect((await post(s, await log.request(1n, 2n))).status).toBe(200);
    expect((await post(s, await log.request(2n, 3n))).status).toBe(429);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/vigil_witness_add_checkpoint_rejections_total\{code="rate_limited"\} 2/);
  });

  it('answers 429 with Retry-After when too many requests are in flight', async () => {
    let enter!: () => void;
    const entered = new Promise<void>((r) => (enter = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const s = await serve(logs, {
      maxInFlight: 1,
      wrapStore: (inner) => ({
        async getLatest(origin) {
          enter();
          await released;
          return inner.getLatest(origin);
        },
        compareAndSwap: (o, e, n) => inner.compareAndSwap(o, e, n),
      }),
    });
    const first = post(s, await log.request(0n, 4n));
    await entered;
    const second = await post(s, await log.request(0n, 4n));
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    release();
    expect((await first).status).toBe(200);
  });

  it('answers 503 with Retry-After when the compare-and-swap keeps losing, and 500 without details when the store fails', async () => {
    const contended = await serve(logs, { wrapStore: (inner) => ({ getLatest: (o) => inner.getLatest(o), compareAndSwap: async () => false }) });
    const res = await post(contended, await log.request(0n, 4n));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const failing = await serve(logs, {
      wrapStore: (inner) => ({ getLatest: (o) => inner.getLatest(o), compareAndSwap: async () => { throw new Error('disk on fire'); } }),
    });
    const failed = await post(failing, await log.request(0n, 4n));
    expect(failed.status).toBe(500);
    expect(failed.body).toBe('internal error\n');
  });
});

describe('witness HTTP: hostile bodies', () => {
  const log = newTestLog('example.com/fuzzed', testLeaves('fuzz', 8));
  const logs = [{ origin: log.origin, vkeys: [log.vkey] }];

  it('answers each malformed body with its 4xx and changes no state', async () => {
    const s = await serve(logs, { maxBodyBytes: 8192 });
    expect((await post(s, await log.request(0n, 2n))).status).toBe(200);
    const good = await log.request(2n, 6n);
    const [header, note] = [good.slice(0, good.indexOf('\n\n') + 1), good.slice(good.indexOf('\n\n') + 2)];
    const proofLine = header.split('\n')[1]!;
    const withExtension = signNote(`${log.origin}\n6\n${Buffer.from(log.rootAt(6n)).toString('base64')}\nextension line\n`, [log.signer]);
    const cases: [string, string | Uint8Array, number][] = [
      ['truncated in the header', good.slice(0, 10), 400],
      ['truncated in the note text', good.slice(0, header.length + 1 + 20), 403],
      ['truncated in the signature', good.slice(0, good.length - 10), 403],
      ['oversized', good + 'x'.repeat(8192), 413],
      ['bad base64 in a proof line', good.replace(proofLine, `${proofLine.slice(0, -2)}!=`), 400],
      ['a proof line of 31 bytes', good.replace(proofLine, Buffer.alloc(31).toString('base64')), 400],
      ['leading zeros in old', good.replace('old 2\n', 'old 02\n'), 400],
      ['a sign in old', good.replace('old 2\n', 'old +2\n'), 400],
      ['64 proof lines', `old 2\n${`${proofLine}\n`.repeat(64)}\n${note}`, 400],
      ['no blank line', good.replace('\n\n', '\n'), 400],
      ['extension lines', `old 2\n${header.split('\n').slice(1).join('\n')}\n${withExtension}`, 400],
      ['a flipped signature byte', good.slice(0, -4) + (good.at(-4) === 'A' ? 'B' : 'A') + good.slice(-3), 403],
      ['not UTF-8', Buffer.concat([Buffer.from(good.slice(0, -20)), Buffer.from([0xff]), Buffer.from(good.slice(-19))]), 400],
    ];
    for (const [what, body, status] of cases) {
      const res = await post(s, body);
      expect(res.status, `${what}: ${res.body}`).toBe(status);
      expect(res.contentType, what).toBe('text/plain; charset=utf-8');
      expect(await latestSizeOverHttp(s, log.origin), what).toBe(2n);
    }
    // A duplicated signature line is one signature (c2sp signed-note): accepted, stored once.
    const dup = good + note.slice(note.lastIndexOf('\u2014'));
    expect((await post(s, dup)).status).toBe(200);
    const stored = await (await fetch(`${s.url}/${witnessCheckpointPath(log.origin)}`)).text();
    expect(stored.split(`\u2014 ${log.origin} `)).toHaveLength(2);
  });
});

describe('witness HTTP: monitoring, status and metrics', () => {
  const log = newTestLog('example.com/monitored', testLeaves('mon', 8));
  const logs = [{ origin: log.origin, vkeys: [log.vkey] }];

  it('serves the latest cosigned note at /<sha256(origin)>/checkpoint, 404 before and for other logs', async () => {
    const s = await serve(logs);
    const path = `${s.url}/${witnessCheckpointPath(log.origin)}`;
    expect((await fetch(path)).status).toBe(404);
    const ok = await post(s, await log.request(0n, 5n));
    const res = await fetch(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(log.checkpointNote(5n) + ok.body);
    expect((await fetch(`${s.url}/${witnessCheckpointPath('example.com/other')}`)).status).toBe(404);
    expect((await fetch(`${s.url}/NOT-A-HASH/checkpoint`)).status).toBe(404);
  });

  it('describes itself at / and counts requests with followed origins only as labels', async () => {
    const s = await serve(logs);
    const status = await (await fetch(`${s.url}/`)).json();
    expect(status).toEqual({ name: s.node.name, vkey: s.node.vkey, origins: [log.origin] });
    await post(s, await log.request(0n, 3n));
    await post(s, await log.request(0n, 3n));
    const stranger = newTestLog('example.com/stranger', testLeaves('x', 2));
    await post(s, await stranger.request(0n, 2n));
    const res = await fetch(`${s.url}/metrics`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const text = await res.text();
    expect(text).toContain(`vigil_witness_add_checkpoint_requests_total{status="200",origin="${log.origin}"} 1`);
    expect(text).toContain(`vigil_witness_add_checkpoint_requests_total{status="409",origin="${log.origin}"} 1`);
    expect(text).toContain('vigil_witness_add_checkpoint_requests_total{status="404",origin=""} 1');
    expect(text).toContain(`vigil_witness_add_checkpoint_conflicts_total{origin="${log.origin}"} 1`);
    expect(text).toContain('vigil_witness_add_checkpoint_rejections_total{code="unknown_log"} 1');
    expect(text).toContain(`vigil_witness_last_cosigned_size_entries{origin="${log.origin}"} 3`);
    expect(text).toMatch(/vigil_witness_cosign_duration_seconds_count\{decision="append"\} 1/);
    expect(text).not.toContain(stranger.origin);
  });

  it('works mounted under a prefix, as `vigil up` serves each witness', async () => {
    const s = await serve(logs, { prefix: '/witness/alpha' });
    expect(s.url).toMatch(/\/witness\/alpha$/);
    expectCosignedAnswer(await post(s, await log.request(0n, 2n)), log.checkpointNote(2n), scenarioWitness(s));
    expect(await latestSizeOverHttp(s, log.origin)).toBe(2n);
    expect((await fetch(`${s.url}/`)).status).toBe(200);
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
  });
});
