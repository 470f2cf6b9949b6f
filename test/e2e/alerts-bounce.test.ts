// Late bounces end to end: alert mail leaves a real SMTP relay on loopback with a VERP envelope
// sender; a delivery status notification (RFC 3464) sent by nodemailer over real SMTP to the
// bounce listener pauses mail to the address, once per message. Forged VERP addresses are refused
// at RCPT TO; delayed notices, auto-replies and oversized mail do not count.
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db.ts';
import { silentLogger } from '../../platform/logger.ts';
import { createMetricsRegistry } from '../../platform/metrics.ts';
import { findingKey, insertFindings } from '../../monitor/findings.ts';
import { MAX_BOUNCE_BYTES, parseVerp, startBounceListener, type BounceListener } from '../../alerts/bounces.ts';
import { TUNABLE_DEFAULTS, type AlertsConfig } from '../../alerts/config.ts';
import { startAlerts, type StartedAlerts } from '../../alerts/main.ts';
import { BOUNCE_PAUSES_MS } from '../../alerts/sender.ts';
import { openTestPg, openTestPglite } from '../db.ts';
import { serviceAvailable } from '../services.ts';
import { linkIn, postForm, postJson, startAlertsHttp, startTestSmtp, tokenOf, type AlertsHttp, type TestSmtp } from './alerts-harness.ts';

const hasPostgres = await serviceAvailable('postgres');
const ORIGIN = 'log.vigil.test/bounces';
const BOUNCES = 'bounces@bounce.vigil.test';
const DAVE = 'dave@example.com';

/** dsn is a delivery status notification for `to` as an MTA writes it (RFC 3464 multipart/report). */
function dsn(to: string, action: string, status: string): string {
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.com>',
    `To: ${to}`,
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Your message could not be delivered.',
    '',
    '--b1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.com',
    'Arrival-Date: Sat, 5 Dec 2026 10:00:00 +0000',
    '',
    `Final-Recipient: rfc822; ${DAVE}`,
    `Original-Recipient: rfc822;${DAVE}`,
    `Action: ${action}`,
    `Status: ${status}`,
    'Diagnostic-Code: smtp; 550 5.1.1 <dave@example.com>: Recipient address',
    '  rejected: User unknown in virtual mailbox table',
    '',
    '--b1',
    'Content-Type: text/rfc822-headers',
    '',
    'Subject: [vigil alert] something',
    '',
    '--b1--',
    '',
  ].join('\r\n');
}

describe('late bounces on PGlite', () => suite(openTestPglite));
describe.skipIf(!hasPostgres)('late bounces on PostgreSQL', () => suite(() => openTestPg('alerts_bounce')));

function suite(open: () => Promise<{ db: Db; drop: () => Promise<void> }>) {
  const clock = manualClock(Date.UTC(2026, 11, 5, 10, 0));
  let smtp: TestSmtp;
  let db: Db;
  let drop: () => Promise<void>;
  let alerts: StartedAlerts;
  let listener: BounceListener;
  let http: AlertsHttp;
  let base: string;
  let config: AlertsConfig;
  const registry = createMetricsRegistry({}, false);

  beforeAll(async () => {
    smtp = await startTestSmtp();
    ({ db, drop } = await open());
    http = await startAlertsHttp();
    base = http.base;
    config = { ...TUNABLE_DEFAULTS, publicUrl: base, from: 'Vigil alerts <alerts@vigil.test>', smtpUrl: smtp.url, outboxDir: '/nonexistent', bounceAddress: BOUNCES };
    alerts = await startAlerts(config, { db, logger: silentLogger(), registry, clock, loop: false });
    http.mount(alerts.router);
    listener = await startBounceListener(alerts.context, '127.0.0.1', 0);
  });

  afterAll(async () => {
    await listener?.close();
    await alerts?.stop();
    http?.close();
    await smtp?.close();
    await drop?.();
  });

  /** sendTo delivers raw mail to the bounce listener with a null envelope sender, as MTAs send DSNs. */
  async function sendTo(rcpt: string, raw: string): Promise<void> {
    const t = nodemailer.createTransport({ url: listener.url, ignoreTLS: true } as never);
    try {
      await t.sendMail({ envelope: { from: '', to: [rcpt] }, raw });
    } finally {
      t.close();
    }
  }

  async function subscriber() {
    return (await db.query<{ bounces: number; mail_paused_until: Date | null; state: string }>('SELECT bounces, mail_paused_until, state FROM alerts_subscribers WHERE email_key = $1', [DAVE]))[0]!;
  }

  async function sendCode(rcpt: string, raw: string): Promise<number | undefined> {
    return sendTo(rcpt, raw).then(() => undefined, (err: { responseCode?: number }) => err.responseCode ?? -1);
  }

  it('sends every mail with a VERP envelope sender, and counts a permanent failure once per message', async () => {
    expect((await postJson(`${base}/api/v1/subscriptions`, { email: DAVE, rules: [{ target: 'identity', match: 'exact', pattern: DAVE }] })).status).toBe(202);
    await alerts.worker!.runOnce();
    const confirmMail = smtp.mails.at(-1)!;
    expect(confirmMail.to).toEqual([DAVE]);
    expect(confirmMail.from).toMatch(/^bounces\+[1-9][0-9]*\.[0-9a-f]{32}@bounce\.vigil\.test$/);
    expect((await postForm(`${base}/confirm`, { token: tokenOf(linkIn(confirmMail.text, '/confirm?token=')) })).status).toBe(200);
    const rule = (await alerts.ruleSource.current()).rules.rules[0]!;
    const ruleId = `r:${rule.id}`;
    await db.transaction((tx) => insertFindings(tx, [{
      key: findingKey(ORIGIN, 3n, ruleId), kind: 'identity-used', logOrigin: ORIGIN, index: 3n, ruleId, subscriberId: rule.subscriberId,
      summary: 'identity matches', details: { event: { identity: { kind: 'email', san: DAVE, issuer: 'https://accounts.example.com', ci: {} }, keyFingerprint: 'ab'.repeat(32) }, value: DAVE, reason: 'identity matches' },
      observedAt: new Date(clock.nowMs()),
    }]));
    await alerts.worker!.runOnce();
    const alertMail = smtp.mails.at(-1)!;
    expect(alertMail.headers.get('subject')).toContain('[vigil alert]');
    const verp = alertMail.from;
    expect(parseVerp(BOUNCES, verp)).toBeDefined();
    expect(verp).not.toBe(confirmMail.from);

    // A delayed notice (4.x.x) and an auto-reply are taken and ignored.
    await sendTo(verp, dsn(verp, 'delayed', '4.4.7'));
    await sendTo(verp, 'From: dave@example.com\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nBack on Monday.\r\n');
    expect((await subscriber()).bounces).toBe(0);

    // The permanent failure pauses mail to the address; the same DSN again changes nothing.
    await sendTo(verp, dsn(verp, 'failed', '5.1.1'));
    const after = await subscriber();
    expect(after.bounces).toBe(1);
    expect(after.mail_paused_until?.getTime()).toBe(clock.nowMs() + BOUNCE_PAUSES_MS[0]!);
    await sendTo(verp, dsn(verp, 'failed', '5.1.1'));
    expect((await subscriber()).bounces).toBe(1);
    // A failure for another message of the address counts (the ladder goes on).
    await sendTo(confirmMail.from, dsn(confirmMail.from, 'Failed', '5.2.2 (mailbox full)'));
    expect((await subscriber()).bounces).toBe(2);
    const metrics = await registry.getSingleMetricAsString('vigil_alerts_late_bounces_total');
    expect(metrics).toContain('result="bounce"} 2');
    expect(metrics).toContain('result="duplicate"} 1');
    expect(metrics).toContain('result="ignored"} 2');
  });

  it('refuses forged and foreign addresses at RCPT TO and oversized mail at DATA', async () => {
    const verp = smtp.mails.at(-1)!.from;
    const { id, token } = parseVerp(BOUNCES, verp)!;
    const other = token.startsWith('0') ? `1${token.slice(1)}` : `0${token.slice(1)}`;
    expect(await sendCode(`bounces+${id}.${other}@bounce.vigil.test`, dsn(DAVE, 'failed', '5.1.1'))).toBe(550);
    expect(await sendCode(`bounces+${id + 1000n}.${token}@bounce.vigil.test`, dsn(DAVE, 'failed', '5.1.1'))).toBe(550);
    expect(await sendCode(`bounces+${id}.${token}@elsewhere.example`, dsn(DAVE, 'failed', '5.1.1'))).toBe(550);
    expect(await sendCode(DAVE, dsn(DAVE, 'failed', '5.1.1'))).toBe(550);
    expect(await sendCode(verp, `Subject: big\r\n\r\n${'x'.repeat(MAX_BOUNCE_BYTES)}\r\n`)).toBe(552);
    expect((await subscriber()).bounces).toBe(2);
  });
}
