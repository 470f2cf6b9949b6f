// Leader election for tailers: one active tailer per log, elected through a Redis lease (SET NX PX
// with a random token, renewed every leaseMs/3 by a compare-and-expire script). A second tailer
// process waits and takes over when the lease expires. Because a paused leader (a long GC, a
// frozen VM) can outlive its lease without noticing, every lease carries a fence token, strictly
// larger than any earlier one, and the tailer's database writes are refused when a larger token
// has already written (monitor/tailer.ts commit).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Lease is a held leadership; `lost` turns true once a renewal fails or after release(). */
export interface Lease {
  readonly fence: bigint;
  readonly lost: boolean;
  release(): Promise<void>;
}

/**
 * LeaderElector hands out leases by name. tryAcquire returns undefined when another holder has the
 * lease. `minFence` is the largest fence already written (from the database), so a fence stays
 * larger than it even if Redis lost its counter.
 */
export interface LeaderElector {
  tryAcquire(name: string, minFence: bigint): Promise<Lease | undefined>;
}

// Scripts run atomically in Redis: renew or release only while we still hold the lease.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const NEXT_FENCE = `local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('INCR', KEYS[1])`;

/** redisElector elects through `redis` under keys `<prefix>:monitor:leader:<name>`. */
export function redisElector(redis: Redis, opts: { prefix: string; leaseMs: number; onLost?: (name: string) => void }): LeaderElector {
  return {
    async tryAcquire(name, minFence) {
      const key = `${opts.prefix}:monitor:leader:${name}`;
      const token = randomBytes(16).toString('hex');
      const ok = await redis.set(key, token, 'PX', opts.leaseMs, 'NX');
      if (ok !== 'OK') return undefined;
      const fence = BigInt((await redis.eval(NEXT_FENCE, 1, `${key}:fence`, minFence.toString())) as number);
      let lost = false;
      const timer = setInterval(() => {
        redis
          .eval(RENEW, 1, key, token, String(opts.leaseMs))
          .then((r) => {
            if (r !== 1 && !lost) {
              lost = true;
              clearInterval(timer);
              opts.onLost?.(name);
            }
          })
          // A failed renewal is not a lost lease yet: it expires on its own if Redis stays away,
          // and the fence guards the database meanwhile.
          .catch(() => {});
      }, Math.max(10, Math.floor(opts.leaseMs / 3)));
      timer.unref();
      return {
        fence,
        get lost() {
          return lost;
        },
        async release() {
          lost = true;
          clearInterval(timer);
          await redis.eval(RELEASE, 1, key, token).catch(() => {});
        },
      };
    },
  };
}

/**
 * localElector is the embedded mode's elector: one process, so every acquire succeeds. Fences
 * come from the clock (milliseconds), above minFence, so they grow across restarts too.
 */
export function localElector(nowMs: () => number = Date.now): LeaderElector {
  let last = 0n;
  return {
    async tryAcquire(_name, minFence) {
      let fence = BigInt(nowMs());
      if (fence <= minFence) fence = minFence + 1n;
      if (fence <= last) fence = last + 1n;
      last = fence;
      let lost = false;
      return {
        fence,
        get lost() {
          return lost;
        },
        async release() {
          lost = true;
        },
      };
    },
  };
}
