import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSignerKey } from '../tlog/note-key.ts';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_PULL_INTERVAL_MS,
  DEFAULT_PULL_TIMEOUT_MS,
  loadConfig,
  parseConfig,
  type ParseConfigOptions,
} from './config.ts';
import { isWitnessError } from './errors.ts';

const LOG = generateSignerKey('example.com/log');
const LISTED = generateSignerKey('listed.example/log');
const LIST = `logs/v0\n\nvkey ${LISTED.vkey}\nqpd 1440\ncontact ops@listed.example\n`;

function opts(files: Record<string, string> = {}, more: Partial<ParseConfigOptions> = {}): ParseConfigOptions {
  return {
    baseDir: '/etc/vigil',
    env: {},
    readFile: (p) => {
      const f = files[p];
      if (f === undefined) throw new Error(`ENOENT: ${p}`);
      return f;
    },
    ...more,
  };
}

function problemsOf(text: string, o = opts()): string {
  try {
    parseConfig(text, o);
  } catch (err) {
    expect(isWitnessError(err, 'invalid_config')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('config was accepted');
}

describe('witness config', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('fills in the named defaults', () => {
    const c = parseConfig(JSON.stringify({ logs: [{ origin: 'example.com/log', vkeys: [LOG.vkey] }] }), opts());
    expect(c).toMatchObject({
      name: undefined,
      listenHost: '127.0.0.1',
      listenPort: 7380,
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      maxInFlight: DEFAULT_MAX_IN_FLIGHT,
      pullTimeoutMs: DEFAULT_PULL_TIMEOUT_MS,
      databaseUrl: undefined,
    });
    expect(c.keyFile).toBe(join(c.dataDir, 'witness.key'));
    expect(c.logs).toEqual([{ origin: 'example.com/log', vkeys: [LOG.vkey], qpd: undefined, pull: undefined }]);
  });

  it('reads logs/v0 lists relative to the config, with their qpd, and paths, listen and the database from the overrides', () => {
    const text = JSON.stringify({
      name: 'w.example',
      listen: '0.0.0.0:80',
      dataDir: 'data',
      logs: [{ origin: 'example.com/log', vkeys: [LOG.vkey], qpd: 100, pull: { url: 'https://example.com/log/', intervalMs: 5000 } }],
      logLists: ['lists/testing'],
    });
    const c = parseConfig(text, opts({ '/etc/vigil/lists/testing': LIST }, { listen: '[::1]:0', env: { VIGIL_DATABASE_URL: 'postgres://db/w' } }));
    expect(c.dataDir).toBe('/etc/vigil/data');
    expect([c.listenHost, c.listenPort]).toEqual(['::1', 0]);
    expect(c.databaseUrl).toBe('postgres://db/w');
    expect(c.logs).toEqual([
      { origin: 'example.com/log', vkeys: [LOG.vkey], qpd: 100, pull: { url: 'https://example.com/log', intervalMs: 5000 } },
      { origin: 'listed.example/log', vkeys: [LISTED.vkey], qpd: 1440, pull: undefined },
    ]);
    const d = parseConfig(JSON.stringify({ logs: [{ origin: 'example.com/log', vkeys: [LOG.vkey], pull: { url: 'http://l' } }] }), opts({}, { dataDir: 'rel' }));
    expect(d.logs[0]?.pull?.intervalMs).toBe(DEFAULT_PULL_INTERVAL_MS);
    expect(d.dataDir).toBe(join(process.cwd(), 'rel'));
  });

  it('reports every problem at once', () => {
    const message = problemsOf(
      JSON.stringify({
        nmae: 'typo',
        listen: 'localhost',
        maxBodyBytes: 12,
        maxInFlight: 1.5,
        logs: [
          { origin: 'example.com/log', vkeys: ['not a vkey'] },
          { vkeys: [LOG.vkey], qpd: 0, pull: { url: 'ftp://x', intervalMs: 1 } },
          { origin: 'listed.example/log', vkeys: [LISTED.vkey] },
        ],
        logLists: ['missing', 'lists/testing'],
      }),
      opts({ '/etc/vigil/lists/testing': LIST }),
    );
    for (const want of [
      'unknown key "nmae"',
      'listen: want HOST:PORT',
      'maxBodyBytes',
      'maxInFlight',
      'logs[1].origin is required',
      'logs[1].qpd',
      'logs[1].pull.url',
      'logs[1].pull.intervalMs',
      'log list /etc/vigil/missing',
      'vkey "not a vkey"',
      'listed twice',
    ]) {
      expect(message).toContain(want);
    }
  });

  it('refuses text that is not JSON, and a missing file', () => {
    expect(problemsOf('{ name: 1 }')).toMatch(/not JSON/);
    expect(() => loadConfig({}, { configFile: '/nonexistent/witness.json' })).toThrow(/couldn't read the witness config/);
  });

  it('loadConfig reads the file from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-witness-config-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'list'), LIST);
    writeFileSync(join(dir, 'w.json'), JSON.stringify({ logLists: ['list'], keyFile: 'k' }));
    const c = loadConfig({}, { configFile: join(dir, 'w.json') });
    expect(c.keyFile).toBe(join(dir, 'k'));
    expect(c.logs.map((l) => l.origin)).toEqual(['listed.example/log']);
  });
});
