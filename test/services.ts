// services.ts tells tests whether PostgreSQL and Redis answer. Outside CI a test that needs a
// missing service skips with a reason; under CI (CI set) a missing service fails the run, because
// .ci/run promised to start them.
import net from 'node:net';

/** POSTGRES_URL is the PostgreSQL server the tests use (trust auth, database `test`). */
export const POSTGRES_URL = process.env.VIGIL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** REDIS_URL is the Redis server the tests use. */
export const REDIS_URL = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function answers(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port || defaultPort) });
    sock.setTimeout(2000);
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('timeout', () => { sock.destroy(); resolve(false); });
    sock.once('error', () => resolve(false));
  });
}

/**
 * serviceAvailable reports whether a service's port answers. Under CI it throws instead of
 * returning false, so that a test which needs the service fails rather than skips.
 */
export async function serviceAvailable(name: 'postgres' | 'redis'): Promise<boolean> {
  const ok = name === 'postgres' ? await answers(POSTGRES_URL, 5432) : await answers(REDIS_URL, 6379);
  if (!ok && process.env.CI) {
    throw new Error(`${name} does not answer (${name === 'postgres' ? POSTGRES_URL : REDIS_URL}); CI needs it`);
  }
  return ok;
}
