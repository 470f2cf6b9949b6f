// compose.yaml's topology as real processes on loopback (issue 7, "Production"): every Vigil
// service of compose.yaml is started with the command and environment compose.yaml gives it, only
// with the addresses of this machine — the machine's PostgreSQL (a fresh database for each one
// compose.yaml names) and Redis (a fresh key prefix), free loopback ports, temp folders for /data
// and /config. That is the log, three witnesses under a 2-of-3 policy, the monitor tailer and two
// workers, the alerts server and worker. Entries are written over HTTP; the log must publish a
// checkpoint the quorum cosigned (checked as a client would), and the monitor tailer's /metrics must
// show every entry processed. Then every process is stopped with SIGTERM and must exit 0.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dsseV2Request, newTestKey, randomPayload } from '../log-requests.ts';
import { checkPublished } from '../log-witnesses.ts';
import { POSTGRES_URL, REDIS_URL, serviceAvailable } from '../services.ts';
import { REPO_ROOT } from '../vectors.ts';
import { freePort, killVigilProcesses, runVigil, startVigil, type VigilProcess } from '../vigil-process.ts';

const ORIGIN = 'log.vigil.test/compose';
const ENTRIES = 5;
const hasServices = (await serviceAvailable('postgres')) && (await serviceAvailable('redis'));
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-compose-'));
const children = new Map<string, VigilProcess>();
const databases: string[] = [];

interface Service {
  image?: string;
  command: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
}

afterAll(async () => {
  killVigilProcesses();
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

/** localEnv maps a service's compose environment to this machine's services. */
async function localEnv(env: Record<string, string>, smtpUrl: string, alertsUrl: string): Promise<NodeJS.ProcessEnv> {
  const out: NodeJS.ProcessEnv = { ...process.env, VIGIL_LOG_LEVEL: 'warn', VIGIL_REDIS_PREFIX: `vigil-e2e-${run}` };
  for (const [k, v] of Object.entries(env)) {
    if (k === 'VIGIL_DATABASE_URL') out[k] = await localDatabaseUrl(v.split('/').pop()!);
    else if (k === 'VIGIL_REDIS_URL') out[k] = REDIS_URL;
    else if (k === 'VIGIL_SMTP_URL') out[k] = smtpUrl;
    else if (k === 'VIGIL_ALERTS_PUBLIC_URL') out[k] = alertsUrl;
    else if (k === 'VIGIL_ALERTS_FROM') out[k] = 'Vigil alerts <alerts@vigil.test>';
    else if (k !== 'VIGIL_LOG_LEVEL') out[k] = v;
  }
  return out;
}

async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** sample reads one series' value from a Prometheus text exposition. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe.skipIf(!hasServices)("compose.yaml's services as real processes on this machine's PostgreSQL and Redis", () => {
  it('publishes a checkpoint its witness quorum cosigned, the monitor processes every entry, and all stop cleanly', async () => {
    const compose = parseYaml(readFileSync(join(REPO_ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
    const services = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('${VIGIL_IMAGE'));
    const ports = new Map<string, number>();
    for (const [name] of services) ports.set(name, await freePort());
    const hostOf = (name: string) => `http://127.0.0.1:${ports.get(name)}`;
    const configDir = join(dir, 'config');
    mkdirSync(configDir);
    const smtpUrl = 'smtp://127.0.0.1:1'; // no mail is sent here: nobody subscribed
    const envOf = (s: Service) => localEnv(s.environment ?? {}, smtpUrl, hostOf('alerts'));
    const dataOf = (name: string, i = 0) => join(dir, `${name}-${i}`);
    const argsOf = (name: string, s: Service, i = 0) =>
      s.command.map((a) => a.replace(/^\/config\//, `${configDir}/`).replace(/^\/data$/, dataOf(name, i)).replace(/^0\.0\.0\.0:\d+$/, `127.0.0.1:${i === 0 ? ports.get(name) : 0}`));
    const byName = new Map(services);

    // One-time setup, as docs/operations.md has the operator do it.
    const logVkey = (await runVigil(['log', 'init', '--origin', ORIGIN, '--data', dataOf('log')], await envOf(byName.get('log')!))).trim();
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
    writeFileSync(join(configDir, 'log.json'), JSON.stringify({ witnessPolicy: 'witnesses.policy', maxBatchDelayMs: 20, publishIntervalMs: 100, verifyWorkers: 0 }));
    const monitorLog = { origin: ORIGIN, url: `${hostOf('log')}/api/v2`, verifierKeys: [logVkey], witnessPolicyFile: 'witnesses.policy', entryFormat: 'rekor', startIndex: '0' };
    writeFileSync(join(configDir, 'monitor.json'), JSON.stringify({ logs: [monitorLog], pollIntervalMs: 200 }));

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

    for (const [name, p] of children) {
      expect(await p.kill('SIGTERM'), `${name} exits 0 on SIGTERM`).toBe(0);
      children.delete(name);
    }
  }, 300_000);
});
