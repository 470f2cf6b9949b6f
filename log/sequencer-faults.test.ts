// Fault injection without fakes (sunlight's TestSequenceErrors): the real database, wrapped so that
// one chosen statement of the integration transaction fails before or after it runs, or COMMIT fails
// before or after it happens. For every failure point: no waiter of the failed batch is
// acknowledged, the sequencer reloads its state and goes on, and every acknowledged entry is in a
// tree consistent with every checkpoint returned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Queryable, SqlParam } from '../platform/db.ts';
import {
  addAll, backends, expectRejected, fulfilled, openTestLog, testEntry, verifyLogFromReadApi, type Acknowledged, type TestLogHandle,
} from '../test/log-fixtures.ts';
import { verifyInclusion } from '../tlog/proof.ts';
import { flipBit } from '../test/bytes.ts';
import { openTestPglite } from '../test/db.ts';
import { serviceAvailable } from '../test/services.ts';
import type { AddEntryResult } from './pool.ts';

const hasPostgres = await serviceAvailable('postgres');
// Opening PGlite takes seconds on a busy 2-core machine; hooks get the tests' budget.

type FaultPoint = { statement: number; when: 'before' | 'after' } | { commit: 'before' | 'after' };

// The statements of the integration transaction, in order (sequencer.ts #commitBatch).
const STATEMENTS = [
  'lock log_state', 'take log_pending', 'find duplicates', 'insert entries', 'write tiles', 'write bundles',
  'insert checkpoint', 'update log_state',
];

/**
 * FaultyDb passes everything to the real Db, except that once armed, the next integration
 * transaction (the one that starts with SELECT … FROM log_state FOR UPDATE) fails at the chosen point.
 */
class FaultyDb implements Db {
  readonly kind: Db['kind'];
  armed: FaultPoint | undefined;
  fired = 0;
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    this.kind = db.kind;
  }

  query<R>(sql: string, params?: readonly SqlParam[]): Promise<R[]> {
    return this.#db.query<R>(sql, params);
  }

  close(): Promise<void> {
    return this.#db.close();
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let plan: FaultPoint | undefined;
    const result = await this.#db.transaction(async (tx) => {
      let n = 0;
      const wrapped: Queryable = {
        query: async <R>(sql: string, params?: readonly SqlParam[]): Promise<R[]> => {
          n++;
          if (n === 1 && this.armed !== undefined && /FROM log_state FOR UPDATE/.test(sql)) {
            plan = this.armed;
            this.armed = undefined;
          }
          const fail = plan !== undefined && 'statement' in plan && plan.statement === n ? plan.when : undefined;
          if (fail === 'before') throw this.#injected(`before statement ${n}`);
          const rows = await tx.query<R>(sql, params);
          if (fail === 'after') throw this.#injected(`after statement ${n}`);
          return rows;
        },
      };
      const value = await fn(wrapped);
      if (plan !== undefined && 'commit' in plan && plan.commit === 'before') throw this.#injected('before COMMIT');
      return value;
    });
    // The commit happened, but the caller hears of a failure: an unknown commit outcome.
    if (plan !== undefined && 'commit' in plan && plan.commit === 'after') throw this.#injected('after COMMIT');
    return result;
  }

  #injected(where: string): Error {
    this.fired++;
    return new Error(`injected failure ${where}`);
  }
}

const FAULTS: Array<{ name: string; point: FaultPoint; committed: boolean }> = [
  ...STATEMENTS.flatMap((name, i) => [
    { name: `before ${name}`, point: { statement: i + 1, when: 'before' as const }, committed: false },
    { name: `after ${name}`, point: { statement: i + 1, when: 'after' as const }, committed: false },
  ]),
  { name: 'before COMMIT', point: { commit: 'before' }, committed: false },
  { name: 'after COMMIT (outcome unknown)', point: { commit: 'after' }, committed: true },
];

for (const backend of backends(hasPostgres, 'logfault')) {
  describe(`sequencer failure points on ${backend.name}`, () => {
    let faulty: FaultyDb;
    let drop: () => Promise<void>;
    let handle: TestLogHandle;
    const acked: Acknowledged[] = [];
    let round = 0;

    beforeAll(async () => {
      const opened = await backend.open();
      drop = opened.drop;
      faulty = new FaultyDb(opened.db);
      handle = await openTestLog(faulty, { config: { maxBatchEntries: 300 } });
      // Some history first, so that failures hit a tree with full and partial tiles.
      const bodies = Array.from({ length: 300 }, (_, i) => testEntry('history', i));
      fulfilled(await addAll(handle.log, bodies)).forEach((result, i) => acked.push({ body: bodies[i]!, result }));
    });
    afterAll(async () => {
      await handle.log.close();
      await drop();
    });

    it.each(FAULTS)('$name: nothing is acknowledged, the state reloads, appends go on', async ({ point, committed }) => {
      const { log } = handle;
      round++;
      const sizeBefore = (await log.getCheckpoint()).size;
      // A batch of new entries and one duplicate of an acknowledged entry.
      const bodies = Array.from({ length: 3 + round }, (_, i) => testEntry(`round ${round}`, i));
      faulty.armed = point;
      const failed = await addAll(log, [...bodies, acked[round]!.body]);
      expect(faulty.fired).toBe(round);
      for (const r of failed) expectRejected(r, 'batch_failed');
      // The next batch reloads the state first, then commits the retried and fresh entries.
      const fresh = testEntry(`round ${round}`, 1000);
      const retried = fulfilled(await addAll(log, [...bodies, fresh]));
      const expectedSize = sizeBefore + BigInt(bodies.length) + 1n;
      expect(retried.at(-1)!.size).toBe(expectedSize);
      retried.slice(0, bodies.length).forEach((r, i) => {
        expect(r.duplicate).toBe(committed); // an unknown outcome that did commit: the retry finds it
        expect(r.index).toBe(sizeBefore + BigInt(i));
        acked.push({ body: bodies[i]!, result: r });
      });
      acked.push({ body: fresh, result: retried.at(-1)! });
      for (const r of retried) verifyInclusion(r.leafHash, r.index, r.size, r.inclusionProof, r.root);
    });

    it('after every failure point, a C2SP client finds every acknowledged entry in one consistent tree', async () => {
      const size = (await handle.log.getCheckpoint()).size;
      expect(await verifyLogFromReadApi(handle.log, handle.signer, acked)).toBe(Number(size));
    });

    it('halts, signing nothing more, when the state it reloads after a failure does not verify', async () => {
      const { log, registry } = handle;
      const before = await log.getCheckpoint();
      const [tile] = await faulty.query<{ data: Uint8Array }>('SELECT data FROM log_tiles WHERE level = 0 ORDER BY idx DESC LIMIT 1');
      await faulty.query('UPDATE log_tiles SET data = $1 WHERE level = 0 AND idx = (SELECT max(idx) FROM log_tiles WHERE level = 0)', [
        flipBit(tile!.data, 0),
      ]);
      faulty.armed = { statement: 8, when: 'before' };
      expectRejected((await addAll(log, [testEntry('halt', 0)]))[0]!, 'batch_failed');
      // The reload before the next batch finds the corrupt tile: the sequencer halts.
      expectRejected((await addAll(log, [testEntry('halt', 1)]))[0]!, 'sequencer_halted');
      await expect(log.addEntry(testEntry('halt', 2))).rejects.toMatchObject({ code: 'sequencer_halted' });
      expect((await log.getCheckpoint()).checkpoint).toBe(before.checkpoint);
      expect((await faulty.query('SELECT size FROM log_checkpoints WHERE size > $1', [before.size])).length).toBe(0);
      const halted = (await registry.getSingleMetricAsString('vigil_log_sequencer_errors_total')).match(/code="sequencer_halted"} (\d+)/);
      expect(Number(halted?.[1])).toBeGreaterThan(0);
    });
  });
}

describe('two sequencers on one database (PGlite: one session, so both take the lock)', () => {
  it('the compare-and-swap refuses the stale one, which reloads and goes on', async () => {
    const { db, drop } = await openTestPglite();
    try {
      const a = await openTestLog(db);
      const b = await openTestLog(db, { signer: a.signer, init: false });
      expect(a.log.isLeader() && b.log.isLeader()).toBe(true);
      const acked: Acknowledged[] = [];
      const record = (bodies: Uint8Array[], results: PromiseSettledResult<AddEntryResult>[]) =>
        fulfilled(results).forEach((result, i) => acked.push({ body: bodies[i]!, result }));
      const a1 = [testEntry('a', 1)];
      record(a1, await addAll(a.log, a1));
      // b still believes the log is empty: its batch fails the compare-and-swap, nothing is signed.
      const b1 = [testEntry('b', 1)];
      expectRejected((await addAll(b.log, b1))[0]!, 'batch_failed');
      record(b1, await addAll(b.log, b1)); // reloaded: size 1 → 2
      expectRejected((await addAll(a.log, [testEntry('a', 2)]))[0]!, 'batch_failed');
      const a2 = [testEntry('a', 2)];
      record(a2, await addAll(a.log, a2));
      expect(acked.map((x) => x.result.index)).toEqual([0n, 1n, 2n]);
      expect(await verifyLogFromReadApi(a.log, a.signer, acked)).toBe(3);
      await a.log.close();
      await b.log.close();
    } finally {
      await drop();
    }
  });
});
