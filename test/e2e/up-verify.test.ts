// `vigil verify` with witness enforcement against `vigil up` as a newcomer runs it: the real CLI in
// child processes (`vigil up` on a fresh data folder and port 0, then `vigil sign` and
// `vigil verify`), the trust material taken from up.json alone (trusted_root.json, the witness
// policy: three witnesses, two required). A bundle verifies online against the log's published
// cosigned checkpoint, and offline once signed with --witnessed; a policy naming other witness
// keys is refused, and so is a private fork signed with the log's own key (read from the folder).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleJson } from '../../log/bundle/bundle-json.ts';
import { loadLogKey } from '../../log/key.ts';
import { newCosignatureSigner } from '../../tlog/cosignature.ts';
import { generateEd25519Seed } from '../../tlog/note-ed25519.ts';
import { upPaths } from '../../up/config.ts';
import { formatWitnessVkey } from '../../witness/key.ts';
import { REPO_ROOT } from '../vectors.ts';
import { forkedBundle } from '../witnessed-bundles.ts';

interface Run { code: number; stdout: string; stderr: string }

function vigil(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', ...args], { cwd: REPO_ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

let child: ChildProcess | undefined;
let dir: string;
let url: string;
let up: { witnessPolicy: string; trustedRoot: { file: string }; oidc: { issuer: string } };
let policyFile: string;

/** startUp starts `vigil up` and resolves with its URL once it prints `listening on <url>`. */
function startUp(dataDir: string): Promise<string> {
  const c = spawn(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', 'up', '--data', dataDir, '--port', '0'], {
    cwd: REPO_ROOT, env: { ...process.env, VIGIL_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = c;
  let output = '';
  c.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    c.once('exit', (code) => reject(new Error(`vigil up exited ${code} before listening: ${output}`)));
    createInterface({ input: c.stdout! }).on('line', (line) => {
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      if (m !== null) resolve(m[1]!);
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-up-verify-'));
  url = await startUp(join(dir, 'data'));
  up = JSON.parse(readFileSync(join(dir, 'data', 'up.json'), 'utf8'));
  policyFile = join(dir, 'witnesses.policy');
  writeFileSync(policyFile, up.witnessPolicy);
}, 180_000);

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function sign(name: string, ...extra: string[]): Promise<{ file: string; bundle: string }> {
  const file = join(dir, name);
  writeFileSync(file, `${name} ${Date.now()}\n`);
  const run = await vigil(['sign', file, '--url', url, '--email', 'alice@example.com', ...extra]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return { file, bundle: `${file}.sigstore.json` };
}

function verify(s: { file: string; bundle: string }, ...extra: string[]): Promise<Run> {
  return vigil(['verify', s.file, '--bundle', s.bundle, '--identity', 'alice@example\\.com', '--issuer', up.oidc.issuer, '--trusted-root', up.trustedRoot.file, ...extra]);
}

describe('vigil up, then vigil sign and vigil verify with the witness policy (2 of 3)', () => {
  let signed: { file: string; bundle: string };

  it('verifies online against the published cosigned checkpoint, and offline a --witnessed bundle', async () => {
    expect(up.witnessPolicy).toMatch(/^quorum /m);
    signed = await sign('release.txt');
    const online = await verify(signed, '--witness-policy', policyFile, '--url', url);
    expect(online.stderr).toBe('');
    expect(online.code).toBe(0);
    expect(online.stdout).toMatch(/witnessed: checkpoint size \d+ cosigned by w[123], w[123].* \(published by the log\)/);
    const offline = await verify(signed, '--witness-policy', policyFile);
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain('(not_witnessed)');

    const witnessed = await sign('release-witnessed.txt', '--witnessed', '--witness-wait', '60');
    const ok = await verify(witnessed, '--witness-policy', policyFile);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('(in the bundle)');
  });

  it('refuses a policy naming other witness keys, and a fork signed with the log key', async () => {
    const others = ['w1', 'w2', 'w3'].map((n) => newCosignatureSigner(`other/${n}`, generateEd25519Seed()));
    const wrongFile = join(dir, 'wrong.policy');
    writeFileSync(wrongFile, `${others.map((o, i) => `witness w${i + 1} ${formatWitnessVkey(o)}\n`).join('')}group g 2 w1 w2 w3\nquorum g\n`);
    const wrong = await verify(signed, '--witness-policy', wrongFile, '--url', url);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('(not_witnessed)');

    const logKey = loadLogKey(upPaths(join(dir, 'data')).logKeyFile);
    const fork = await forkedBundle(JSON.parse(readFileSync(signed.bundle, 'utf8')) as BundleJson, logKey.signer);
    const forkFile = join(dir, 'fork.sigstore.json');
    writeFileSync(forkFile, JSON.stringify(fork));
    const skipped = await verify({ file: signed.file, bundle: forkFile }, '--no-witness');
    expect(skipped.code).toBe(0); // without witnessing, the fork passes: what this feature prevents
    const refused = await verify({ file: signed.file, bundle: forkFile }, '--witness-policy', policyFile, '--url', url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(inconsistent_checkpoint)');
  });
});
