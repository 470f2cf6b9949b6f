// init and serve as the CLI runs them, in process: PGlite in a data folder, and PostgreSQL in a
// fresh schema named by VIGIL_DATABASE_SCHEMA.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshSchemaName, openTestPglite } from '../test/db.ts';
import { checkPublished, startWitnessNode, type TestWitnessNode } from '../test/log-witnesses.ts';
import { generateSignerKey } from '../tlog/note-key.ts';
import { dsseV2Request, newTestKey, randomPayload } from '../test/log-requests.ts';
import { POSTGRES_URL, serviceAvailable } from '../test/services.ts';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { parseVerifierKey } from '../tlog/note-key.ts';
import { isLogError } from './errors.ts';
import { signArtifact } from './bundle/sign.ts';
import { parseTrustedRoot } from './bundle/trusted-root.ts';
import { verifyBundle } from './bundle/verify.ts';
import { runLogInit, runLogInitCa, runLogServe } from './main.ts';

const hasPostgres = await serviceAvailable('postgres');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigil-log-main-'));
  dirs.push(d);
  return d;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isLogError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

/** initAndServe runs init, checks its refusals, serves, logs one entry and checks the checkpoint. */
async function initAndServe(env: NodeJS.ProcessEnv): Promise<void> {
  const data = tempDir();
  const origin = 'log.vigil.test/main';
  const { keyFile, vkey, created } = await runLogInit({ origin, dataDir: data }, env);
  expect(keyFile).toBe(join(data, 'log.key'));
  // The CA and the TSA are made with the log; the development issuer key only when asked for.
  expect(created).toEqual([`the CA in ${join(data, 'ca')}`, `the TSA in ${join(data, 'tsa')}`]);
  for (const f of ['ca/ca-root.key', 'ca/ca-intermediate.key', 'ca/ct.key', 'tsa/tsa-signing.key']) expect(statSync(join(data, f)).mode & 0o777).toBe(0o600);
  expect(existsSync(join(data, 'ca', 'dev-oidc.key'))).toBe(false);
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  expect(readFileSync(keyFile, 'utf8')).toMatch(/^PRIVATE\+KEY\+log\.vigil\.test\/main\+[0-9a-f]{8}\+/);
  expect(vkey).toMatch(/^log\.vigil\.test\/main\+[0-9a-f]{8}\+/);
  // A second init refuses the existing key, and with the key gone, the existing log; the key it
  // made for that refused log is removed again.
  expect(await codeOf(runLogInit({ origin, dataDir: data }, env))).toBe('invalid_config');
  const original = readFileSync(keyFile);
  unlinkSync(keyFile);
  expect(await codeOf(runLogInit({ origin, dataDir: data }, env))).toBe('log_exists');
  expect(existsSync(keyFile)).toBe(false);
  writeFileSync(keyFile, original, { mode: 0o600 });

  const running = await runLogServe({ dataDir: data, listen: '127.0.0.1:0' }, env);
  try {
    const res = await fetch(`${running.url}/api/v2/log/entries`, { method: 'POST', body: JSON.stringify(dsseV2Request(newTestKey('P-256'), randomPayload('main'))) });
    expect(res.status).toBe(201);
    // No witness policy: `quorum none`, every checkpoint is published at once.
    const note = await (await fetch(`${running.url}/api/v2/checkpoint`)).text();
    expect(openCheckpoint(note, [parseVerifierKey(vkey)], { origin }).checkpoint.size).toBe(1n);
    const policy = await fetch(`${running.url}/api/v2/witness-policy`);
    expect(policy.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await policy.text()).toBe(`log ${vkey}\nquorum none\n`);
    expect(await (await fetch(`${running.url}/metrics`)).text()).toMatch(/^vigil_log_witness_published_size(\{[^}]*\})? 1$/m);
    await checkFrontEnd(running.url);
  } finally {
    await running.close();
  }
}

/** checkFrontEnd checks the CA and TSA routes of a log served without the development issuer. */
async function checkFrontEnd(url: string): Promise<void> {
  const root = (await (await fetch(`${url}/api/v1/trusted_root.json`)).json()) as { certificateAuthorities: unknown[]; timestampAuthorities: unknown[]; tlogs: unknown[]; ctlogs: unknown[] };
  expect([root.certificateAuthorities.length, root.timestampAuthorities.length, root.tlogs.length, root.ctlogs.length]).toEqual([1, 1, 1, 1]);
  const bundle = (await (await fetch(`${url}/api/v2/trustBundle`)).json()) as { chains: { certificates: string[] }[] };
  expect(bundle.chains[0]!.certificates).toHaveLength(2);
  // No issuer is configured: the CA lists none, and the development issuer is not served.
  expect(await (await fetch(`${url}/api/v2/configuration`)).json()).toEqual({ issuers: [] });
  const oidc = await fetch(`${url}/oidc/.well-known/openid-configuration`);
  expect(oidc.status).toBe(404);
  // The TSA answers a bad request with a 4xx JSON refusal, not the log's 404.
  const stamp = await fetch(`${url}/api/v1/timestamp`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: new Uint8Array([1, 2, 3]) });
  expect(stamp.status).toBe(400);
  expect(((await stamp.json()) as { code: string }).code).toBe('malformed_request');
}

describe('vigil log init and serve on PGlite', () => {
  it('creates the key (0600) and the log once, refuses twice, serves it', async () => {
    await initAndServe({ VIGIL_DATABASE_URL: '', VIGIL_LOG_LEVEL: 'silent' });
  });

  it('refuses to serve without a key, or with a CA file that does not load', async () => {
    const data = tempDir();
    expect(await codeOf(runLogServe({ dataDir: data }, { VIGIL_LOG_LEVEL: 'silent' }))).toBe('invalid_config');
    await runLogInit({ origin: 'log.vigil.test/noca', dataDir: data }, { VIGIL_DATABASE_URL: '' });
    expect(await codeOf(runLogServe({ dataDir: data, caRoots: join(data, 'missing.pem') }, { VIGIL_LOG_LEVEL: 'silent' }))).toBe('invalid_config');
    expect(await codeOf(runLogInit({ origin: 'not a valid origin', dataDir: tempDir() }, {}))).toBe('invalid_config');
  });

  it('refuses to serve a log without its CA, saying how to make it; init-ca makes only what is missing', async () => {
    const data = tempDir();
    const env = { VIGIL_DATABASE_URL: '', VIGIL_LOG_LEVEL: 'silent' };
    await runLogInit({ origin: 'log.vigil.test/old', dataDir: data }, env);
    const tsaChain = readFileSync(join(data, 'tsa', 'tsa-chain.pem'));
    rmSync(join(data, 'ca'), { recursive: true });
    const refused = await runLogServe({ dataDir: data, listen: '127.0.0.1:0' }, env).then(() => undefined, (err: unknown) => err);
    expect(isLogError(refused, 'invalid_config')).toBe(true);
    expect((refused as Error).message).toContain(`vigil log init-ca --data ${data}`);
    expect(await runLogInitCa({ dataDir: data }, env)).toEqual([`the CA in ${join(data, 'ca')}`]);
    expect(readFileSync(join(data, 'tsa', 'tsa-chain.pem'))).toEqual(tsaChain);
    expect(await runLogInitCa({ dataDir: data }, env)).toEqual([]);
    // --dev-oidc on serve needs the issuer key, which init-ca --dev-oidc adds.
    expect(await codeOf(runLogServe({ dataDir: data, listen: '127.0.0.1:0', devOidc: true }, env))).toBe('invalid_config');
    expect(await runLogInitCa({ dataDir: data, devOidc: true }, env)).toEqual([`the development OIDC issuer key ${join(data, 'ca', 'dev-oidc.key')}`]);
    // The issuer hands out tokens for anyone: it is refused off loopback.
    await expect(runLogServe({ dataDir: data, listen: '0.0.0.0:0', devOidc: true }, env)).rejects.toThrow(/loopback/);
  });

  it('serves the CA, TSA and development issuer: a signed artifact verifies with the trusted root, v1 and v2', async () => {
    const data = tempDir();
    const env = { VIGIL_DATABASE_URL: '', VIGIL_LOG_LEVEL: 'silent' };
    await runLogInit({ origin: 'log.vigil.test/ca', dataDir: data, devOidc: true }, env);
    const issuersFile = join(data, 'issuers.json');
    writeFileSync(issuersFile, JSON.stringify({ issuers: [{ issuerUrl: 'https://ci.example.com', clientId: 'sigstore', kind: 'uri', subjectDomain: 'https://ci.example.com/' }] }));
    const running = await runLogServe({ dataDir: data, listen: '127.0.0.1:0', devOidc: true, oidcIssuers: issuersFile }, env);
    try {
      const issuer = `${running.url}/oidc`;
      const configured = (await (await fetch(`${running.url}/api/v2/configuration`)).json()) as { issuers: { issuerUrl: string }[] };
      expect(configured.issuers.map((i) => i.issuerUrl)).toEqual([issuer, 'https://ci.example.com']);
      const root = parseTrustedRoot(await (await fetch(`${running.url}/api/v1/trusted_root.json`)).text());
      const artifact = new TextEncoder().encode('release 1.0');
      for (const rekorV2 of [false, true]) {
        const bundle = await signArtifact(artifact, { url: running.url, email: 'alice@example.com', rekorV2 });
        const verified = verifyBundle(artifact, bundle, root, { identityRegex: 'alice@example\\.com', issuer });
        expect([verified.identity, verified.issuer, verified.times.length]).toEqual(['alice@example.com', issuer, 1]);
        expect(() => verifyBundle(artifact, bundle, root, { identityRegex: 'bob@example\\.com', issuer })).toThrow();
      }
    } finally {
      await running.close();
    }
  });
});

describe('vigil log serve with a witness policy in its config', () => {
  const nodes: TestWitnessNode[] = [];
  afterAll(async () => {
    for (const n of nodes) await n.close();
  });

  it('publishes only checkpoints its witnesses cosigned, and refuses a policy for another log', async () => {
    const data = tempDir();
    const origin = 'log.vigil.test/witnessed';
    const env = { VIGIL_DATABASE_URL: '', VIGIL_LOG_LEVEL: 'silent' };
    const { vkey } = await runLogInit({ origin, dataDir: data }, env);
    for (const name of ['a.example/w', 'b.example/w']) nodes.push(await startWitnessNode(name, { origin, vkey }, openTestPglite));
    const policyText = `${nodes.map((n, i) => `witness w${i} ${n.vkey} ${n.url}\n`).join('')}group both all w0 w1\nquorum both\n`;
    writeFileSync(join(data, 'witnesses.policy'), policyText);
    writeFileSync(join(data, 'log.json'), JSON.stringify({ witnessPolicy: 'witnesses.policy', publishIntervalMs: 50, maxBatchDelayMs: 10 }));
    const running = await runLogServe({ configFile: join(data, 'log.json'), dataDir: data, listen: '127.0.0.1:0' }, env);
    try {
      const policy = await (await fetch(`${running.url}/api/v2/witness-policy`)).text();
      expect(policy).toBe(`log ${vkey}\n${policyText}`);
      const res = await fetch(`${running.url}/api/v2/log/entries`, { method: 'POST', body: JSON.stringify(dsseV2Request(newTestKey('P-256'), randomPayload('main'))) });
      expect(res.status).toBe(201);
      let checked = checkPublished(await (await fetch(`${running.url}/api/v2/checkpoint`)).text(), policy, vkey);
      while (checked.size < 1n) {
        await new Promise((r) => setTimeout(r, 20));
        checked = checkPublished(await (await fetch(`${running.url}/api/v2/checkpoint`)).text(), policy, vkey);
      }
      expect(checked).toEqual({ size: 1n, cosigners: ['w0', 'w1'], quorum: true });
    } finally {
      await running.close();
    }
    // A policy whose log line is another log's refuses to start.
    const other = `log ${generateSignerKey('log.vigil.test/other').vkey}\n${policyText}`;
    writeFileSync(join(data, 'witnesses.policy'), other);
    expect(await codeOf(runLogServe({ configFile: join(data, 'log.json'), dataDir: data, listen: '127.0.0.1:0' }, env))).toBe('invalid_config');
  });
});

describe.skipIf(!hasPostgres)('vigil log init and serve on PostgreSQL', () => {
  const schema = freshSchemaName('logmain');
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('uses the schema named by VIGIL_DATABASE_SCHEMA', async () => {
    await initAndServe({ VIGIL_DATABASE_URL: POSTGRES_URL, VIGIL_DATABASE_SCHEMA: schema, VIGIL_LOG_LEVEL: 'silent' });
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      const rows = await admin.query(`SELECT size FROM ${schema}.log_state`);
      expect(rows.rows).toEqual([{ size: '1' }]);
    } finally {
      await admin.end();
    }
  });
});
