// Webhooks end to end (issue 6, "Done when"): a receiver on loopback checks each call's Standard
// Webhooks signature (HMAC-SHA256 over id, timestamp and body) and idempotency key, fails the first
// calls so the worker retries with backoff and the same key, and stops answering 2xx until the
// webhook is disabled. A webhook to 127.0.0.1 or localhost is refused unless the operator allows it.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db.ts';
import { silentLogger } from '../../platform/logger.ts';
import { createMetricsRegistry } from '../../platform/metrics.ts';
import { findingKey, insertFindings } from '../../monitor/findings.ts';
import { TUNABLE_DEFAULTS, type AlertsConfig } from '../../alerts/config.ts';
import { startAlerts, type StartedAlerts } from '../../alerts/main.ts';
import { callWebhook, isPublicAddress } from '../../alerts/webhook.ts';
import { openTestPg, openTestPglite } from '../db.ts';
import { serviceAvailable } from '../services.ts';
import { linkIn, postForm, postJson, startAlertsHttp, startTestSmtp, tokenOf, type TestSmtp } from './alerts-harness.ts';

const hasPostgres = await serviceAvailable('postgres');
const ORIGIN = 'log.vigil.test/hooks';
const clock = manualClock(Date.UTC(2026, 11, 4, 9, 0));
let smtp: TestSmtp;
let db: Db;
let drop: () => Promise<void>;
let alerts: StartedAlerts;
let mount: (router: Router) => void;
let base: string;
let config: AlertsConfig;
let registry = createMetricsRegistry({}, false);
let closeHttp: () => void;
const calls: { headers: IncomingHttpHeaders; body: string }[] = [];
const plan: number[] = [];
let receiver: Server;
let hookUrl = '';

beforeAll(async () => {
  smtp = await startTestSmtp();
  ({ db, drop } = hasPostgres ? await openTestPg('alerts_hook') : await openTestPglite());
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.push({ headers: req.headers, body });
      res.writeHead(plan.shift() ?? 200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const http = await startAlertsHttp();
  base = http.base;
  closeHttp = () => http.close();
  mount = (r) => http.mount(r);
  config = { ...TUNABLE_DEFAULTS, publicUrl: base, from: 'alerts@vigil.test', smtpUrl: smtp.url, outboxDir: '/nonexistent', webhookDisableAfterFailures: 3 };
  await start(false);
});

afterAll(async () => {
  await alerts?.stop();
  closeHttp?.();
  receiver?.close();
  await smtp?.close();
  await drop?.();
});

async function start(allowPrivateWebhooks: boolean) {
  await alerts?.stop();
  config = { ...config, allowPrivateWebhooks };
  registry = createMetricsRegistry({}, false);
  alerts = await startAlerts(config, { db, logger: silentLogger(), registry, clock, loop: false });
  mount(alerts.router);
}

function verifySignature(secret: string, h: IncomingHttpHeaders, body: string): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${String(h['webhook-id'])}.${String(h['webhook-timestamp'])}.${body}`).digest('base64');
  return h['webhook-signature'] === `v1,${expected}`;
}

describe('webhooks', () => {
  let manageToken = '';
  let secret = '';
  let ruleId = '';
  let subscriberId = '';

  const finding = (index: bigint) => ({
    key: findingKey(ORIGIN, index, ruleId), kind: 'key-used' as const, logOrigin: ORIGIN, index, ruleId, subscriberId,
    summary: 'key matches', details: { event: { identity: { kind: 'key', san: 'ab'.repeat(32) }, keyFingerprint: 'ab'.repeat(32) }, value: 'ab'.repeat(32), reason: 'key matches' },
    observedAt: new Date(clock.nowMs()),
  });

  it('refuses webhooks to loopback and private addresses by default', async () => {
    expect(await postJson(`${base}/api/v1/subscriptions`, { email: 'dev@example.com', rules: [{ target: 'key', match: 'exact', pattern: 'ab'.repeat(32) }] })).toMatchObject({ status: 202 });
    await alerts.worker!.runOnce();
    const confirmed = await postForm(`${base}/confirm`, { token: tokenOf(linkIn(smtp.mails[0]!.text, '/confirm?token=')) });
    manageToken = tokenOf(linkIn(confirmed.body.replaceAll('&amp;', '&'), '/manage?token='));
    const rule = (await alerts.ruleSource.current()).rules.rules[0]!;
    [ruleId, subscriberId] = [`r:${rule.id}`, rule.subscriberId];
    for (const url of [hookUrl, hookUrl.replace('127.0.0.1', 'localhost'), 'http://[::1]/x', 'http://169.254.169.254/latest', 'http://10.1.2.3/', 'http://[::ffff:127.0.0.1]/']) {
      const res = await postForm(`${base}/manage/webhooks`, { token: manageToken, url });
      expect(res.status, url).toBe(400);
    }
    expect(['8.8.8.8', '2606:4700::1111'].every(isPublicAddress)).toBe(true);
    expect(['127.0.0.1', '::1', '192.168.1.1', 'fe80::1', '::ffff:10.0.0.1', '100.64.0.1'].some(isPublicAddress)).toBe(false);
    // Checked again at every call: a row that got past the form is still refused.
    const refused = await callWebhook(hookUrl, 'whsec_AAAA', 'msg_1', '{}', { nowMs: clock.nowMs(), timeoutMs: 5000, allowPrivate: false });
    expect(refused).toMatchObject({ ok: false, refused: true });
    expect(calls).toHaveLength(0);
  });

  it('signs every call, retries with backoff under one idempotency key, and sends once after success', async () => {
    await start(true); // the operator allows private addresses
    const added = await postForm(`${base}/manage/webhooks`, { token: manageToken, url: hookUrl });
    expect(added.status).toBe(200);
    secret = /whsec_[A-Za-z0-9+/=]+/.exec(added.body)![0];
    plan.push(500, 503);
    await db.transaction((tx) => insertFindings(tx, [finding(7n)]));
    await alerts.worker!.runOnce();
    expect(calls).toHaveLength(1);
    await alerts.worker!.runOnce();
    expect(calls).toHaveLength(1); // not due before the backoff
    clock.advance(config.webhookBackoffMs);
    await alerts.worker!.runOnce();
    expect(calls).toHaveLength(2);
    clock.advance(2 * config.webhookBackoffMs);
    await alerts.worker!.runOnce();
    expect(calls).toHaveLength(3);
    clock.advance(100 * config.webhookBackoffMs);
    await alerts.worker!.runOnce();
    expect(calls).toHaveLength(3);
    const ids = new Set(calls.map((c) => c.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect(calls.every((c) => c.headers['idempotency-key'] === c.headers['webhook-id'])).toBe(true);
    expect(calls.every((c) => verifySignature(secret, c.headers, c.body))).toBe(true);
    expect(verifySignature(secret, { ...calls[0]!.headers, 'webhook-timestamp': '1' }, calls[0]!.body)).toBe(false);
    const body = JSON.parse(calls[2]!.body) as { type: string; finding: { index: string; kind: string } };
    expect(body).toMatchObject({ type: 'vigil.alert', finding: { index: '7', kind: 'key-used' } });
    const metrics = await registry.getSingleMetricAsString('vigil_alerts_webhooks_total');
    expect(metrics).toContain('result="retried"} 2');
    expect(metrics).toContain('result="sent"} 1');
  });

  it('disables a webhook after repeated failures and then calls it no more', async () => {
    plan.push(500, 500, 500, 500, 500);
    const before = calls.length;
    await db.transaction((tx) => insertFindings(tx, [finding(8n)]));
    for (let i = 0; i < 5; i++) {
      await alerts.worker!.runOnce();
      clock.advance(64 * config.webhookBackoffMs);
    }
    expect(calls.length - before).toBe(config.webhookDisableAfterFailures);
    const page = await fetch(`${base}/manage?token=${encodeURIComponent(manageToken)}`);
    expect(await page.text()).toContain('disabled after 3 failed calls in a row');
    await db.transaction((tx) => insertFindings(tx, [finding(9n)]));
    await alerts.worker!.runOnce();
    expect(calls.length - before).toBe(config.webhookDisableAfterFailures);
    expect(await registry.getSingleMetricAsString('vigil_alerts_webhooks_disabled_total')).toMatch(/ 1$/m);
  });
});
