// `vigil up --demo` as a newcomer runs it (issue 7): the real CLI in a child process on a fresh
// data folder and port 0. The demo's unexpected signer must produce an alert mail in DIR/outbox
// naming that identity, and a finding on the status page; then `vigil sign` and `vigil verify`
// (the CLI, child processes) work against the running network with nothing but up.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_MAINTAINER, DEMO_UNEXPECTED_IDENTITY, decodeQuotedPrintable } from '../../up/demo.ts';
import { REPO_ROOT } from '../vectors.ts';

const children = new Set<ChildProcess>();
const dirs: string[] = [];

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface UpJson {
  url: string;
  trustedRoot: { file: string; url: string };
  oidc: { issuer: string; token: string };
  alerts: { url: string; outbox: string };
}

/** upDemo starts `vigil up --demo` and resolves with its URL once it prints `listening on <url>`. */
function upDemo(dataDir: string): Promise<{ url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', 'up', '--demo', '--port', '0', '--data', dataDir], {
    cwd: REPO_ROOT,
    env: { ...process.env, VIGIL_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`vigil up --demo exited ${code} before listening: ${output}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      if (m !== null) resolve({ url: m[1]!, output: () => output });
    });
  });
}

/** vigil runs the CLI to completion and returns its exit code and output. */
function vigil(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** until polls `probe` until it returns a value, failing with `what` after `limitMs` (a bound, not a timing assertion). */
async function until<T>(what: string, limitMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('vigil up --demo (one process, port 0)', () => {
  it('mails an alert about the unexpected signer, lists it on the status page, and vigil sign/verify work from up.json', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-up-demo-'));
    dirs.push(dataDir);
    const running = await upDemo(dataDir);
    const j = JSON.parse(readFileSync(join(dataDir, 'up.json'), 'utf8')) as UpJson;
    expect(j.alerts.outbox).toBe(join(dataDir, 'outbox'));

    // The alert: a mail to the maintainer naming the unexpected identity (QP-decoded body).
    const alert = await until(`an alert mail in ${j.alerts.outbox} (output so far:\n${running.output()})`, 120_000, async () => {
      let files: string[] = [];
      try {
        files = readdirSync(j.alerts.outbox).filter((f) => f.endsWith('.eml'));
      } catch {
        return undefined;
      }
      const mails = files.map((f) => decodeQuotedPrintable(readFileSync(join(j.alerts.outbox, f), 'utf8')));
      return mails.find((m) => /^Subject: \[vigil alert\]/m.test(m) && m.includes(DEMO_UNEXPECTED_IDENTITY));
    });
    expect(alert).toMatch(new RegExp(`^To: .*${DEMO_MAINTAINER.replace(/\./g, '\\.')}`, 'm'));
    expect(alert).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
    // One mail for the signing: the CA's precertificate rides in the signature's alert.
    expect(alert).toMatch(/^certificate logged: +\S+ at index \d+ \(precertificate\)$/m);
    expect(running.output()).toContain('demo: unexpected: ');
    // An honest network: the monitor (which also compares the witnesses' checkpoints) raised no log alert.
    const subjects = readdirSync(j.alerts.outbox).map((f) => /^Subject: (.*)$/m.exec(readFileSync(join(j.alerts.outbox, f), 'utf8'))?.[1] ?? '');
    expect(subjects.filter((x) => /LOG SECURITY|log health/.test(x))).toEqual([]);

    // The status page lists the finding (values from entries are escaped, never markup).
    const page = await (await fetch(`${j.url}/`, { headers: { accept: 'text/html' } })).text();
    expect(page).toContain('sneaky.yml@refs/heads/main');

    // The search API finds the unexpected signer's entries, each with an inclusion proof.
    const search = (await (await fetch(`${j.url}/api/v1/search?identity=${encodeURIComponent(DEMO_UNEXPECTED_IDENTITY)}`)).json()) as { results: { inclusion_proof?: unknown; inclusionProof?: unknown }[] };
    expect(search.results.length).toBeGreaterThanOrEqual(1);

    // vigil sign, then vigil verify, against the running network, configured from up.json alone.
    const artifact = join(dataDir, 'release.txt');
    writeFileSync(artifact, 'release 1.0\n');
    const signed = await vigil(['sign', artifact, '--url', j.url, '--email', 'dev@example.com']);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    const verifyArgs = ['verify', artifact, '--bundle', `${artifact}.sigstore.json`, '--issuer', j.oidc.issuer, '--url', j.url, '--trusted-root', j.trustedRoot.file];
    const verified = await vigil([...verifyArgs, '--identity', 'dev@example\\.com']);
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toMatch(/^verified .*release\.txt: signed by dev@example\.com /);
    expect(verified.code).toBe(0);
    const wrong = await vigil([...verifyArgs, '--identity', 'mallory@example\\.com']);
    expect(wrong.code).not.toBe(0);
  }, 300_000);
});
