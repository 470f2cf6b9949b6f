// Leader election for the sequencer: one process per log sequences, the holder of a session-level
// PostgreSQL advisory lock (keyed by log_state.lock_key). The lock is only a liveness device: the
// safety net is the sequencer's compare-and-swap on log_state (SELECT … FOR UPDATE, then compare
// size and root), so two processes that both believe they lead can waste a batch, never fork the log.
// A session lock is released by PostgreSQL when its connection ends, so a killed leader is replaced
// as soon as its TCP connection drops.
import type { Db, Queryable, SqlParam } from '../platform/db.ts';

/**
 * LeaderLock is the right to sequence one log. Contract: tryAcquire resolves true if this process
 * holds the lock (idempotent while held); isHeld checks that the lock's session is still alive (a
 * false answer means the lock may be held by another process now); release gives it up. Calls must
 * not overlap (the log calls them from one timer). Errors other than a lost session propagate.
 */
export interface LeaderLock {
  tryAcquire(): Promise<boolean>;
  isHeld(): Promise<boolean>;
  release(): Promise<void>;
}

interface Session extends Queryable {
  close(): Promise<void>;
}

/**
 * openLeaderLock returns the advisory lock `key` of the database. On PostgreSQL it holds one pooled
 * connection for as long as the lock is held or wanted. On PGlite, the single embedded connection is
 * the session: one process, always the leader, through the same SQL.
 */
export function openLeaderLock(db: Db, key: bigint): LeaderLock {
  let session: Session | undefined;
  let held = false;
  const drop = async (): Promise<void> => {
    held = false;
    const s = session;
    session = undefined;
    await s?.close();
  };
  const isHeld = async (): Promise<boolean> => {
    if (!held || session === undefined) return false;
    try {
      await session.query('SELECT 1');
      return true;
    } catch {
      await drop(); // the connection died, and the lock with it
      return false;
    }
  };
  return {
    async tryAcquire() {
      if (held) return isHeld();
      session ??= db.kind === 'pg' ? await pinSession(db) : { query: <R>(sql: string, p?: readonly SqlParam[]) => db.query<R>(sql, p), close: async () => {} };
      try {
        const rows = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
        held = rows[0]?.ok === true;
      } catch (err) {
        await drop();
        throw err;
      }
      return held;
    },
    isHeld,
    async release() {
      if (held && session !== undefined) {
        await session.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => {});
      }
      await drop();
    },
  };
}

// pinSession keeps one connection of the Db's pool for a session-level lock. The Db interface has no
// "dedicated connection" call, so it borrows the connection of a transaction, ends that transaction
// at once (a lock holder must not sit idle in a transaction), and begins an empty one again before
// handing the connection back. (platform/db.ts would be the better home for a session API.)
function pinSession(db: Db): Promise<Session> {
  return new Promise((resolve, reject) => {
    let opened = false;
    let letGo!: () => void;
    const released = new Promise<void>((r) => (letGo = r));
    const finished = db.transaction(async (tx) => {
      await tx.query('COMMIT');
      opened = true;
      resolve({
        query: <R>(sql: string, params?: readonly SqlParam[]) => tx.query<R>(sql, params),
        close: async () => {
          letGo();
          await finished.catch(() => {});
        },
      });
      await released;
      await tx.query('BEGIN');
    });
    finished.catch((err: unknown) => {
      if (!opened) reject(err);
    });
  });
}
