import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isUpError } from './errors.ts';
import { lockDataDir } from './lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-up-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockDataDir', () => {
  it('refuses a folder a live process holds, takes over a stale lock, and releases', () => {
    const pidFile = join(dir, 'up.pid');
    writeFileSync(pidFile, `${process.ppid}\n`); // alive: the test runner's parent
    try {
      lockDataDir(pidFile);
      throw new Error('no error');
    } catch (err) {
      expect(isUpError(err, 'locked')).toBe(true);
    }
    const gone = spawnSync(process.execPath, ['-e', '']).pid!; // exited: a lock left by a SIGKILL
    writeFileSync(pidFile, `${gone}\n`);
    const lock = lockDataDir(pidFile);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    expect(existsSync(pidFile)).toBe(false);
  });
});
