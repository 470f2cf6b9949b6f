// Both JobQueue implementations, through the same cases: the in-process queue, and BullMQ on the
// machine's Redis (fresh key prefix per run).
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, serviceAvailable } from '../test/services.ts';
import { openQueue, UnrecoverableJobError, type JobQueue } from './queue.ts';

const hasRedis = await serviceAvailable('redis');
const opened: JobQueue<unknown>[] = [];

async function fresh<T>(kind: 'memory' | 'bullmq'): Promise<JobQueue<T>> {
  const name = `q-${randomBytes(4).toString('hex')}`;
  const q = await openQueue<T>({
    name,
    attempts: 3,
    backoffMs: 10,
    ...(kind === 'bullmq' ? { redisUrl: REDIS_URL, prefix: `vigiltest-${randomBytes(4).toString('hex')}` } : {}),
  });
  opened.push(q as JobQueue<unknown>);
  return q;
}

afterAll(async () => {
  for (const q of opened) await q.close();
});

// until waits for a condition the handlers make true (no timing assertion: it only bounds the wait).
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error('condition never became true');
}

for (const kind of ['memory', 'bullmq'] as const) {
  describe.skipIf(kind === 'bullmq' && !hasRedis)(`queue (${kind})`, () => {
    it('runs each job once, and ignores a second add of a waiting id', async () => {
      const q = await fresh<{ n: number }>(kind);
      const seen: number[] = [];
      await q.add([{ id: 'a', data: { n: 1 } }, { id: 'b', data: { n: 2 } }, { id: 'a', data: { n: 99 } }]);
      const c = q.consume(async (job) => {
        seen.push(job.data.n);
      }, { concurrency: 2 });
      await until(() => seen.length >= 2);
      await c.close();
      expect(seen.sort()).toEqual([1, 2]);
    });

    it('retries a job that throws, with the attempt count, until it succeeds', async () => {
      const q = await fresh<string>(kind);
      const attempts: number[] = [];
      let done = false;
      const c = q.consume(async (job) => {
        attempts.push(job.attemptsMade);
        if (job.attemptsMade < 2) throw new Error('transient');
        done = true;
      });
      await q.add([{ id: 'x', data: 'payload' }]);
      await until(() => done);
      await c.close();
      expect(attempts).toEqual([0, 1, 2]);
    });

    it('fails an unrecoverable job without retrying it', async () => {
      const q = await fresh<string>(kind);
      const runs: string[] = [];
      const c = q.consume(async (job) => {
        runs.push(job.id);
        if (job.id === 'bad') throw new UnrecoverableJobError('never');
      });
      await q.add([{ id: 'bad', data: '' }]);
      await q.add([{ id: 'good', data: '' }]);
      await until(() => runs.includes('good'));
      // Wait for the queue to settle: nothing waiting, active or delayed.
      await until(() => runs.length >= 2);
      for (let i = 0; i < 50; i++) {
        const n = await q.counts();
        if (n.waiting + n.active + n.delayed === 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await c.close();
      expect(runs.filter((r) => r === 'bad')).toEqual(['bad']);
    });

    it('hands a job JSON data, not the producer object', async () => {
      const q = await fresh<{ s: string; list: string[] }>(kind);
      const data = { s: '18446744073709551615', list: ['a'] };
      let got: unknown;
      const c = q.consume(async (job) => {
        got = job.data;
      });
      await q.add([{ id: 'j', data }]);
      await until(() => got !== undefined);
      await c.close();
      expect(got).toEqual(data);
      expect(got).not.toBe(data);
    });
  });
}
