// compose.yaml's topology as real processes on loopback (issue 7, "Production"): every Vigil
// service of compose.yaml is started with the command and environment compose.yaml gives it, only
// with the addresses of this machine — the machine's PostgreSQL (a fresh database for each one
// compose.yaml names) and Redis (a fresh key prefix), free loopback ports, temp folders for /data
// and /config, a real SMTP server on loopback for the mail sink. That is the log (with its CA, TSA
// and, on loopback only, the development OIDC issuer), three witnesses under a 2-of-3 policy, the
// monitor tailer and two workers (with "subscriptions": true), the alerts server and worker. Entries
// are written over HTTP; the log must publish a checkpoint the quorum cosigned (checked as a client
// would), and the monitor tailer's /metrics must show every entry processed. An address subscribes
// through the alerts API to an identity and confirms with the POST of the page its confirmation
// mail links to; then `vigil sign` (a child process, development token) signs a file as that
// identity, and the alert mail, with its RFC 8058 List-Unsubscribe headers, must arrive at the SMTP
// server. The operator's .env turns late bounces on: mail leaves with VERP envelope senders and the
// alerts service's bounce listener answers. Then every process is stopped with SIGTERM and must
// exit 0.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dsseV2Request, newTestKey, randomPayload } from '../log-requests.ts';
import { linkIn, postForm, postJson, startTestSmtp, type ReceivedMail, type TestSmtp } from './alerts-harness.ts';
import { checkPublished } from '../log-witnesses.ts';
import { POSTGRES_URL, REDIS_URL, serviceAvailable } from '../services.ts';
import { REPO_ROOT } from '../vectors.ts';
import { freePort, killVigilProcesses, runVigil, startVigil, type VigilProcess } from '../vigil-process.ts';

const ORIGIN = 'log.vigil.test/compose';
const ENTRIES = 5;
const SUBSCRIBER = 'maintainer@vigil.test';
const SIGNER = 'release-bot@vigil.test';
// The placeholder issuer docs/operations.md puts in config/oidc-issuers.json (fetched only when a
// token names it, so never here); the test signs with the log's development issuer.
const PLACEHOLDER_ISSUERS = { issuers: [{ issuerUrl: 'https://accounts.example.com', clientId: 'sigstore', kind: 'email' }] };
const MAIL_WAIT_MS = 120_000;
const hasServices = (await serviceAvailable('postgres')) && (await serviceAvailable('redis'));
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-compose-'));
const children = new Map<string, VigilProcess>();
const databases: string[] = [];
let smtp: TestSmtp | undefined;

interface Service {
  image?: string;
  command: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
}

afterAll(async () => {
  killVigilProcesses();
  await smtp?.close();
  rmSync(dir, { recursive: true, force: true });
  if (databases.length === 0) return;
  const redis = new Redis(REDIS_URL);
  for (const key of await redis.keys(`vigil-e2e-${run}:*`)) await redis.del(key);
  redis.disconnect();
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
});

/** localDatabaseUrl creates (once) the fresh local database standing for compose.yaml's `name`. */
async function localDatabaseUrl(name: string): Promise<string> {
  const db = `${name}_${run}`;
  if (!databases.includes(db)) {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    databases.push(db);
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${db}`;
  return url.toString();
}

// interpolate reads a compose value as Compose does: `${NAME:-default}` is vars[NAME] when set and
// not empty, else the default; any other `${...}` is left as is (the cases above replace those).
function interpolate(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(/\$\{([A-Z0-9_]+):-([^}]*)\}/g, (_, name: string, fallback: string) => vars[name] || fallback);
}

/** localEnv maps a service's compose environment to this machine's services; `vars` are the operator's .env. */
async function localEnv(env: Record<string, string>, smtpUrl: string, alertsUrl: string, vars: Readonly<Record<string, string>>): Promise<NodeJS.ProcessEnv> {
  const out: NodeJS.ProcessEnv = { ...process.env, VIGIL_LOG_LEVEL: 'warn', VIGIL_REDIS_PREFIX: `vigil-e2e-${run}` };
  for (const [k, v] of Object.entries(env)) {
    if (k === 'VIGIL_DATABASE_URL') out[k] = await localDatabaseUrl(v.split('/').pop()!);
    else if (k === 'VIGIL_REDIS_URL') out[k] = REDIS_URL;
    else if (k === 'VIGIL_SMTP_URL') out[k] = smtpUrl;
    else if (k === 'VIGIL_ALERTS_PUBLIC_URL') out[k] = alertsUrl;
    else if (k === 'VIGIL_ALERTS_FROM') out[k] = 'Vigil alerts <alerts@vigil.test>';
    else if (k !== 'VIGIL_LOG_LEVEL') out[k] = interpolate(v, vars);
  }
  return out;
}

/** smtpGreeting connects to an SMTP listener on loopback and returns its first line. */
function smtpGreeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no SMTP greeting on port ${port}`)));
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end >= 0) {
        socket.end('QUIT\r\n');
        resolve(text.slice(0, end));
      }
    });
    socket.on('error', reject);
  });
}

/** until polls `probe` until it gives a value; after `timeoutMs` (if given) it fails with `what`. */
async function until<T>(probe: () => Promise<T | undefined>, timeoutMs?: number, what = 'a value'): Promise<T> {
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** mailTo waits (bounded) for a mail to `to` that `pick` accepts. */
function mailTo(to: string, pick: (m: ReceivedMail) => boolean, what: string): Promise<ReceivedMail> {
  return until(async () => smtp!.mails.find((m) => m.to.includes(to) && pick(m)), MAIL_WAIT_MS, what);
}

/** confirmByPage opens the confirmation mail's link and submits the page's form (a GET confirms nothing). */
async function confirmByPage(link: string): Promise<{ status: number; body: string }> {
  const page = await (await fetch(link)).text();
  const form = /<form method="post" action="([^"]+)"><input type="hidden" name="token" value="([^"]+)">/.exec(page);
  expect(form, 'the confirmation page has a POST form with the token').not.toBeNull();
  const unescape = (v: string) => v.replaceAll('&amp;', '&');
  return postForm(new URL(unescape(form![1]!), link).toString(), { token: unescape(form![2]!) });
}

/** sample reads one series' value from a Prometheus text exposition. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe.skipIf(!hasServices)("compose.yaml's services as real processes on this machine's PostgreSQL and Redis", () => {
  it('publishes a checkpoint its witness quorum cosigned, the monitor processes every entry, a CLI signature reaches its confirmed subscriber as mail, and all stop cleanly', async () => {
    const compose = parseYaml(readFileSync(join(REPO_ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
    const services = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('${VIGIL_IMAGE'));
    const ports = new Map<string, number>();
    for (const [name] of services) ports.set(name, await freePort());
    const hostOf = (name: string) => `http://127.0.0.1:${ports.get(name)}`;
    const configDir = join(dir, 'config');
    mkdirSync(configDir);
    smtp = await startTestSmtp();
    const smtpUrl = smtp.url;
    // The operator's .env turns late bounces on (docs/alerts.md), the listener on a free loopback port.
    const bouncePort = await freePort();
    const dotEnv = { VIGIL_ALERTS_BOUNCE_ADDRESS: 'bounces@bounce.vigil.test', VIGIL_ALERTS_BOUNCE_LISTEN: `127.0.0.1:${bouncePort}` };
    const envOf = (s: Service) => localEnv(s.environment ?? {}, smtpUrl, hostOf('alerts'), dotEnv);
    const dataOf = (name: string, i = 0) => join(dir, `${name}-${i}`);
    const argsOf = (name: string, s: Service, i = 0) =>
      s.command.map((a) => a.replace(/^\/config\//, `${configDir}/`).replace(/^\/data$/, dataOf(name, i)).replace(/^0\.0\.0\.0:\d+$/, `127.0.0.1:${i === 0 ? ports.get(name) : 0}`));
    const byName = new Map(services);

    // One-time setup, as docs/operations.md has the operator do it.
    // --dev-oidc: this test signs with the development issuer, which serves only on loopback.
    const logVkey = (await runVigil(['log', 'init', '--origin', ORIGIN, '--data', dataOf('log'), '--dev-oidc'], await envOf(byName.get('log')!))).trim();
    const witnesses = services.filter(([, s]) => s.command[0] === 'witness');
    expect(witnesses).toHaveLength(3);
    const policy: string[] = [];
    for (const [name, s] of witnesses) {
      const vkey = (await runVigil(['witness', 'init', '--name', `${name}.vigil.test`, '--data', dataOf(name)], await envOf(s))).trim();
      policy.push(`witness ${name} ${vkey} ${hostOf(name)}`);
      const configFile = s.command[s.command.indexOf('--config') + 1]!.replace(/^\/config\//, '');
      writeFileSync(join(configDir, configFile), JSON.stringify({ logs: [{ origin: ORIGIN, vkeys: [logVkey] }] }));
    }
    policy.push(`group majority 2 ${witnesses.map(([n]) => n).join(' ')}`, 'quorum majority', '');
    writeFileSync(join(configDir, 'witnesses.policy'), policy.join('\n'));
    expect(byName.get('log')!.command).toContain('/config/oidc-issuers.json');
    writeFileSync(join(configDir, 'oidc-issuers.json'), JSON.stringify(PLACEHOLDER_ISSUERS));
    writeFileSync(join(configDir, 'log.json'), JSON.stringify({ witnessPolicy: 'witnesses.policy', maxBatchDelayMs: 20, publishIntervalMs: 100, verifyWorkers: 0, devOidc: true }));
    const monitorLog = { origin: ORIGIN, url: `${hostOf('log')}/api/v2`, verifierKeys: [logVkey], witnessPolicyFile: 'witnesses.policy', entryFormat: 'rekor', startIndex: '0' };
    writeFileSync(join(configDir, 'monitor.json'), JSON.stringify({ logs: [monitorLog], subscriptions: true, pollIntervalMs: 200 }));

    // Every service, each replica, in compose.yaml's order.
    const ready = /^(listening on http|monitor running|working)/m;
    for (const [name, s] of services) {
      for (let i = 0; i < (s.deploy?.replicas ?? 1); i++) children.set(`${name}-${i}`, await startVigil(argsOf(name, s, i), await envOf(s), ready));
    }
    expect(children.size).toBe(services.reduce((n, [, s]) => n + (s.deploy?.replicas ?? 1), 0));

    for (let i = 0; i < ENTRIES; i++) {
      const res = await fetch(`${hostOf('log')}/api/v2/log/entries`, { method: 'POST', body: JSON.stringify(dsseV2Request(newTestKey('P-256'), randomPayload(`e${i}`))) });
      expect(res.status).toBe(201);
    }
    const policyText = await (await fetch(`${hostOf('log')}/api/v2/witness-policy`)).text();
    const published = await until(async () => {
      const checked = checkPublished(await (await fetch(`${hostOf('log')}/api/v2/checkpoint`)).text(), policyText, logVkey);
      return checked.size === BigInt(ENTRIES) ? checked : undefined;
    });
    expect(published.quorum).toBe(true);
    expect(published.cosigners.length).toBeGreaterThanOrEqual(2);

    const tailMetrics = `${hostOf('monitor-tail')}/metrics`;
    await until(async () => (sample(await (await fetch(tailMetrics)).text(), 'vigil_monitor_cursor_entries', `origin="${ORIGIN}"`) === ENTRIES ? true : undefined));
    const text = await (await fetch(tailMetrics)).text();
    expect(sample(text, 'vigil_monitor_lag_entries', `origin="${ORIGIN}"`)).toBe(0);
    expect(sample(text, 'vigil_monitor_tailer_leader', `origin="${ORIGIN}"`)).toBe(1);

    // Subscribe, confirm through the page the confirmation mail links to, sign with the CLI, get the alert.
    const alertsUrl = hostOf('alerts');
    const subscribed = await postJson(`${alertsUrl}/api/v1/subscriptions`, { email: SUBSCRIBER, rules: [{ target: 'identity', match: 'exact', pattern: SIGNER }] });
    expect(subscribed.status).toBe(202);
    const confirmation = await mailTo(SUBSCRIBER, (m) => m.text.includes('/confirm?token='), 'confirmation mail');
    const confirmed = await confirmByPage(linkIn(confirmation.text, '/confirm?token='));
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toContain('/manage?token=');
    const artifact = join(dir, 'release.tar.gz');
    const bytes = randomBytes(1024);
    writeFileSync(artifact, bytes);
    const signed = await runVigil(['sign', artifact, '--url', hostOf('log'), '--email', SIGNER]);
    // The CA logs the certificate it issues (an entry of its own), then the signature is logged.
    const signedIndex = Number(new RegExp(`^signed ${artifact}: log index (\\d+); bundle written to `).exec(signed)?.[1]);
    expect(signedIndex).toBeGreaterThanOrEqual(ENTRIES);
    expect(JSON.parse(readFileSync(`${artifact}.sigstore.json`, 'utf8'))).toHaveProperty('mediaType', 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const alert = await mailTo(SUBSCRIBER, (m) => (m.headers.get('subject') ?? '').includes('[vigil alert]') && m.text.includes(digest), 'alert mail for the signed file');
    expect(alert.text).toContain(SIGNER);
    expect(Number(/entry index:\s*(\d+)/.exec(alert.text)?.[1])).toBe(signedIndex);
    expect(alert.text).toContain(ORIGIN);
    expect(alert.headers.get('list-unsubscribe')).toMatch(new RegExp(`^<${alertsUrl}/unsubscribe\\?token=[A-Za-z0-9_.%-]+>$`));
    expect(alert.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    // Late bounces as compose.yaml wires them: VERP envelope senders, and the alerts service's
    // listener (the worker runs none) greeting on its port.
    expect(alert.from).toMatch(/^bounces\+\d+\.[0-9a-f]{32}@bounce\.vigil\.test$/);
    expect(confirmation.from).toMatch(/^bounces\+\d+\.[0-9a-f]{32}@bounce\.vigil\.test$/);
    expect(await smtpGreeting(bouncePort)).toMatch(/^220 bounce\.vigil\.test /);
    // The alerts worker serves /metrics (`alerts work --listen`), as Prometheus scrapes it.
    const workerMetrics = await fetch(`${hostOf('alerts-worker')}/metrics`);
    expect(workerMetrics.status).toBe(200);
    expect(await workerMetrics.text()).toContain('vigil_alerts_mails_total');

    for (const [name, p] of children) {
      expect(await p.kill('SIGTERM'), `${name} exits 0 on SIGTERM`).toBe(0);
      children.delete(name);
    }
  }, 300_000);
});
