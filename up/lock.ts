// One `vigil up` per data folder: two processes on the same PGlite folders would corrupt them.
// The lock is DIR/up.pid, made with O_EXCL; a lock left by a process that is gone (SIGKILL, power
// loss) is taken over. Best effort against a second start, not a distributed lock.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { UpError } from './errors.ts';

/** lockDataDir takes `<dir>/up.pid` for this process; UpError 'locked' if a live process holds it. */
export function lockDataDir(pidFile: string): { release(): void } {
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(pidFile, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return { release: () => unlinkSync(pidFile) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const holder = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new UpError('locked', `another vigil up (pid ${holder}) runs on this data folder (${pidFile})`);
    }
    unlinkSync(pidFile); // stale: its process is gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
