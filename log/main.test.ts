// init and serve as the CLI runs them, in process: PGlite in a data folder, and PostgreSQL in a
// fresh schema named by VIGIL_DATABASE_SCHEMA.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshSchemaName } from '../test/db.ts';
import { dsseV2Request, newTestKey, randomPayload } from '../test/log-requests.ts';
import { POSTGRES_URL, serviceAvailable } from '../test/services.ts';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { parseVerifierKey } from '../tlog/note-key.ts';
import { isLogError } from './errors.ts';
import { runLogInit, runLogServe } from './main.ts';

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
  const { keyFile, vkey } = await runLogInit({ origin, dataDir: data }, env);
  expect(keyFile).toBe(join(data, 'log.key'));
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
    const note = await (await fetch(`${running.url}/api/v2/checkpoint`)).text();
    expect(openCheckpoint(note, [parseVerifierKey(vkey)], { origin }).checkpoint.size).toBe(1n);
  } finally {
    await running.close();
  }
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
