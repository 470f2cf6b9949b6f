// `vigil up` as a newcomer runs it (issue 7): the real CLI in a child process on a fresh data
// folder and port 0. It must print its URL, write up.json (with the trusted root and the dev
// issuer, both served), accept an entry, publish a
// checkpoint that two of its three witnesses cosigned (checked as a client would, from up.json
// alone), and after a SIGKILL resume on the same folder with the same keys and a tree that grew
// from the old one (consistency checked over the tiles by an independent C2SP client).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBase64 } from '../../tlog/base64.ts';
import { hashLeaf } from '../../tlog/merkle.ts';
import { parseVerifierKey } from '../../tlog/note-key.ts';
import { witnessCheckpointPath } from '../../tlog/witness-request.ts';
import { dsseV2Request, newTestKey, randomPayload, verifyLogOverHttp, type AckedEntry } from '../log-http.ts';
import { checkPublished, type CheckedPublication } from '../log-witnesses.ts';
import { REPO_ROOT } from '../vectors.ts';

const children = new Set<ChildProcess>();
const dirs: string[] = [];

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Up {
  url: string;
  kill(): Promise<void>;
}

/** up starts `vigil up` and resolves with its URL once it prints `listening on <url>`. */
function up(dataDir: string): Promise<Up> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', 'up', '--data', dataDir, '--port', '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, VIGIL_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`vigil up exited ${code} before listening: ${output}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      if (m === null) return;
      resolve({
        url: m[1]!,
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
          children.delete(child);
        },
      });
    });
  });
}

interface UpJson {
  url: string;
  log: { origin: string; vkey: string; tiles: string };
  witnesses: { name: string; vkey: string; url: string }[];
  witnessPolicy: string;
  trustedRoot: { file: string; url: string };
  oidc: { issuer: string; token: string };
  search: string;
  alerts: { url: string; outbox: string };
}

/** until polls `probe` until it returns a value (the test timeout bounds it; nothing is timed). */
async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('vigil up (one process, PGlite, port 0)', () => {
  it('serves the log and three witnesses, publishes 2-of-3 cosigned checkpoints, and resumes after a SIGKILL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-up-'));
    dirs.push(dataDir);
    const key = newTestKey('P-256');
    const acked: AckedEntry[] = [];
    const publishedNotes = new Set<string>();

    const session = async (): Promise<{ up: Up; j: UpJson; published: CheckedPublication }> => {
      const running = await up(dataDir);
      const j = JSON.parse(readFileSync(join(dataDir, 'up.json'), 'utf8')) as UpJson;
      expect(j.url).toBe(running.url);
      expect(j.log.tiles).toBe(`${running.url}/api/v2`);
      expect(j.witnesses.map((w) => [w.name, w.url])).toEqual(['w1', 'w2', 'w3'].map((n) => [n, `${running.url}/witness/${n}`]));
      expect(await (await fetch(`${running.url}/api/v2/witness-policy`)).text()).toBe(j.witnessPolicy);
      expect(j.witnessPolicy).toContain('group up-witnesses 2 w1 w2 w3\nquorum up-witnesses\n');
      // The CA's trusted root is in the folder and on the port, the same; the dev issuer is on.
      expect(j.trustedRoot).toEqual({ file: join(dataDir, 'trusted_root.json'), url: `${running.url}/api/v1/trusted_root.json` });
      expect(await (await fetch(j.trustedRoot.url)).json()).toEqual(JSON.parse(readFileSync(j.trustedRoot.file, 'utf8')));
      expect(j.oidc).toEqual({ issuer: `${running.url}/oidc`, token: `${running.url}/oidc/token` });
      const discovery = (await (await fetch(`${j.oidc.issuer}/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(discovery.issuer).toBe(j.oidc.issuer);
      const token = await fetch(j.oidc.token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'dev@example.com' }) });
      expect(typeof ((await token.json()) as { id_token: unknown }).id_token).toBe('string');
      const configuration = (await (await fetch(`${running.url}/api/v2/configuration`)).json()) as { issuers: { issuerUrl: string }[] };
      expect(configuration.issuers.map((i) => i.issuerUrl)).toEqual([j.oidc.issuer]);
      expect([j.search, j.alerts]).toEqual([`${running.url}/api/v1/search`, { url: `${running.url}/alerts`, outbox: join(dataDir, 'outbox') }]);
      expect([200, 503]).toContain((await fetch(`${j.search}?identity=dev@example.com`)).status);
      // One /metrics for the one process: the log's, the monitor's and alerts' metrics.
      const metrics = await (await fetch(`${running.url}/metrics`)).text();
      for (const name of ['vigil_log_entries_integrated_total', 'vigil_monitor_', 'vigil_alerts_', 'process_cpu_seconds_total']) expect(metrics, name).toContain(name);
      expect((await fetch(`${j.alerts.url}/`)).status).toBe(200);

      const res = await fetch(`${running.url}/api/v2/log/entries`, { method: 'POST', body: JSON.stringify(dsseV2Request(key, randomPayload('up'))) });
      expect(res.status).toBe(201);
      const tle = (await res.json()) as { logIndex: string; canonicalizedBody: string };
      acked.push({ index: BigInt(tle.logIndex), leafHash: hashLeaf(decodeBase64(tle.canonicalizedBody)) });
      // The published checkpoint, verified with nothing but up.json: log key, cosignatures, quorum.
      const published = await until(async () => {
        const note = await (await fetch(`${j.log.tiles}/checkpoint`)).text();
        const p = checkPublished(note, j.witnessPolicy, j.log.vkey);
        publishedNotes.add(note);
        return p.size >= BigInt(acked.length) ? p : undefined;
      });
      // Each witness is a tlog-witness under its own path, with its own monitoring endpoint.
      const cosigner = j.witnesses.find((w) => w.name === published.cosigners[0])!;
      const cosigned = await fetch(`${cosigner.url}/${witnessCheckpointPath(j.log.origin)}`);
      expect(cosigned.status).toBe(200);
      return { up: running, j, published };
    };

    const first = await session();
    const firstRoot = JSON.parse(readFileSync(first.j.trustedRoot.file, 'utf8')) as unknown;
    // A second `vigil up` on the same folder refuses to start while the first runs.
    const second = spawnSync(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', 'up', '--data', dataDir, '--port', '0'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/another vigil up \(pid \d+\) runs on this data folder/);
    expect(first.published.quorum).toBe(true);
    expect(first.published.cosigners.length).toBeGreaterThanOrEqual(2);
    await first.up.kill();

    const resumed = await session();
    // Same folder, same identities: nothing was re-created.
    expect(resumed.j.log).toEqual({ ...first.j.log, tiles: `${resumed.up.url}/api/v2` });
    expect(resumed.j.witnesses.map((w) => w.vkey)).toEqual(first.j.witnesses.map((w) => w.vkey));
    const rootOf = (j: UpJson) => readFileSync(j.trustedRoot.file, 'utf8');
    expect(resumed.j.trustedRoot.file).toBe(first.j.trustedRoot.file);
    expect(JSON.parse(rootOf(resumed.j))).toEqual(firstRoot);
    expect(resumed.published.quorum).toBe(true);
    expect(resumed.published.size).toBeGreaterThan(first.published.size);
    // The tree grew from the old one: every published checkpoint is consistent with the latest, and
    // every acknowledged entry is where it was acknowledged.
    const size = await verifyLogOverHttp(resumed.j.log.tiles, parseVerifierKey(resumed.j.log.vkey), resumed.j.log.origin, acked, publishedNotes);
    expect(size).toBe(BigInt(acked.length));
    await resumed.up.kill();
  }, 300_000);
});
