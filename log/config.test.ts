import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseListen } from '../platform/config.ts';
import { DEFAULT_DATA_DIR, loadConfig } from './config.ts';
import { isLogError } from './errors.ts';
import { defaultVerifyWorkers } from './verify-pool.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-log-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isLogError(err, 'invalid_config')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('loadConfig', () => {
  it('has documented defaults', () => {
    const c = loadConfig({}, {});
    expect(c).toEqual({
      dataDir: resolve(DEFAULT_DATA_DIR),
      keyFile: join(resolve(DEFAULT_DATA_DIR), 'log.key'),
      databaseUrl: undefined,
      databaseSchema: undefined,
      listenHost: '127.0.0.1',
      listenPort: 7370,
      caRootsFile: undefined,
      oidcIssuersFile: undefined,
      devOidc: false,
      maxRequestBytes: 1 << 20,
      retryAfterSeconds: 1,
      maxBatchEntries: 4096,
      maxBatchDelayMs: 250,
      maxPendingEntries: 32_768,
      maxPendingBytes: 256 * 1024 * 1024,
      maxDbConnections: 10,
      verifyWorkers: defaultVerifyWorkers(),
      witnessPolicyFile: undefined,
      witnessPolicy: 'quorum none\n',
      failOpenAfterMs: undefined,
      publishIntervalMs: 1000,
      witnessBackoffMaxMs: 60_000,
    });
  });

  it('reads the file (paths relative to it), then flags and the environment override', () => {
    const file = join(dir, 'log.json');
    writeFileSync(file, JSON.stringify({ listen: '0.0.0.0:8000', dataDir: 'd', keyFile: 'k/log.key', caRoots: 'ca.pem', maxBatchDelayMs: 20, maxRequestBytes: 4096 }));
    const fromFile = loadConfig({ VIGIL_DATABASE_URL: 'postgres://x/y', VIGIL_DATABASE_SCHEMA: 'log_2026' }, { configFile: file });
    expect(fromFile).toMatchObject({
      listenHost: '0.0.0.0', listenPort: 8000, dataDir: join(dir, 'd'), keyFile: join(dir, 'k/log.key'), caRootsFile: join(dir, 'ca.pem'),
      maxBatchDelayMs: 20, maxRequestBytes: 4096, databaseUrl: 'postgres://x/y', databaseSchema: 'log_2026',
    });
    const flags = loadConfig({ VIGIL_DATABASE_URL: '' }, { configFile: file, listen: '[::1]:0', dataDir: 'other', caRoots: 'roots.pem' });
    expect(flags).toMatchObject({ listenHost: '::1', listenPort: 0, dataDir: resolve('other'), caRootsFile: resolve('roots.pem'), databaseUrl: undefined });
    expect(flags.keyFile).toBe(join(dir, 'k/log.key'));
  });

  it('reads the OIDC issuers file and the development issuer switch from the file, flags overriding', () => {
    const file = join(dir, 'oidc.json');
    writeFileSync(file, JSON.stringify({ oidcIssuers: 'issuers.json', devOidc: true }));
    expect(loadConfig({}, { configFile: file })).toMatchObject({ oidcIssuersFile: join(dir, 'issuers.json'), devOidc: true });
    expect(loadConfig({}, { configFile: file, oidcIssuers: 'mine.json' })).toMatchObject({ oidcIssuersFile: resolve('mine.json') });
    expect(loadConfig({}, { devOidc: true })).toMatchObject({ oidcIssuersFile: undefined, devOidc: true });
    writeFileSync(file, JSON.stringify({ oidcIssuers: '', devOidc: 'yes' }));
    const message = configError(() => loadConfig({}, { configFile: file }));
    expect(message).toContain('oidcIssuers: want a non-empty string');
    expect(message).toContain('devOidc: want true or false');
  });

  it('reports every problem at once', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ listen: 'nowhere', maxBatchEntries: 0, maxBatchDelayMs: 1.5, keyFile: '', colour: 'blue' }));
    const message = configError(() => loadConfig({ VIGIL_DATABASE_SCHEMA: 'Robert; DROP' }, { configFile: file }));
    for (const part of ['unknown key "colour"', 'keyFile', 'listen: want HOST:PORT', 'maxBatchEntries', 'maxBatchDelayMs', 'VIGIL_DATABASE_SCHEMA']) {
      expect(message).toContain(part);
    }
    expect(configError(() => loadConfig({}, { configFile: join(dir, 'missing.json') }))).toMatch(/couldn't read the config file/);
    writeFileSync(file, '[1]');
    expect(configError(() => loadConfig({}, { configFile: file }))).toMatch(/want a JSON object/);
  });

  it('reads the witness policy file named in the config, and refuses a bad one with the other problems', () => {
    const policy = 'witness w1 w1.example+2cd9f147+BOpKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs https://w1.example\nquorum w1\n';
    writeFileSync(join(dir, 'w.policy'), policy);
    const file = join(dir, 'witnessed.json');
    writeFileSync(file, JSON.stringify({ witnessPolicy: 'w.policy', failOpenAfterMs: 60000, publishIntervalMs: 200 }));
    expect(loadConfig({}, { configFile: file })).toMatchObject({ witnessPolicyFile: join(dir, 'w.policy'), witnessPolicy: policy, failOpenAfterMs: 60000, publishIntervalMs: 200 });
    writeFileSync(join(dir, 'bad.policy'), 'witness w1\nquorum w1\n');
    writeFileSync(file, JSON.stringify({ witnessPolicy: 'bad.policy', failOpenAfterMs: -1, publishIntervalMs: 1 }));
    const message = configError(() => loadConfig({}, { configFile: file }));
    for (const part of ['witness policy', 'bad.policy', 'failOpenAfterMs', 'publishIntervalMs']) expect(message).toContain(part);
    writeFileSync(file, JSON.stringify({ witnessPolicy: 'missing.policy' }));
    expect(configError(() => loadConfig({}, { configFile: file }))).toMatch(/couldn't read the witness policy/);
  });

  it('parses listen addresses strictly', () => {
    const problems: string[] = [];
    expect(parseListen('localhost:65535', problems)).toEqual(['localhost', 65535]);
    for (const bad of ['localhost', ':80', 'h:65536', 'h:080', 'a b:1', '[::1:80']) parseListen(bad, problems);
    expect(problems.length).toBe(6);
  });
});
