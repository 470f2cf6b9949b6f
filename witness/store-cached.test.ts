// CachedWitnessStore satisfies the WitnessStore contract over the memory and the SQL store, and its
// cache never makes the witness answer from a state the database does not hold for long: another
// writer behind its back costs one failed swap, after which it reads the truth.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db.ts';
import { hashLeaf } from '../tlog/merkle.ts';
import { openTestPglite } from '../test/db.ts';
import { itSatisfiesWitnessStoreContract } from '../test/witness-store-contract.ts';
import { forkedTestLogs, newTestWitness } from '../test/witness-log.ts';
import { processAddCheckpoint } from './add-checkpoint.ts';
import { migrateWitnessDb } from './schema.ts';
import { CachedWitnessStore } from './store-cached.ts';
import { MemoryWitnessStore } from './store-memory.ts';
import { PgWitnessStore } from './store-pg.ts';

const ROOT = (s: string) => hashLeaf(new TextEncoder().encode(s));

describe('CachedWitnessStore over MemoryWitnessStore', () => {
  itSatisfiesWitnessStoreContract(() => new CachedWitnessStore(new MemoryWitnessStore()));
});

describe('CachedWitnessStore over PgWitnessStore (PGlite)', () => {
  let db: Db;
  let drop: () => Promise<void>;
  let n = 0;
  beforeAll(async () => {
    ({ db, drop } = await openTestPglite());
    await migrateWitnessDb(db);
  });
  afterAll(async () => drop());
  itSatisfiesWitnessStoreContract(() => new CachedWitnessStore(new PgWitnessStore(db, `cached-${++n}`)));
});

describe('CachedWitnessStore with another writer behind its back', () => {
  it('serves its cached state until a swap fails, then reads the truth', async () => {
    const inner = new MemoryWitnessStore();
    const cached = new CachedWitnessStore(inner);
    await cached.compareAndSwap('o', undefined, { size: 1n, root: ROOT('1'), note: 'one\n' });
    await inner.compareAndSwap('o', { size: 1n, root: ROOT('1') }, { size: 2n, root: ROOT('2'), note: 'two\n' });
    expect((await cached.getLatest('o'))?.size).toBe(1n); // stale, by design
    expect(await cached.compareAndSwap('o', { size: 1n, root: ROOT('1') }, { size: 3n, root: ROOT('3'), note: 'x\n' })).toBe(false);
    expect((await cached.getLatest('o'))?.size).toBe(2n);
  });

  it('never lets the witness cosign a fork, even when another process moved the state', async () => {
    const [a, b] = forkedTestLogs('example.com/cached', 4, 12);
    const shared = new MemoryWitnessStore();
    const one = newTestWitness([{ origin: a.origin, vkeys: [a.vkey] }], { wrapStore: () => new CachedWitnessStore(shared) });
    const two = newTestWitness([{ origin: a.origin, vkeys: [a.vkey] }], { wrapStore: () => new CachedWitnessStore(shared) });
    expect((await processAddCheckpoint(await a.request(0n, 4n), one.deps)).status).toBe(200);
    expect((await processAddCheckpoint(await a.request(4n, 8n), two.deps)).status).toBe(200);
    // `one` still believes 4; fork B from 4 must not be cosigned: the swap fails, it re-reads 8.
    const res = await processAddCheckpoint(await b.request(4n, 10n), one.deps);
    expect(res.status).toBe(409);
    expect(res.body).toBe('8\n');
    expect((await shared.getLatest(a.origin))?.size).toBe(8n);
  });

  it('does not cache a read that raced a swap', async () => {
    const inner = new MemoryWitnessStore();
    await inner.compareAndSwap('o', undefined, { size: 1n, root: ROOT('1'), note: 'one\n' });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = { getLatest: async (o: string) => { const v = await inner.getLatest(o); await gate; return v; }, compareAndSwap: inner.compareAndSwap.bind(inner) };
    const cached = new CachedWitnessStore(slow);
    const read = cached.getLatest('o'); // reads 1, then waits
    await new Promise((r) => setImmediate(r));
    expect(await cached.compareAndSwap('o', { size: 1n, root: ROOT('1') }, { size: 2n, root: ROOT('2'), note: 'two\n' })).toBe(true);
    release();
    expect((await read)?.size).toBe(1n);
    expect((await cached.getLatest('o'))?.size).toBe(2n);
  });
});
