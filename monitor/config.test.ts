// The monitor's config: defaults, every problem reported at once, keys and policies parsed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSignerKey } from '../tlog/note-key.ts';
import { newTestWitness } from '../test/monitor-log.ts';
import { DEFAULT_TUNING, loadConfig, parseMonitorConfig } from './config.ts';
import { isMonitorError } from './errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-monitor-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = generateSignerKey('log.example/a');

function problemsOf(value: unknown): string {
  try {
    parseMonitorConfig(value, { baseDir: dir });
  } catch (err) {
    expect(isMonitorError(err, 'invalid_config')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('config was accepted');
}

describe('monitor config', () => {
  it('reads a log with its policy file, applies defaults and the environment', () => {
    const w = newTestWitness('w1.example');
    writeFileSync(join(dir, 'policy.txt'), `witness w1 ${w.vkey} https://w1.example\nquorum w1\n`);
    const file = join(dir, 'monitor.json');
    writeFileSync(file, JSON.stringify({ logs: [{ origin: 'log.example/a', url: 'https://log.example/a/', verifierKeys: [key.vkey], witnessPolicyFile: 'policy.txt', witnessUrls: ['https://w1.example'], startIndex: 'head' }], rulesFile: 'rules.json' }));
    const c = loadConfig({ VIGIL_REDIS_URL: 'redis://r:6379', VIGIL_DATABASE_URL: 'postgres://db/x' }, { config: file });
    expect(c.logs[0]).toMatchObject({ origin: 'log.example/a', url: 'https://log.example/a', entryFormat: 'rekor', startIndex: 'head', witnessUrls: ['https://w1.example'] });
    expect(c.logs[0]!.cosigners.map((x) => x.name)).toEqual(['w1']);
    expect(c.logs[0]!.verifiers[0]!.name).toBe('log.example/a');
    expect(c).toMatchObject({ redisUrl: 'redis://r:6379', databaseUrl: 'postgres://db/x', rulesFile: join(dir, 'rules.json'), ...DEFAULT_TUNING });
  });

  it('reports every problem at once', () => {
    const msg = problemsOf({
      logs: [
        { origin: 'a', url: 'ftp://x', verifierKeys: ['nope'], entryFormat: 'xml', startIndex: '-1', witnessPolicy: 'quorum w9\n' },
        { url: 'https://b' , verifierKeys: [] },
      ],
      entriesPerJob: 300,
      pollIntervalMs: 'soon',
    });
    for (const want of ['logs[0].url', 'logs[0].verifierKeys[0]', 'logs[0].entryFormat', 'logs[0].startIndex', 'logs[0].witnessPolicy', 'logs[1].origin', 'logs[1].verifierKeys', 'entriesPerJob', 'pollIntervalMs']) {
      expect(msg).toContain(want);
    }
  });

  it('reads "subscriptions" (default false) and refuses a value that is not a boolean', () => {
    const log = { origin: 'a', url: 'https://a', verifierKeys: [key.vkey] };
    expect(parseMonitorConfig({ logs: [log] }, { baseDir: dir }).subscriptions).toBe(false);
    expect(parseMonitorConfig({ logs: [log], subscriptions: true }, { baseDir: dir }).subscriptions).toBe(true);
    expect(parseMonitorConfig({ logs: [log], subscriptions: false }, { baseDir: dir }).subscriptions).toBe(false);
    expect(problemsOf({ logs: [log], subscriptions: 'yes' })).toContain('subscriptions: want true or false');
    expect(problemsOf({ logs: [log], subscriptions: 1 })).toContain('subscriptions: want true or false');
  });

  it('takes range sizes in whole bundles, 1,024 by default, up to 4,096', () => {
    const log = { origin: 'a', url: 'https://a', verifierKeys: [key.vkey] };
    expect(parseMonitorConfig({ logs: [log] }, { baseDir: dir }).entriesPerJob).toBe(1024);
    expect(parseMonitorConfig({ logs: [log], entriesPerJob: 4096 }, { baseDir: dir }).entriesPerJob).toBe(4096);
    for (const bad of [300, 4352, 128]) expect(problemsOf({ logs: [log], entriesPerJob: bad })).toContain('entriesPerJob');
  });

  it('refuses a log listed twice and a missing config file', () => {
    const log = { origin: 'a', url: 'https://a', verifierKeys: [key.vkey] };
    expect(problemsOf({ logs: [log, log] })).toContain('listed twice');
    expect(() => loadConfig({}, {})).toThrow(/no monitor config/);
    expect(() => loadConfig({}, { config: join(dir, 'missing.json') })).toThrow(/couldn't read/);
  });
});
