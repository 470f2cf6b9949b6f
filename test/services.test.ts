// The services every later component stores in: PostgreSQL (log, witness, monitor, alerts) and
// Redis (BullMQ). This test proves the harness talks to the real servers CI starts.
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { POSTGRES_URL, REDIS_URL, serviceAvailable } from './services.ts';

const hasPostgres = await serviceAvailable('postgres');
const hasRedis = await serviceAvailable('redis');

describe.skipIf(!hasPostgres)('PostgreSQL (skipped where it does not answer, never under CI)', () => {
  it('answers a parameterised query', async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const res = await client.query<{ n: number }>('SELECT $1::int + 1 AS n', [41]);
      expect(res.rows[0]?.n).toBe(42);
    } finally {
      await client.end();
    }
  });
});

describe.skipIf(!hasRedis)('Redis (skipped where it does not answer, never under CI)', () => {
  it('stores and reads back a key', async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const key = `vigil:test:${process.pid}:${Date.now()}`;
      await redis.set(key, 'ok', 'EX', 10);
      expect(await redis.get(key)).toBe('ok');
      await redis.del(key);
    } finally {
      redis.disconnect();
    }
  });
});
