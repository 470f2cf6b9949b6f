// Tailer leader election on the machine's Redis: one holder per log, a second waits, takes over
// when the lease lapses, and always gets a larger fence, even above a fence the database holds.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, serviceAvailable } from '../test/services.ts';
import { localElector, redisElector } from './leader.ts';

const hasRedis = await serviceAvailable('redis');
const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

function elector(prefix: string, leaseMs: number) {
  const redis = new Redis(REDIS_URL);
  clients.push(redis);
  return redisElector(redis, { prefix, leaseMs });
}

describe.skipIf(!hasRedis)('redisElector', () => {
  it('gives one lease per name; the other waits until release, and the fence grows', async () => {
    const prefix = `vt${randomBytes(4).toString('hex')}`;
    const a = elector(prefix, 5000);
    const b = elector(prefix, 5000);
    const la = await a.tryAcquire('log1', 0n);
    expect(la).toBeDefined();
    expect(await b.tryAcquire('log1', 0n)).toBeUndefined();
    expect(await b.tryAcquire('log2', 0n)).toBeDefined();
    await la!.release();
    expect(la!.lost).toBe(true);
    const lb = await b.tryAcquire('log1', 0n);
    expect(lb!.fence).toBeGreaterThan(la!.fence);
    await lb!.release();
  });

  it('renews a held lease past its duration, and a lapsed one is taken over and reported lost', async () => {
    const prefix = `vt${randomBytes(4).toString('hex')}`;
    const a = elector(prefix, 600);
    const la = await a.tryAcquire('log', 0n);
    // Wait for a few lease durations: renewals keep it.
    await new Promise((r) => setTimeout(r, 1500));
    expect(la!.lost).toBe(false);
    expect(await elector(prefix, 600).tryAcquire('log', 0n)).toBeUndefined();
    // Someone deletes the lease (as expiry would after a pause): the next renewal notices.
    const raw = new Redis(REDIS_URL);
    clients.push(raw);
    await raw.del(`${prefix}:monitor:leader:log`);
    const lb = await elector(prefix, 600).tryAcquire('log', 0n);
    expect(lb).toBeDefined();
    for (let i = 0; i < 100 && !la!.lost; i++) await new Promise((r) => setTimeout(r, 20));
    expect(la!.lost).toBe(true);
    expect(lb!.fence).toBeGreaterThan(la!.fence);
    await lb!.release();
  });

  it('starts fences above the database fence when Redis lost its counter', async () => {
    const prefix = `vt${randomBytes(4).toString('hex')}`;
    const l = await elector(prefix, 5000).tryAcquire('log', 1000n);
    expect(l!.fence).toBe(1001n);
    await l!.release();
  });
});

describe('localElector', () => {
  it('always acquires, with fences above the given floor and increasing', async () => {
    const e = localElector(() => 5);
    const a = await e.tryAcquire('x', 0n);
    const b = await e.tryAcquire('x', 10n);
    const c = await e.tryAcquire('x', 0n);
    expect([a!.fence, b!.fence, c!.fence]).toEqual([5n, 11n, 12n]);
  });
});
