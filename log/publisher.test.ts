// The publisher with a real log and three real witness nodes (witness/main.ts startWitness), each on
// its own loopback port with its own key and store. Witnesses go down by closing their server and
// come back on the same port, with their state or with a fresh store. Every published checkpoint is
// checked independently (test/log-witnesses.ts checkPublished: log key, cosignatures, quorum).
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../platform/db.ts';
import { silentLogger } from '../platform/logger.ts';
import { formatVerifierKey, generateSignerKey } from '../tlog/note-key.ts';
import { NOTE_KEY_TYPE_ED25519, NOTE_KEY_TYPE_MLDSA44 } from '../tlog/note-key-id.ts';
import { newCosignatureSigner } from '../tlog/cosignature.ts';
import { generateEd25519Seed } from '../tlog/note-ed25519.ts';
import { formatWitnessVkey } from '../witness/key.ts';
import { TEST_ORIGIN, addAll, fulfilled, openTestLog, testEntry, type TestLogHandle } from '../test/log-fixtures.ts';
import { checkPublished, corruptCosignatures, forward, freshDb, serveScript, startWitnessNode, type ScriptedWitness, type TestWitnessNode } from '../test/log-witnesses.ts';
import { freshSchemaName } from '../test/db.ts';
import { POSTGRES_URL, serviceAvailable } from '../test/services.ts';
import { isLogError } from './errors.ts';
import { createPublisher, type Publisher, type PublisherConfig } from './publisher.ts';
import { readPublished, writePublished } from './published-store.ts';
import { loadWitnessPolicy } from './witness-policy.ts';

const hasPostgres = await serviceAvailable('postgres');
const open = freshDb(hasPostgres, 'logpub');
const logKey = generateSignerKey(TEST_ORIGIN);
const instant = async () => {};

// One log (its own database) per describe block, and its publishers.
function logUnderTest() {
  const state = {} as { db: Db; drop: () => Promise<void>; h: TestLogHandle; registry: Registry; publishers: Publisher[] };
  beforeAll(async () => {
    Object.assign(state, await open());
    state.h = await openTestLog(state.db, { signer: logKey.signer });
    state.publishers = [];
  });
  afterAll(async () => {
    for (const p of state.publishers) await p.close();
    await state.h.log.close();
    await state.drop();
  });
  return {
    state,
    async publisher(policyText: string, config: Partial<PublisherConfig> = {}): Promise<Publisher> {
      state.registry = new Registry();
      const deps = { log: state.h.log, db: state.db, clock: state.h.clock, logger: silentLogger(), metrics: state.registry, wait: instant };
      const p = await createPublisher({ policyText, logKey: logKey.signer, ...config }, deps);
      state.publishers.push(p);
      return p;
    },
    async grow(n: number): Promise<bigint> {
      fulfilled(await addAll(state.h.log, Array.from({ length: n }, (_, i) => testEntry(`pub-${Math.random()}`, i))));
      return (await state.h.log.getCheckpoint()).size;
    },
    async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
      const m = await state.registry.getSingleMetric(name)!.get();
      return m.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
    },
  };
}

function witnessLines(nodes: readonly TestWitnessNode[], names: readonly string[]): string {
  return nodes.map((n, i) => `witness ${names[i]} ${n.vkey} ${n.url}\n`).join('');
}

describe('publisher, policy 2-of-3 with three witness nodes', () => {
  const t = logUnderTest();
  const nodes: TestWitnessNode[] = [];
  let policyText: string;
  let p: Publisher;
  const sizes: bigint[] = [];

  beforeAll(async () => {
    for (const name of ['w1', 'w2', 'w3']) nodes.push(await startWitnessNode(`${name}.example/witness`, { origin: TEST_ORIGIN, vkey: logKey.vkey }, open));
    // w2's key is written as a type-0x01 vkey, as the ArmoredWitness keys are published.
    const w2 = nodes[1]!.signer;
    const w2vkey01 = formatVerifierKey({ name: w2.name, type: NOTE_KEY_TYPE_ED25519, publicKey: w2.publicKey });
    policyText = `${witnessLines(nodes, ['w1', 'w2', 'w3']).replace(nodes[1]!.vkey, w2vkey01)}group two-of-three 2 w1 w2 w3\nquorum two-of-three\n`;
    p = await t.publisher(policyText);
  });
  afterAll(async () => {
    for (const n of nodes) await n.close();
  });

  // publish runs one round and checks the published note independently; sizes must never go back.
  async function publish(): Promise<{ logSize: bigint; size: bigint; cosigners: string[] }> {
    const status = await p.runOnce();
    const note = await p.publishedCheckpoint();
    const checked = checkPublished(note, p.policy.text, logKey.vkey);
    expect(checked.size).toBe(status.published.size);
    if (sizes.length > 0) expect(checked.size).toBeGreaterThanOrEqual(sizes.at(-1)!);
    sizes.push(checked.size);
    return { logSize: status.logSize, size: checked.size, cosigners: checked.cosigners };
  }

  it('serves the log size-0 checkpoint before publishing anything', async () => {
    const note = await p.publishedCheckpoint();
    expect(checkPublished(note, p.policy.text, logKey.vkey)).toEqual({ size: 0n, cosigners: [], quorum: false });
  });

  it('publishes with every cosignature when all three witnesses are up', async () => {
    const logSize = await t.grow(10);
    const r = await publish();
    expect(r).toEqual({ logSize, size: logSize, cosigners: ['w1', 'w2', 'w3'] });
    expect(checkPublished(await p.publishedCheckpoint(), policyText, logKey.vkey).quorum).toBe(true);
    expect(await t.metric('vigil_log_witness_published_size')).toBe(Number(logSize));
    expect(await t.metric('vigil_log_witness_quorum_total', { result: 'met' })).toBe(1);
  });

  it('keeps publishing when one witness is down', async () => {
    await nodes[2]!.stop();
    for (let i = 0; i < 2; i++) {
      const logSize = await t.grow(5);
      const r = await publish();
      expect(r).toEqual({ logSize, size: logSize, cosigners: ['w1', 'w2'] });
    }
    expect(p.witnesses()[2]!.last?.result).toBe('unreachable');
    expect(await t.metric('vigil_log_witness_cosigned_size', { witness: 'w1' })).toBe(Number(sizes.at(-1)));
  });

  it('stops publishing new checkpoints when two are down, while the log keeps accepting and sequencing', async () => {
    const published = sizes.at(-1)!;
    await nodes[1]!.stop();
    for (let i = 0; i < 3; i++) {
      const logSize = await t.grow(4);
      expect(logSize).toBeGreaterThan(published);
      t.state.h.clock.advance(120_000); // past every backoff: both dead witnesses are tried each round
      const r = await publish();
      expect([r.logSize, r.size]).toEqual([logSize, published]);
      expect(checkPublished(await p.publishedCheckpoint(), policyText, logKey.vkey).quorum).toBe(true);
    }
    expect(await t.metric('vigil_log_witness_quorum_total', { result: 'failed' })).toBe(3);
    expect(await t.metric('vigil_log_witness_quorum_met')).toBe(0);
    expect(await t.metric('vigil_log_witness_requests_total', { witness: 'w2', status: 'network_error' })).toBeGreaterThanOrEqual(3);
  });

  it('catches up when they return: one with its state (old size), one with a lost store (409)', async () => {
    const w2Known = p.witnesses()[1]!.knownSize;
    const conflictsBefore = await t.metric('vigil_log_witness_conflicts_total', { witness: 'w3' });
    await nodes[1]!.restart();
    await nodes[2]!.restart({ freshStore: true });
    const logSize = await t.grow(3);
    // Still backing off from the last failure: only w1 is asked, and quorum waits.
    expect((await publish()).size).toBeLessThan(logSize);
    t.state.h.clock.advance(120_000);
    const r = await publish();
    expect(r).toEqual({ logSize, size: logSize, cosigners: ['w1', 'w2', 'w3'] });
    expect(await t.metric('vigil_log_witness_conflicts_total', { witness: 'w2' })).toBe(0);
    expect(w2Known).toBeLessThan(logSize);
    expect(await t.metric('vigil_log_witness_conflicts_total', { witness: 'w3' })).toBe(conflictsBefore + 1);
    expect(p.witnesses().map((w) => w.knownSize)).toEqual([logSize, logSize, logSize]);
    expect(await t.metric('vigil_log_witness_quorum_met')).toBe(1);
  });

  it('serves the same published checkpoint after a restart, and never a smaller one', async () => {
    const before = await p.publishedCheckpoint();
    const logSize = await t.grow(2); // signed but not yet witnessed
    const again = await t.publisher(policyText);
    expect(await again.publishedCheckpoint()).toBe(before);
    // The witness sizes were kept: the new publisher's first round needs no 409.
    expect(again.witnesses().map((w) => w.knownSize)).toEqual(p.witnesses().map((w) => w.knownSize));
    const conflicts = await t.metric('vigil_log_witness_conflicts_total', { witness: 'w1' });
    expect((await again.runOnce()).published.size).toBe(logSize);
    expect(await t.metric('vigil_log_witness_conflicts_total', { witness: 'w1' })).toBe(conflicts);
    const stored = (await readPublished(t.state.db))!;
    expect(await writePublished(t.state.db, { ...stored, size: stored.size - 1n, note: before }, new Date())).toBe(false);
    expect(await writePublished(t.state.db, { ...stored, cosigners: stored.cosigners - 1 }, new Date())).toBe(false);
    expect((await readPublished(t.state.db))!.size).toBe(logSize);
  });
});

describe('publisher, nested groups, lying witnesses and fail-open', () => {
  const t = logUnderTest();
  const nodes: TestWitnessNode[] = [];
  const proxies: ScriptedWitness[] = [];

  beforeAll(async () => {
    for (const name of ['a', 'b', 'c']) nodes.push(await startWitnessNode(`${name}.example/witness`, { origin: TEST_ORIGIN, vkey: logKey.vkey }, open));
  });
  afterAll(async () => {
    for (const x of proxies) await x.close();
    for (const n of nodes) await n.close();
  });

  it('evaluates a nested group: c and any of (a, b)', async () => {
    const policy = `${witnessLines(nodes, ['a', 'b', 'c'])}group ab any a b\ngroup both all ab c\nquorum both\n`;
    const p = await t.publisher(policy);
    await nodes[0]!.stop();
    let logSize = await t.grow(3);
    expect((await p.runOnce()).published.size).toBe(logSize); // b and c
    expect(checkPublished(await p.publishedCheckpoint(), policy, logKey.vkey)).toMatchObject({ cosigners: ['b', 'c'], quorum: true });
    await nodes[2]!.stop();
    logSize = await t.grow(3);
    t.state.h.clock.advance(120_000);
    expect((await p.runOnce()).published.size).toBeLessThan(logSize); // b alone is not enough
    await nodes[0]!.restart();
    await nodes[2]!.restart();
    t.state.h.clock.advance(120_000);
    expect((await p.runOnce()).published.size).toBe(logSize);
    await p.close();
  });

  it('counts no witness that answers garbage or a bad cosignature', async () => {
    const garbage = await serveScript(() => ({ status: 200, body: 'OK\n' }));
    const liar = await serveScript(async (body) => corruptCosignatures(await forward(nodes[1]!.url, body)));
    proxies.push(garbage, liar);
    const policy = `witness a ${nodes[0]!.vkey} ${garbage.url}\nwitness b ${nodes[1]!.vkey} ${liar.url}\nwitness c ${nodes[2]!.vkey} ${nodes[2]!.url}\ngroup g 2 a b c\nquorum g\n`;
    const p = await t.publisher(policy);
    const before = (await p.published()).size;
    const logSize = await t.grow(2);
    t.state.h.clock.advance(120_000);
    expect((await p.runOnce()).published.size).toBe(before);
    expect(before).toBeLessThan(logSize);
    expect(p.witnesses().map((w) => w.last?.result)).toEqual(['bad_response', 'bad_cosignature', 'cosigned']);
    expect(await t.metric('vigil_log_witness_submissions_total', { witness: 'b', result: 'bad_cosignature' })).toBe(1);
    await p.close();
  });

  it('fails open by option: publishes the log-signed checkpoint after the timeout, then upgrades it', async () => {
    const policy = `${witnessLines(nodes, ['a', 'b', 'c'])}group g 2 a b c\nquorum g\n`;
    const p = await t.publisher(policy, { failOpenAfterMs: 30_000 });
    await nodes[0]!.stop();
    await nodes[1]!.stop();
    const before = (await p.published()).size;
    const logSize = await t.grow(2);
    expect((await p.runOnce()).published.size).toBe(before); // not yet: the timeout runs from now
    t.state.h.clock.advance(29_999);
    expect((await p.runOnce()).published).toMatchObject({ size: before });
    t.state.h.clock.advance(1);
    expect((await p.runOnce()).published).toMatchObject({ size: logSize, quorumMet: false, cosigners: 1 });
    expect(checkPublished(await p.publishedCheckpoint(), policy, logKey.vkey)).toEqual({ size: logSize, cosigners: ['c'], quorum: false });
    expect(await t.metric('vigil_log_witness_quorum_total', { result: 'failed_open' })).toBe(1);
    // The witnesses return: the same size is published again, now with its quorum.
    await nodes[0]!.restart();
    await nodes[1]!.restart();
    t.state.h.clock.advance(120_000);
    expect((await p.runOnce()).published).toMatchObject({ size: logSize, quorumMet: true, cosigners: 3 });
    expect(checkPublished(await p.publishedCheckpoint(), policy, logKey.vkey).quorum).toBe(true);
    await p.close();
  });

  it('publishes every checkpoint at once under `quorum none`, still collecting cosignatures', async () => {
    const p = await t.publisher(`${witnessLines(nodes, ['a', 'b', 'c'])}quorum none\n`);
    const logSize = await t.grow(1);
    expect((await p.runOnce()).published).toMatchObject({ size: logSize, quorumMet: true, cosigners: 3 });
    await p.close();
  });
});

describe.skipIf(!hasPostgres)('publisher on a process that does not sequence the log', () => {
  const schema = freshSchemaName('logpubtwo');
  const dbs: Db[] = [];
  let node: TestWitnessNode;
  afterAll(async () => {
    await node.close();
    await dbs[1]?.close();
    await dbs[0]?.query(`DROP SCHEMA ${schema} CASCADE`);
    await dbs[0]?.close();
  });

  it('submits nothing and serves what the leader published, read again after publishedCacheMs', async () => {
    for (let i = 0; i < 2; i++) dbs.push(await openDb({ url: POSTGRES_URL, schema }));
    node = await startWitnessNode('follower.example/witness', { origin: TEST_ORIGIN, vkey: logKey.vkey }, open);
    const a = await openTestLog(dbs[0]!, { signer: logKey.signer });
    const b = await openTestLog(dbs[1]!, { signer: logKey.signer, init: false });
    const policyText = `witness w ${node.vkey} ${node.url}\nquorum w\n`;
    const publisher = async (h: TestLogHandle, db: Db) =>
      createPublisher({ policyText, logKey: logKey.signer, publishedCacheMs: 1000 }, { log: h.log, db, clock: h.clock, logger: silentLogger(), metrics: new Registry(), wait: instant });
    const [pa, pb] = [await publisher(a, dbs[0]!), await publisher(b, dbs[1]!)];
    try {
      fulfilled(await addAll(a.log, [testEntry('two', 0), testEntry('two', 1)]));
      expect(b.log.isLeader()).toBe(false);
      expect((await pb.runOnce()).published.size).toBe(0n);
      expect(pb.witnesses()[0]!.last).toBeUndefined();
      expect((await pa.runOnce()).published.size).toBe(2n);
      expect(checkPublished(await pb.publishedCheckpoint(), policyText, logKey.vkey).size).toBe(0n); // cached
      b.clock.advance(1000);
      expect(await pb.publishedCheckpoint()).toBe(await pa.publishedCheckpoint());
    } finally {
      await pa.close();
      await pb.close();
      await b.log.close();
      await a.log.close();
    }
  });
});

describe('loadWitnessPolicy', () => {
  it('adds the log line when the policy has none, keeps it when it names this log, and refuses what it cannot use', () => {
    const url = 'http://127.0.0.1:9/prefix';
    const w = formatWitnessVkey(newCosignatureSigner('policy.example/witness', generateEd25519Seed()));
    const text = `witness w ${w} ${url}/\nquorum w\n`;
    const loaded = loadWitnessPolicy(text, logKey.signer);
    expect(loaded.text).toBe(`log ${logKey.vkey}\nwitness w ${w} ${url}/\nquorum w\n`);
    expect(loaded.witnesses.map((x) => [x.name, x.url])).toEqual([['w', url]]);
    expect(loadWitnessPolicy(loaded.text, logKey.signer).text).toBe(loaded.text);
    // An ML-DSA-44 witness is followed too: its subtree/v1 lines are verified (tlog/cosignature.ts).
    const mldsa = formatVerifierKey({ name: 'pq.example', type: NOTE_KEY_TYPE_MLDSA44, publicKey: new Uint8Array(1312) });
    expect(loadWitnessPolicy(`witness w ${mldsa} ${url}\nquorum w\n`, logKey.signer).witnesses.map((x) => x.verifier.type)).toEqual([NOTE_KEY_TYPE_MLDSA44]);
    const other = generateSignerKey(TEST_ORIGIN);
    const bad = [
      [`log ${other.vkey}\n${text}`, /no log line of the policy is this log/],
      [`witness w ${w}\nquorum w\n`, /no submission URL/],
      [`witness w ${w} ftp://x\nquorum w\n`, /not http/],
      [`witness w ${w} http://x/?a=1\nquorum w\n`, /query/],
      ['quorum w\n', /couldn't parse the witness policy/],
    ] as const;
    for (const [policy, message] of bad) {
      let err: unknown;
      try {
        loadWitnessPolicy(policy, logKey.signer);
      } catch (e) {
        err = e;
      }
      expect(isLogError(err, 'invalid_config'), String(err)).toBe(true);
      expect(String(err)).toMatch(message);
    }
  });
});
