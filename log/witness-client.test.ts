// The witness client against real witness nodes (witness/main.ts on loopback, own key and store)
// and a real log, and against scripted servers that answer like broken, slow or lying witnesses.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../platform/logger.ts';
import { newCosignatureSigner, signCosignature, verifyCosignature } from '../tlog/cosignature.ts';
import { generateEd25519Seed } from '../tlog/note-ed25519.ts';
import { formatVerifierKey, generateSignerKey } from '../tlog/note-key.ts';
import { NOTE_KEY_TYPE_ED25519 } from '../tlog/note-key-id.ts';
import { parseAddCheckpointRequest, TLOG_SIZE_CONTENT_TYPE } from '../tlog/witness-request.ts';
import { TEST_ORIGIN, addAll, fulfilled, openTestLog, testEntry, type TestLogHandle } from '../test/log-fixtures.ts';
import { checkPublished, corruptCosignatures, forward, freshDb, serveScript, startWitnessNode, type ScriptedHandler, type TestWitnessNode } from '../test/log-witnesses.ts';
import { serviceAvailable } from '../test/services.ts';
import { newTestLog, testLeaves } from '../test/witness-log.ts';
import { parseCheckpoint } from '../tlog/checkpoint.ts';
import { parseNote } from '../tlog/note.ts';
import type { Db } from '../platform/db.ts';
import { WitnessClient, defaultWitnessClientConfig, parseRetryAfter, type CheckpointSubmission, type WitnessClientConfig } from './witness-client.ts';
import { createWitnessMetrics, type WitnessMetrics } from './witness-metrics.ts';
import { loadWitnessPolicy, type WitnessEndpoint } from './witness-policy.ts';

const hasPostgres = await serviceAvailable('postgres');
const open = freshDb(hasPostgres, 'logwc');
const NEVER = new AbortController().signal;

describe('WitnessClient', () => {
  let db: Db;
  let drop: () => Promise<void>;
  let h: TestLogHandle;
  let logVkey: string;
  const logKey = generateSignerKey(TEST_ORIGIN);
  const nodes: TestWitnessNode[] = [];
  let registry: Registry;
  let metrics: WitnessMetrics;
  let waits: number[];

  beforeAll(async () => {
    ({ db, drop } = await open());
    h = await openTestLog(db, { signer: logKey.signer });
    logVkey = logKey.vkey;
    registry = new Registry();
    metrics = createWitnessMetrics(registry);
  });
  afterAll(async () => {
    await h.log.close();
    for (const n of nodes) await n.close();
    await drop();
  });

  async function node(name: string): Promise<TestWitnessNode> {
    const n = await startWitnessNode(name, { origin: TEST_ORIGIN, vkey: logVkey }, open);
    nodes.push(n);
    return n;
  }

  function endpoint(name: string, url: string, vkey: string): WitnessEndpoint {
    const policy = loadWitnessPolicy(`witness ${name} ${vkey} ${url}\nquorum ${name}\n`, logKey.signer);
    return policy.witnesses[0]!;
  }

  function client(ep: WitnessEndpoint, config: Partial<WitnessClientConfig> = {}, hint?: bigint): WitnessClient {
    waits = [];
    const wait = async (ms: number) => void waits.push(ms);
    return new WitnessClient(ep, defaultWitnessClientConfig(config), { clock: h.clock, logger: silentLogger(), metrics, wait }, hint);
  }

  async function grow(n: number): Promise<CheckpointSubmission> {
    fulfilled(await addAll(h.log, Array.from({ length: n }, (_, i) => testEntry(`wc-${Math.random()}`, i))));
    return submission(await h.log.getCheckpoint());
  }

  function submission(latest: { checkpoint: string; size: bigint }): CheckpointSubmission {
    return {
      note: latest.checkpoint,
      text: parseNote(latest.checkpoint).text,
      size: latest.size,
      proof: async (old) => (await h.log.getConsistencyProof(old, latest.size)).proof,
    };
  }

  async function counter(name: string, labels: Record<string, string>): Promise<number> {
    const m = await registry.getSingleMetric(name)!.get();
    return m.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
  }

  it('cosigns from old 0, then from the size it cosigned with a consistency proof', async () => {
    const w = await node('first.example/witness');
    const c = client(endpoint('first', w.url, w.vkey));
    const cp1 = await grow(5);
    const out1 = await c.submit(cp1, NEVER);
    expect(out1.result).toBe('cosigned');
    expect(c.knownSize).toBe(cp1.size);
    const cp2 = await grow(7);
    const out2 = await c.submit(cp2, NEVER);
    if (out2.result !== 'cosigned') throw new Error(out2.message);
    expect(verifyCosignature(c.endpoint.verifier, cp2.text, out2.cosignature)).toBe(out2.timestamp);
    expect([c.knownSize, c.cosignedSize]).toEqual([cp2.size, cp2.size]);
    expect(await counter('vigil_log_witness_requests_total', { witness: 'first', status: '200' })).toBe(2);
    expect(await counter('vigil_log_witness_cosigned_size', { witness: 'first' })).toBe(Number(cp2.size));
  });

  it('accepts a witness key published as type 0x01 (matched on its 0x04 key ID)', async () => {
    const w = await node('legacy.example/witness');
    const vkey01 = formatVerifierKey({ name: w.signer.name, type: NOTE_KEY_TYPE_ED25519, publicKey: w.signer.publicKey });
    const c = client(endpoint('legacy', w.url, vkey01));
    const cp = await grow(1);
    expect((await c.submit(cp, NEVER)).result).toBe('cosigned');
  });

  it('follows a 409 to the witness size and resends with the proof from it (wrong hint, lost state)', async () => {
    const w = await node('resync.example/witness');
    const cp1 = await grow(3);
    expect((await client(endpoint('resync', w.url, w.vkey)).submit(cp1, NEVER)).result).toBe('cosigned');
    // A client with no state sends old 0: 409 "size\n", then old = cp1.size with a proof.
    const fresh = client(endpoint('resync', w.url, w.vkey));
    const cp2 = await grow(4);
    const before = await counter('vigil_log_witness_conflicts_total', { witness: 'resync' });
    expect((await fresh.submit(cp2, NEVER)).result).toBe('cosigned');
    expect(await counter('vigil_log_witness_conflicts_total', { witness: 'resync' })).toBe(before + 1);
    // The witness loses its disk: it holds 0 while the client believes cp2.size.
    await w.restart({ freshStore: true });
    const cp3 = await grow(2);
    const out = await fresh.submit(cp3, NEVER);
    expect(out.result).toBe('cosigned');
    expect(fresh.knownSize).toBe(cp3.size);
    expect(await counter('vigil_log_witness_conflicts_total', { witness: 'resync' })).toBe(before + 2);
  });

  it('reports a witness that claims a larger tree than the checkpoint as misbehaviour', async () => {
    const w = await node('ahead.example/witness');
    const old = submission(await h.log.getCheckpoint());
    const c = client(endpoint('ahead', w.url, w.vkey));
    expect((await c.submit(await grow(2), NEVER)).result).toBe('cosigned');
    const out = await c.submit(old, NEVER);
    expect(out.result).toBe('misbehaviour');
    expect(await counter('vigil_log_witness_misbehaviour_total', { witness: 'ahead', reason: 'ahead' })).toBe(1);
  });

  it('reports a witness holding another history of the log (422) as misbehaviour', async () => {
    const w = await node('forked.example/witness');
    // The same log key signs a fork of 2 entries; the witness cosigns it first.
    const fork = newTestLog(TEST_ORIGIN, testLeaves('fork', 2), logKey);
    expect((await forward(w.url, await fork.request(0n, 2n))).status).toBe(200);
    const out = await client(endpoint('forked', w.url, w.vkey)).submit(await grow(1), NEVER);
    expect(out.result).toBe('misbehaviour');
    expect(await counter('vigil_log_witness_misbehaviour_total', { witness: 'forked', reason: 'inconsistent' })).toBe(1);
  });

  it('refuses a cosignature that does not verify, lines of other keys only, and garbage', async () => {
    const w = await node('proxied.example/witness');
    const ep = endpoint('proxied', w.url, w.vkey);
    const cp = await grow(1);
    const scripts: [ScriptedHandler, string][] = [
      [async (body) => corruptCosignatures(await forward(w.url, body)), 'bad_cosignature'],
      [(body) => ({ status: 200, body: signCosignature(newCosignatureSigner(w.signer.name, generateEd25519Seed()), parseAddCheckpointRequest(body).checkpointNote.split('\n\n')[0]! + '\n', 1n) }), 'bad_response'],
      [() => ({ status: 200, body: 'cosigned, trust me\n' }), 'bad_response'],
      [() => ({ status: 200, body: '' }), 'bad_response'],
      [() => ({ status: 200, body: 'x'.repeat(200_000) }), 'bad_response'],
      [() => ({ status: 409, headers: { 'content-type': 'text/plain' }, body: '0\n' }), 'bad_response'],
      [() => ({ status: 409, headers: { 'content-type': TLOG_SIZE_CONTENT_TYPE }, body: '01\n' }), 'bad_response'],
      [() => ({ status: 409, headers: { 'content-type': TLOG_SIZE_CONTENT_TYPE }, body: '0' }), 'bad_response'],
      [() => ({ status: 409, headers: { 'content-type': TLOG_SIZE_CONTENT_TYPE }, body: '0\n' }), 'bad_response'],
      [(body) => ({ status: 409, headers: { 'content-type': TLOG_SIZE_CONTENT_TYPE }, body: `${parseAddCheckpointRequest(body).oldSize}\n` }), 'bad_response'],
      [() => ({ status: 404 }), 'rejected'],
      [() => ({ status: 403 }), 'rejected'],
    ];
    for (const [handler, want] of scripts) {
      const s = await serveScript(handler);
      const out = await client({ ...ep, url: s.url }).submit(cp, NEVER);
      await s.close();
      expect(out.result, `${want}: ${'message' in out ? out.message : ''}`).toBe(want);
    }
  });

  it('reports a same-size 409 (transparency-dev/witness: another root) as misbehaviour', async () => {
    const cp = await grow(1);
    const s = await serveScript(() => ({ status: 409, headers: { 'content-type': TLOG_SIZE_CONTENT_TYPE }, body: `${cp.size}\n` }));
    const w = await node('samesize.example/witness');
    const out = await client({ ...endpoint('samesize', w.url, w.vkey), url: s.url }, {}, cp.size).submit(cp, NEVER);
    await s.close();
    expect(out.result).toBe('misbehaviour');
    expect(parseAddCheckpointRequest(s.requests[0]!).oldSize).toBe(cp.size);
  });

  it('follows 409s only so far', async () => {
    const cp = await grow(1);
    let n = 0;
    const s = await serveScript(() => ({ status: 409, headers: { 'content-type': TLOG_SIZE_CONTENT_TYPE }, body: `${++n}\n` }));
    const w = await node('conflicted.example/witness');
    const out = await client({ ...endpoint('conflicted', w.url, w.vkey), url: s.url }).submit(cp, NEVER);
    await s.close();
    expect(out.result).toBe('conflict');
    expect(s.requests.map((r) => parseAddCheckpointRequest(r).oldSize)).toEqual([0n, 1n, 2n]);
  });

  it('retries 429 and 5xx with backoff, honouring Retry-After, and gives up past the limits', async () => {
    const w = await node('busy.example/witness');
    const ep = endpoint('busy', w.url, w.vkey);
    const cp = await grow(1);
    const flaky = await serveScript(async (body, n) => (n === 1 ? { status: 503, headers: { 'retry-after': '2' } } : n === 2 ? { status: 502 } : forward(w.url, body)));
    const c1 = client({ ...ep, url: flaky.url });
    expect((await c1.submit(cp, NEVER)).result).toBe('cosigned');
    expect(waits).toEqual([2000, 500]);
    await flaky.close();

    const down = await serveScript(() => ({ status: 500 }));
    const c2 = client({ ...ep, url: down.url });
    expect((await c2.submit(cp, NEVER)).result).toBe('overloaded');
    expect([waits, down.requests.length]).toEqual([[250, 500], 3]);
    await down.close();

    const limited = await serveScript(() => ({ status: 429, headers: { 'retry-after': '3600' } }));
    const c3 = client({ ...ep, url: limited.url });
    expect(await c3.submit(cp, NEVER)).toMatchObject({ result: 'overloaded', retryAfterMs: 3_600_000 });
    expect([waits, limited.requests.length]).toEqual([[], 1]);
    await limited.close();
    expect(await counter('vigil_log_witness_requests_total', { witness: 'busy', status: '500' })).toBe(3);
  });

  it('times out a witness that does not answer, and reports one that is not there', async () => {
    const w = await node('slow.example/witness');
    const ep = endpoint('slow', w.url, w.vkey);
    const cp = await grow(1);
    const hang = await serveScript(() => 'hang');
    expect((await client({ ...ep, url: hang.url }, { timeoutMs: 100 }).submit(cp, NEVER)).result).toBe('timeout');
    await hang.close();
    await w.stop();
    expect((await client(ep).submit(cp, NEVER)).result).toBe('unreachable');
    expect(await counter('vigil_log_witness_requests_total', { witness: 'slow', status: 'timeout' })).toBe(1);
  });

  it("says 'internal' when the log cannot build the consistency proof", async () => {
    const w = await node('internal.example/witness');
    const cp = await grow(2);
    const broken = { ...cp, proof: () => Promise.reject(new Error('tiles unreadable')) };
    const out = await client(endpoint('internal', w.url, w.vkey), {}, 1n).submit(broken, NEVER);
    expect(out).toMatchObject({ result: 'internal', message: expect.stringMatching(/tiles unreadable/) });
  });

  it('ends at once when its signal aborts', async () => {
    const cp = await grow(1);
    const hang = await serveScript(() => 'hang');
    const w = await node('aborted.example/witness');
    const abort = new AbortController();
    const pending = client({ ...endpoint('aborted', w.url, w.vkey), url: hang.url }).submit(cp, abort.signal);
    abort.abort();
    expect((await pending).result).toBe('closed');
    await hang.close();
  });

  it('sends exactly the add-checkpoint body: old size, proof lines, blank line, the log note', async () => {
    const cp = await grow(3);
    const w = await node('wire.example/witness');
    const proxy = await serveScript((body) => forward(w.url, body));
    const c = client({ ...endpoint('wire', w.url, w.vkey), url: proxy.url }, {}, 2n);
    expect((await c.submit(cp, NEVER)).result).toBe('cosigned');
    const [first, second] = proxy.requests.map((r) => parseAddCheckpointRequest(r));
    expect(first!.oldSize).toBe(2n); // the hint; the fresh witness answers 409 "0"
    expect(second!.oldSize).toBe(0n);
    expect(second!.proof).toEqual([]);
    expect(second!.checkpointNote).toBe(cp.note);
    expect(checkPublished(cp.note, `log ${logVkey}\nquorum none\n`, logVkey).size).toBe(parseCheckpoint(cp.text).size);
    await proxy.close();
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:01 GMT', 4000)).toBe(0);
    for (const bad of [null, undefined, '', '-1', '1.5', '9999999999', 'soon']) expect(parseRetryAfter(bad, 0)).toBeUndefined();
  });
});
