// Production mode: two alert workers (as on two machines) share one PostgreSQL and one BullMQ queue
// on Redis. The fan-out runs once (the cursor row lock), every due message becomes one job, and the
// SQL claim lets exactly one worker send it: every finding arrives once, none twice.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../platform/clock.ts';
import { silentLogger } from '../../platform/logger.ts';
import { createMetricsRegistry } from '../../platform/metrics.ts';
import { openQueue } from '../../platform/queue.ts';
import { findingKey, insertFindings, type Finding } from '../../monitor/findings.ts';
import { TUNABLE_DEFAULTS, type AlertsConfig } from '../../alerts/config.ts';
import { startAlerts } from '../../alerts/main.ts';
import type { SendJob } from '../../alerts/worker.ts';
import { openTestPg } from '../db.ts';
import { REDIS_URL, serviceAvailable } from '../services.ts';
import { startTestSmtp } from './alerts-harness.ts';

const ready = (await serviceAvailable('postgres')) && (await serviceAvailable('redis'));
const KEY = 'cd'.repeat(32);
const prefix = `vigil-test-alerts-${randomBytes(4).toString('hex')}`;

afterAll(async () => {
  if (!ready) return;
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

function finding(index: bigint): Finding {
  return {
    key: findingKey('log.vigil.test/q', index, 'r:w_q'), kind: 'key-used', logOrigin: 'log.vigil.test/q', index, ruleId: 'r:w_q', subscriberId: 's_q',
    summary: 'key matches', details: { event: { keyFingerprint: KEY, identity: { kind: 'key', san: KEY } }, value: KEY, reason: 'key matches' }, observedAt: new Date(),
  };
}

describe.skipIf(!ready)('alert workers on BullMQ', () => {
  it('deliver each finding once across two workers', async () => {
    const smtp = await startTestSmtp();
    const { db, drop } = await openTestPg('alerts_queue');
    const config: AlertsConfig = { ...TUNABLE_DEFAULTS, publicUrl: 'http://alerts.vigil.test', from: 'alerts@vigil.test', smtpUrl: smtp.url, outboxDir: '/nonexistent' };
    const queues = await Promise.all([0, 1].map(() => openQueue<SendJob>({ name: 'alerts-send', redisUrl: REDIS_URL, prefix })));
    const workers = await Promise.all(queues.map((queue) => startAlerts(config, { db, logger: silentLogger(), registry: createMetricsRegistry({}, false), clock: systemClock, queue, loop: false })));
    try {
      await db.query(`INSERT INTO alerts_subscribers (id, email, email_key, state, delivery, follow_logs, created_at) VALUES ('s_q', 'q@example.com', 'q@example.com', 'confirmed', 'immediate', '[]', now())`);
      await db.query(`INSERT INTO alerts_rules (id, subscriber_id, kind, body, created_at) VALUES ('w_q', 's_q', 'rule', $1, now())`, [JSON.stringify({ id: 'w_q', subscriberId: 's_q', target: 'key', match: 'exact', pattern: KEY })]);
      await db.transaction((tx) => insertFindings(tx, Array.from({ length: 20 }, (_, i) => finding(BigInt(i)))));
      await Promise.all(workers.map((w) => w.worker!.runOnce()));
      await Promise.all(workers.map((w) => w.worker!.runOnce())); // a second pass queues nothing new
      const end = Date.now() + 60_000;
      for (;;) {
        const rows = await db.query<{ n: bigint }>(`SELECT count(*)::int8 AS n FROM alerts_messages WHERE state = 'sent'`);
        if (rows[0]!.n === 20n) break;
        if (Date.now() > end) throw new Error(`only ${rows[0]!.n} of 20 sent`);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(smtp.mails).toHaveLength(20);
      const ids = smtp.mails.map((m) => m.headers.get('message-id'));
      expect(new Set(ids).size).toBe(20);
      expect((await db.query<{ n: bigint }>('SELECT count(*)::int8 AS n FROM alerts_messages'))[0]!.n).toBe(20n);
    } finally {
      for (const w of workers) await w.stop();
      for (const q of queues) await q.close();
      await smtp.close();
      await drop();
    }
  });
});
