// Alerts by mail, end to end over real HTTP and a real SMTP server on loopback (issue 6, "Done
// when"): double opt-in, a GET on the confirm link confirms nothing, alert mails with the RFC 8058 /
// 2369 / 2919 / 3834 headers and escaped HTML, digests that group alerts, one-click unsubscribe by
// POST, confirmation rate limits, and no duplicate after a worker restart or at any crash point.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db.ts';
import { silentLogger } from '../../platform/logger.ts';
import { createMetricsRegistry } from '../../platform/metrics.ts';
import { findingKey, insertFindings, logFindingKey, type Finding } from '../../monitor/findings.ts';
import { buildRuleIndex } from '../../monitor/rule-index.ts';
import { TUNABLE_DEFAULTS, type AlertsConfig } from '../../alerts/config.ts';
import { startAlerts, type StartedAlerts } from '../../alerts/main.ts';
import { smtpTransport, type MailTransport } from '../../alerts/transport.ts';
import { openTestPg, openTestPglite } from '../db.ts';
import { serviceAvailable } from '../services.ts';
import { linkIn, postForm, postJson, startAlertsHttp, startTestSmtp, tokenOf, type TestSmtp } from './alerts-harness.ts';

const hasPostgres = await serviceAvailable('postgres');
const ORIGIN = 'log.vigil.test/alerts';
const T0 = Date.UTC(2026, 11, 4, 10, 30);
const ALICE = 'alice@example.com';
const clock = manualClock(T0);
let smtp: TestSmtp;
let db: Db;
let drop: () => Promise<void>;
let alerts: StartedAlerts;
let base: string;
let config: AlertsConfig;
let closeHttp: () => void;
let mountRouter: (a: StartedAlerts) => void;
let registry = createMetricsRegistry({}, false);

/** restart stops the worker and starts a new one on the same database (a process restart). */
async function restart(transport?: MailTransport): Promise<void> {
  await alerts.stop();
  registry = createMetricsRegistry({}, false);
  alerts = await startAlerts(config, { db, logger: silentLogger(), registry, clock, loop: false, ...(transport ? { transport } : {}) });
  mountRouter(alerts);
}

function mailsTo(addr: string) {
  return smtp.mails.filter((m) => m.to.includes(addr));
}

async function watchRuleOf(subscriberEmail: string, target: string) {
  const { rules } = (await alerts.ruleSource.current()).rules;
  const sub = (await db.query<{ id: string }>('SELECT id FROM alerts_subscribers WHERE email_key = $1', [subscriberEmail]))[0]!;
  return rules.find((r) => r.subscriberId === sub.id && r.target === target)!;
}

function identityFinding(index: bigint, ruleId: string, subscriberId: string, extra: Record<string, unknown> = {}): Finding {
  return {
    key: findingKey(ORIGIN, index, ruleId), kind: 'identity-used', logOrigin: ORIGIN, index, ruleId, subscriberId,
    summary: `identity "${ALICE}" matches exact "${ALICE}"`,
    details: {
      event: {
        logOrigin: ORIGIN, index: index.toString(), integratedTimeSec: 1_790_000_000, entryKind: 'dsse', keyFingerprint: 'ab'.repeat(32),
        identity: { kind: 'email', san: ALICE, issuer: 'https://accounts.example.com', ci: { workflow: 'org/repo/.github/workflows/release.yml' } },
        artifactDigests: [{ algorithm: 'sha256', hex: 'cd'.repeat(32) }],
        namespaces: [{ kind: 'purl', value: 'pkg:npm/<img src=x onerror=alert(1)>' }],
        ...extra,
      },
      value: ALICE,
      reason: `identity "${ALICE}" matches exact "${ALICE}"`,
    },
    observedAt: new Date(clock.nowMs()),
  };
}

async function addFindings(...fs: Finding[]) {
  await db.transaction((tx) => insertFindings(tx, fs));
}

beforeAll(async () => {
  smtp = await startTestSmtp();
});
afterAll(async () => {
  await smtp?.close();
});

describe('alerts by mail on PGlite', () => suite(openTestPglite));
describe.skipIf(!hasPostgres)('alerts by mail on PostgreSQL', () => suite(() => openTestPg('alerts_mail')));

function suite(open: () => Promise<{ db: Db; drop: () => Promise<void> }>) {
  beforeAll(async () => {
    ({ db, drop } = await open());
    clock.set(T0);
    smtp.mails.length = 0;
    const http = await startAlertsHttp();
    base = http.base;
    closeHttp = () => http.close();
    config = { ...TUNABLE_DEFAULTS, publicUrl: base, from: 'Vigil alerts <alerts@vigil.test>', smtpUrl: smtp.url, outboxDir: '/nonexistent', confirmationsPerClientPerHour: 50 };
    mountRouter = (a) => http.mount(a.router);
    registry = createMetricsRegistry({}, false);
    alerts = await startAlerts(config, { db, logger: silentLogger(), registry, clock, loop: false });
    mountRouter(alerts);
  });

  afterAll(async () => {
    await alerts?.stop();
    closeHttp?.();
    await drop?.();
  });


  let confirmLink = '';

  it('answers a subscribe request the same for any address and mails a confirmation', async () => {
    const request = {
      email: ALICE,
      rules: [{ target: 'identity', match: 'exact', pattern: ALICE }],
      policies: [{ namespace: 'pkg:npm/foo', allowedSigners: [{ issuer: 'https://token.actions.githubusercontent.com', identity: { match: 'glob', pattern: 'https://github.com/org/foo/**' } }] }],
    };
    const first = await postJson(`${base}/api/v1/subscriptions`, request);
    const other = await postJson(`${base}/api/v1/subscriptions`, { ...request, email: 'bob@example.com' });
    expect(first.status).toBe(202);
    expect(other).toEqual(first);
    const bad = await postJson(`${base}/api/v1/subscriptions`, { ...request, rules: [{ target: 'identity', match: 'regex', pattern: '(a)\\1' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_rules');
    await alerts.worker!.runOnce();
    const mail = mailsTo(ALICE);
    expect(mail).toHaveLength(1);
    expect(mail[0]!.headers.get('subject')).toContain('Confirm');
    expect(mail[0]!.headers.get('auto-submitted')).toBe('auto-generated');
    confirmLink = linkIn(mail[0]!.text, '/confirm?token=');
    expect(mail[0]!.html).toContain(confirmLink.replaceAll('&', '&amp;'));
    expect((await alerts.ruleSource.current()).rules.rules).toHaveLength(0);
  });

  it('confirms nothing on a GET of the confirm link, and confirms on the POST from its page', async () => {
    const page = await fetch(confirmLink);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<form method="post" action="\/alerts\/confirm">/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await db.query<{ state: string }>('SELECT state FROM alerts_subscribers WHERE email_key = $1', [ALICE]))[0]!.state).toBe('pending');
    expect((await alerts.ruleSource.current()).rules.rules).toHaveLength(0);
    // Change the last character (to another one: a token ending in 'A' made this pass 1 time in 64).
    const token = tokenOf(confirmLink);
    const forged = await postForm(`${base}/confirm`, { token: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` });
    expect(forged.status).toBe(403);
    const done = await postForm(`${base}/confirm`, { token: tokenOf(confirmLink) });
    expect(done.status).toBe(200);
    expect(done.body).toContain('/manage?token=');
    const rules = (await alerts.ruleSource.current()).rules;
    expect(rules.rules.map((r) => r.pattern)).toEqual([ALICE]);
    expect(rules.policies.map((p) => p.namespace)).toEqual(['pkg:npm/foo']);
  });

  it('mails an alert with list headers, the facts, escaped HTML and the links', async () => {
    const rule = await watchRuleOf(ALICE, 'identity');
    await addFindings(identityFinding(7n, `r:${rule.id}`, rule.subscriberId));
    await alerts.worker!.runOnce();
    const alert = mailsTo(ALICE).at(-1)!;
    expect(alert.headers.get('subject')).toContain('[vigil alert]');
    expect(alert.headers.get('list-unsubscribe')).toMatch(new RegExp(`^<${base}/unsubscribe\\?token=[A-Za-z0-9_.%-]+>$`));
    expect(alert.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(alert.headers.get('list-id')).toBe('Vigil alerts <alerts.vigil.test>');
    expect(alert.headers.get('auto-submitted')).toBe('auto-generated');
    expect(alert.headers.get('content-type')).toContain('multipart/alternative');
    for (const fact of [ORIGIN, 'entry index:', '7', ALICE, 'https://accounts.example.com', 'org/repo/.github/workflows/release.yml', `sha256:${'cd'.repeat(32)}`, 'rule matched:', 'logIndex=7']) {
      expect(alert.text).toContain(fact);
    }
    expect(alert.html).not.toContain('<img src=x');
    expect(alert.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(alert.text).toContain('/manage?token=');
  });

  it('mails a precertificate and the entry signed with its certificate as one alert; a lone precertificate after the grace', async () => {
    const rule = await watchRuleOf(ALICE, 'identity');
    const ruleId = `r:${rule.id}`;
    const precert = (index: bigint, keyFingerprint: string) => identityFinding(index, ruleId, rule.subscriberId, { keyFingerprint, entryKind: 'precertificate', artifactDigests: [] });
    const n = mailsTo(ALICE).length;
    // The CA logs the precertificate, then the signer logs the signature made with the certificate.
    await addFindings(precert(40n, 'e1'.repeat(32)));
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n);
    clock.advance(5_000);
    await addFindings(identityFinding(41n, ruleId, rule.subscriberId, { keyFingerprint: 'e1'.repeat(32) }));
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n + 1);
    const merged = mailsTo(ALICE).at(-1)!;
    expect(merged.text).toContain('logIndex=41');
    expect(merged.text).toMatch(/certificate logged: +log\.vigil\.test\/alerts at index 40 \(precertificate\)/);
    clock.advance(config.certificateGraceMs);
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n + 1);

    // A precertificate whose certificate signs nothing (in time) is mailed alone when the grace ends.
    await addFindings(precert(42n, 'e2'.repeat(32)));
    await alerts.worker!.runOnce();
    clock.advance(config.certificateGraceMs - 1);
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n + 1);
    clock.advance(1);
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n + 2);
    const lone = mailsTo(ALICE).at(-1)!;
    expect(lone.text).toContain('logIndex=42');
    expect(lone.text).toContain('precertificate: the CA logged a certificate it issued for this identity');
    expect(lone.text).toContain(`no entry signed with this certificate was logged within ${config.certificateGraceMs / 1000} s`);

    // The signature came first (it may be read from another log): its precertificate is not mailed again.
    await addFindings(identityFinding(44n, ruleId, rule.subscriberId, { keyFingerprint: 'e3'.repeat(32) }));
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n + 3);
    await addFindings(precert(43n, 'e3'.repeat(32)));
    clock.advance(config.certificateGraceMs);
    await alerts.worker!.runOnce();
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n + 3);
    // Each finding is still a delivery, listed on the manage page.
    const delivered = await db.query<{ finding_key: string }>('SELECT finding_key FROM alerts_deliveries WHERE subscriber_id = $1', [rule.subscriberId]);
    for (const i of [40n, 41n, 42n, 43n, 44n]) expect(delivered.map((d) => d.finding_key)).toContain(findingKey(ORIGIN, i, ruleId));
  });

  it('sends no duplicate after a restart, at a crash after the send, or after a claim whose sender died', async () => {
    const rule = await watchRuleOf(ALICE, 'identity');
    const before = mailsTo(ALICE).length;
    await restart();
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(before); // nothing new to send: the first worker's mail stays sent
    // Crash point: the relay took the mail, then the process died before recording it.
    const real = smtpTransport(smtp.url);
    await restart({ idempotent: false, send: async (...a) => { await real.send(...a); throw new Error('process died after the send'); }, close: () => real.close() });
    await addFindings(identityFinding(8n, `r:${rule.id}`, rule.subscriberId));
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(before + 1);
    await restart();
    clock.advance(config.sendLeaseMs + config.mailBackoffMs * 64);
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(before + 1);
    // Crash point: claimed ('sending' committed), then the sender died; its lease ends.
    await addFindings(identityFinding(9n, `r:${rule.id}`, rule.subscriberId));
    await alerts.worker!.runOnce();
    const n = mailsTo(ALICE).length;
    const [queued] = await db.query<{ id: bigint }>(`SELECT id FROM alerts_messages WHERE state = 'sent' ORDER BY id DESC LIMIT 1`);
    await db.query(`UPDATE alerts_messages SET state = 'sending', lease_until = $2 WHERE id = $1`, [queued!.id, new Date(clock.nowMs() + 1000)]);
    clock.advance(2000);
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n);
    expect((await db.query<{ state: string }>('SELECT state FROM alerts_messages WHERE id = $1', [queued!.id]))[0]!.state).toBe('unknown');
    // A stated refusal (no connection) is retried after the backoff and sent once.
    await restart({ idempotent: false, send: async () => { const { MailSendError } = await import('../../alerts/transport.ts'); throw new MailSendError('connect ECONNREFUSED', true, false, false); }, close: () => undefined });
    await addFindings(identityFinding(10n, `r:${rule.id}`, rule.subscriberId));
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n);
    await restart();
    clock.advance(config.mailBackoffMs);
    await alerts.worker!.runOnce();
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n + 1);
    const ids = smtp.mails.map((m) => m.headers.get('message-id'));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('groups alerts into one digest mail per hour', async () => {
    const manage = linkIn(mailsTo(ALICE).at(-1)!.text, '/manage?token=');
    const saved = await postForm(`${base}/manage/delivery`, { token: tokenOf(manage), delivery: 'hourly', logs: '*' });
    expect(saved.status).toBe(200);
    const rule = await watchRuleOf(ALICE, 'identity');
    clock.set(Date.UTC(2026, 11, 4, 11, 10));
    const n = mailsTo(ALICE).length;
    await addFindings(identityFinding(20n, `r:${rule.id}`, rule.subscriberId), identityFinding(21n, `r:${rule.id}`, rule.subscriberId));
    await addFindings({ key: logFindingKey('log-misbehaviour', ORIGIN, 'split view at 9'), kind: 'log-misbehaviour', logOrigin: ORIGIN, index: null, ruleId: null, subscriberId: null, summary: 'two checkpoints of size 9 with different roots', details: { notes: ['a', 'b'] }, observedAt: new Date(clock.nowMs()) });
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n);
    clock.set(Date.UTC(2026, 11, 4, 12, 0, 5));
    await alerts.worker!.runOnce();
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n + 1);
    const digest = mailsTo(ALICE).at(-1)!;
    expect(digest.headers.get('subject')).toContain('[vigil digest] 3 alerts in the last hour (1 about log security)');
    expect(digest.text).toContain('at index 20');
    expect(digest.text).toContain('at index 21');
    expect(digest.text).toContain('[vigil LOG SECURITY]');
    expect(digest.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
  });

  it('marks an unexpected signer expected from the manage page: the signer joins the policy', async () => {
    const { policies } = (await alerts.ruleSource.current()).rules;
    const policy = policies.find((p) => p.namespace === 'pkg:npm/foo')!;
    const signer = { kind: 'uri', san: 'https://github.com/mallory/foo/.github/workflows/x.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com', ci: { workflow: 'mallory/foo/.github/workflows/x.yml' } };
    const event = { logOrigin: ORIGIN, index: '30', integratedTimeSec: undefined, entryKind: 'dsse', keyFingerprint: 'ab'.repeat(32), identity: signer, artifactDigests: [], namespaces: [{ kind: 'purl', value: 'pkg:npm/foo@1.0.0' }] };
    const f: Finding = {
      key: findingKey(ORIGIN, 30n, `p:${policy.id}`), kind: 'unexpected-signer', logOrigin: ORIGIN, index: 30n, ruleId: `p:${policy.id}`, subscriberId: policy.subscriberId,
      summary: 'no allowed signer fits', details: { event, value: 'pkg:npm/foo', reason: 'no allowed signer fits; nearest is allowedSigners[0]: identity does not match' }, observedAt: new Date(clock.nowMs()),
    };
    await addFindings(f);
    await alerts.worker!.runOnce();
    const manage = tokenOf(linkIn(mailsTo(ALICE).at(-1)!.text, '/manage?token='));
    const page = await (await fetch(`${base}/manage?token=${encodeURIComponent(manage)}`)).text();
    const seq = /name="alert" value="(\d+)"/.exec(page)![1]!;
    expect(page).toContain('Unexpected signer https://github.com/mallory/foo');
    const marked = await postForm(`${base}/manage/expected`, { token: manage, alert: seq });
    expect(marked.status).toBe(200);
    const updated = (await alerts.ruleSource.current()).rules.policies.find((p) => p.id === policy.id)!;
    expect(updated.allowedSigners.at(-1)).toEqual({ issuer: signer.issuer, identity: { match: 'exact', pattern: signer.san }, workflow: signer.ci.workflow });
    // The monitor's index now finds the signer expected.
    const probe = { ...event, index: 31n, identity: signer, namespaces: event.namespaces } as never;
    expect(buildRuleIndex([], [policy]).match(probe)).toHaveLength(1);
    const index = buildRuleIndex([], [updated]);
    expect(index.match({ ...event, index: 31n, identity: signer, namespaces: event.namespaces } as never)).toEqual([]);
    const other = await postForm(`${base}/manage/expected`, { token: manage, alert: '999999' });
    expect(other.status).toBe(404);
  });

  it('replaces rules from the manage page, keeping the ids of unchanged rules', async () => {
    const manage = tokenOf(linkIn(mailsTo(ALICE).at(-1)!.text, '/manage?token='));
    const before = await watchRuleOf(ALICE, 'identity');
    const rules = { rules: [{ target: 'identity', match: 'exact', pattern: ALICE }, { target: 'namespace', match: 'glob', pattern: 'pkg:npm/@alice/*' }], policies: [] };
    expect((await postForm(`${base}/manage/rules`, { token: manage, rules: JSON.stringify(rules) })).status).toBe(200);
    const after = (await alerts.ruleSource.current()).rules;
    const mine = after.rules.filter((r) => r.subscriberId === before.subscriberId);
    expect(mine.map((r) => r.pattern).sort()).toEqual([ALICE, 'pkg:npm/@alice/*']);
    expect(mine.find((r) => r.pattern === ALICE)!.id).toBe(before.id);
    expect(after.policies.filter((p) => p.subscriberId === before.subscriberId)).toHaveLength(0);
    const bad = await postForm(`${base}/manage/rules`, { token: manage, rules: '{"rules": [{"target": "identity", "match": "glob"}]}' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('rules[0].pattern: is missing');
    expect((await postForm(`${base}/manage/rules`, { token: 'x.y', rules: '{}' })).status).toBe(403);
  });

  it('pauses mail to an address the relay refuses (a bounce), and sends a test alert on request', async () => {
    await postJson(`${base}/api/v1/subscriptions`, { email: 'dave@example.com', rules: [{ target: 'identity', match: 'glob', pattern: '*@dave.example' }] });
    await alerts.worker!.runOnce();
    const done = await postForm(`${base}/confirm`, { token: tokenOf(linkIn(mailsTo('dave@example.com').at(-1)!.text, '/confirm?token=')) });
    const manage = tokenOf(linkIn(done.body.replaceAll('&amp;', '&'), '/manage?token='));
    expect((await postForm(`${base}/manage/test`, { token: manage })).status).toBe(200);
    await alerts.worker!.runOnce();
    expect(mailsTo('dave@example.com').at(-1)!.headers.get('subject')).toContain('[vigil test]');
    smtp.refuse.add('dave@example.com');
    await postForm(`${base}/manage/test`, { token: manage });
    await alerts.worker!.runOnce();
    const [row] = await db.query<{ bounces: number; mail_paused_until: Date | null }>(`SELECT bounces, mail_paused_until FROM alerts_subscribers WHERE email_key = 'dave@example.com'`);
    expect(Number(row!.bounces)).toBe(1);
    expect(row!.mail_paused_until!.getTime()).toBeGreaterThan(clock.nowMs());
    smtp.refuse.delete('dave@example.com');
    const n = mailsTo('dave@example.com').length;
    await postForm(`${base}/manage/test`, { token: manage });
    await alerts.worker!.runOnce();
    expect(mailsTo('dave@example.com')).toHaveLength(n); // paused: dropped, not sent
    const page = await (await fetch(`${base}/manage?token=${encodeURIComponent(manage)}`)).text();
    expect(page).toContain('Delivery problems');
  });

  it('limits confirmation mail per address (silently) and per client (429)', async () => {
    const n = mailsTo('carol@example.com').length;
    for (let i = 0; i < 5; i++) {
      const r = await postJson(`${base}/api/v1/subscriptions`, { email: 'carol@example.com', rules: [{ target: 'key', match: 'exact', pattern: 'ef'.repeat(32) }] });
      expect(r.status).toBe(202);
    }
    await alerts.worker!.runOnce();
    expect(mailsTo('carol@example.com')).toHaveLength(n + config.confirmationsPerAddressPerDay);
    let status = 202;
    for (let i = 0; i < config.confirmationsPerClientPerHour && status === 202; i++) {
      status = (await postJson(`${base}/api/v1/subscriptions`, { email: `x${i}@example.com`, rules: [{ target: 'key', match: 'exact', pattern: 'ef'.repeat(32) }] })).status;
    }
    expect(status).toBe(429);
    expect(await registry.getSingleMetricAsString('vigil_alerts_rate_limited_total')).toMatch(/limit="address"} [1-9]/);
  });

  it('unsubscribes by the RFC 8058 one-click POST, not by a GET, and then sends nothing', async () => {
    const last = mailsTo(ALICE).at(-1)!;
    const url = last.headers.get('list-unsubscribe')!.slice(1, -1);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect((await db.query<{ state: string }>('SELECT state FROM alerts_subscribers WHERE email_key = $1', [ALICE]))[0]!.state).toBe('confirmed');
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(res.status).toBe(200);
    expect((await db.query<{ state: string }>('SELECT state FROM alerts_subscribers WHERE email_key = $1', [ALICE]))[0]!.state).toBe('unsubscribed');
    expect((await alerts.ruleSource.current()).rules.rules.filter((r) => r.pattern === ALICE)).toHaveLength(0);
    const n = mailsTo(ALICE).length;
    await addFindings({ key: logFindingKey('health', ORIGIN, 'unreachable'), kind: 'health', logOrigin: ORIGIN, index: null, ruleId: null, subscriberId: null, summary: 'the log did not answer for 10 minutes', details: {}, observedAt: new Date(clock.nowMs()) });
    clock.advance(3_600_000);
    await alerts.worker!.runOnce();
    expect(mailsTo(ALICE)).toHaveLength(n);
  });
}
