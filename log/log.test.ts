// Two processes' worth of logs on one PostgreSQL schema: only one sequences; entries taken by the
// other go through log_pending, are integrated by the leader and acknowledged with valid proofs; when
// the leader leaves, the other takes over. Real timers drive it, as in production; the test waits for
// the entries' answers, never for time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../platform/db.ts';
import { freshSchemaName } from '../test/db.ts';
import {
  addAll, expectRejected, fulfilled, newSigner, openTestLog, testEntry, verifyLogFromReadApi, type Acknowledged,
} from '../test/log-fixtures.ts';
import { POSTGRES_URL, serviceAvailable } from '../test/services.ts';
import type { Ed25519Signer } from '../tlog/note-ed25519.ts';

const hasPostgres = await serviceAvailable('postgres');
// Opening PGlite takes seconds on a busy 2-core machine; hooks get the tests' budget.

// Timers short enough that the test is quick, long enough to batch.
const FAST = { maxBatchDelayMs: 10, pendingCheckIntervalMs: 10, pendingPollMinMs: 5, pendingPollMaxMs: 50, leaderCheckIntervalMs: 3_600_000 };

describe.skipIf(!hasPostgres)('two log processes on one PostgreSQL schema', () => {
  const schema = freshSchemaName('logtwo');
  let dbA: Db;
  let dbB: Db;
  let signer: Ed25519Signer;
  beforeAll(async () => {
    dbA = await openDb({ url: POSTGRES_URL, schema });
    dbB = await openDb({ url: POSTGRES_URL, schema });
    signer = newSigner();
  });
  afterAll(async () => {
    await dbB.close();
    await dbA.query(`DROP SCHEMA ${schema} CASCADE`);
    await dbA.close();
  });

  it('only one sequences; the other queues entries that the leader integrates; the other takes over', async () => {
    const a = await openTestLog(dbA, { signer, config: FAST });
    const b = await openTestLog(dbB, { signer, init: false, config: FAST });
    expect(a.log.isLeader()).toBe(true);
    expect(b.log.isLeader()).toBe(false);
    expect(await b.log.checkLeadership()).toBe(false);
    const acked: Acknowledged[] = [];

    // Through the follower, concurrently with the leader's own entries, with twins and a duplicate.
    const viaB = Array.from({ length: 300 }, (_, i) => testEntry('via b', i));
    const viaA = Array.from({ length: 200 }, (_, i) => testEntry('via a', i));
    const [resB, resA, twin] = await Promise.all([
      Promise.all(viaB.map((body) => b.log.addEntry(body))),
      Promise.all(viaA.map((body) => a.log.addEntry(body))),
      b.log.addEntry(viaB[7]!),
    ]);
    resB.forEach((result, i) => acked.push({ body: viaB[i]!, result }));
    resA.forEach((result, i) => acked.push({ body: viaA[i]!, result }));
    expect(new Set([...resA, ...resB].map((r) => r.index)).size).toBe(500);
    expect(twin.index).toBe(resB[7]!.index);
    const again = await b.log.addEntry(viaA[3]!); // already logged: answered at once
    expect(again).toMatchObject({ index: resA[3]!.index, duplicate: true });
    expect((await dbA.query('SELECT 1 FROM log_pending')).length).toBe(0);

    // The leader leaves; the other process takes the lock, reloads the state and sequences.
    await a.log.close();
    expect(await b.log.checkLeadership()).toBe(true);
    expect(b.log.isLeader()).toBe(true);
    const after = [testEntry('after failover', 0), viaB[0]!];
    const resAfter = fulfilled(await addAll(b.log, after));
    expect(resAfter[0]!.index).toBe(500n);
    expect(resAfter[1]).toMatchObject({ index: resB[0]!.index, duplicate: true });
    acked.push({ body: after[0]!, result: resAfter[0]! });
    expect(await verifyLogFromReadApi(b.log, signer, acked)).toBe(501);

    // A third process cannot lead while b does.
    const c = await openTestLog(dbA, { signer, init: false, config: FAST });
    expect(c.log.isLeader()).toBe(false);
    await b.log.close();
    expect(await c.log.checkLeadership()).toBe(true);
    await c.log.close();
  });

  it('a leader whose lock connection dies stops sequencing; another process takes over', async () => {
    const a = await openTestLog(dbA, { signer, init: false, config: FAST });
    const b = await openTestLog(dbB, { signer, init: false, config: FAST });
    expect([a.log.isLeader(), b.log.isLeader()]).toEqual([true, false]);
    // Kill the leader's lock session from outside, as a crash or a network cut would.
    const [{ lock_key: key }] = (await dbA.query<{ lock_key: bigint }>('SELECT lock_key FROM log_state')) as [{ lock_key: bigint }];
    const killed = await dbB.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_locks
       WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 1 AND granted`,
      [Number(key >> 32n), Number(key & 0xffffffffn)],
    );
    expect(killed).toEqual([{ ok: true }]);
    expect(await a.log.checkLeadership()).toBe(false);
    expect(a.log.isLeader()).toBe(false);
    expect(await b.log.checkLeadership()).toBe(true);
    // a now queues its entries for b.
    const body = testEntry('after the kill', 0);
    const r = await a.log.addEntry(body);
    expect(r.duplicate).toBe(false);
    expect((await b.log.getEntryByIndex(r.index)).body).toEqual(body);
    await a.log.close();
    await b.log.close();
  });

  it('a follower gives up after pendingTimeoutMs when no process sequences', async () => {
    // The leader of this log is gone without draining log_pending: simulate by holding the lock
    // in a process that never sequences (its timers are off and it is never flushed).
    const holder = await openTestLog(dbA, { signer, init: false });
    const follower = await openTestLog(dbB, { signer, init: false, config: { ...FAST, pendingTimeoutMs: 0 } });
    expect(holder.log.isLeader()).toBe(true);
    const [r] = await Promise.allSettled([follower.log.addEntry(testEntry('orphan', 0))]);
    expectRejected(r!, 'pending_timeout');
    // The entry stays queued: the leader integrates it later, and a retry finds it.
    await holder.log.flush();
    expect((await follower.log.addEntry(testEntry('orphan', 0))).duplicate).toBe(true);
    await follower.log.close();
    await holder.log.close();
  });
});
