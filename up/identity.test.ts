import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../platform/clock.ts';
import { openDb } from '../platform/db.ts';
import { loadUpConfig, upPaths } from './config.ts';
import { isUpError } from './errors.ts';
import { ensureLog, ensureWitnessKey } from './identity.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-up-identity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function upErrorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isUpError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

describe('ensureLog and ensureWitnessKey', () => {
  it('make the keys once, load them after, and refuse a lost log key or another origin', async () => {
    const paths = upPaths(dir);
    const db = await openDb({ dataDir: paths.logDbDir });
    try {
      const made = await ensureLog(paths.logKeyFile, { value: 'localhost:8080', explicit: false }, db, systemClock);
      const again = await ensureLog(paths.logKeyFile, { value: 'localhost:9999', explicit: false }, db, systemClock);
      expect(again.vkey).toBe(made.vkey);
      expect(await upErrorCode(ensureLog(paths.logKeyFile, { value: 'other.example', explicit: true }, db, systemClock))).toBe('origin_mismatch');
      // The key gone while the log stays: no new key (it would be another log), and none left behind.
      const keyText = readFileSync(paths.logKeyFile);
      unlinkSync(paths.logKeyFile);
      expect(await upErrorCode(ensureLog(paths.logKeyFile, { value: 'localhost:8080', explicit: false }, db, systemClock))).toBe('key_missing');
      expect(() => readFileSync(paths.logKeyFile)).toThrow();
      expect(keyText.length).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
    const w = ensureWitnessKey(paths.witnessDir('w1'), 'localhost:8080/witness/w1');
    expect(ensureWitnessKey(paths.witnessDir('w1'), 'ignored').vkey).toBe(w.vkey);
    expect(w.name).toBe('localhost:8080/witness/w1');
  });

  it('validates the flags, reporting every problem', () => {
    expect(loadUpConfig({ port: '0' })).toMatchObject({ port: 0, host: '127.0.0.1', origin: undefined });
    try {
      loadUpConfig({ port: '08080', host: 'a b', origin: 'x+y', data: '' });
      throw new Error('no error');
    } catch (err) {
      expect(isUpError(err, 'invalid_config')).toBe(true);
      for (const part of ['--port', '--host', '--origin', '--data']) expect((err as Error).message).toContain(part);
    }
  });
});
