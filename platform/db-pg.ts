import pg from 'pg';
import type { Db, DbOptions, Queryable, SqlParam } from './db.ts';

const INT8_OID = 20;
const BYTEA_OID = 17;

// Row shapes match PGlite's: int8 → bigint (never a lossy number), bytea → plain Uint8Array.
const parseBytea = pg.types.getTypeParser(BYTEA_OID) as (v: string) => Buffer;
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (v: string) => BigInt(v);
    if (oid === BYTEA_OID) {
      return (v: string) => {
        const b = parseBytea(v);
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      };
    }
    return pg.types.getTypeParser(oid, format);
  },
};

function bind(params: readonly SqlParam[] | undefined): unknown[] | undefined {
  // pg turns a bigint into text itself; Uint8Array is wrapped as Buffer without copying.
  return params?.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}

function queryable(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: readonly SqlParam[]): Promise<R[]> {
      const res = await client.query({ text: sql, values: bind(params), types: typeParsers });
      return res.rows as R[];
    },
  };
}

/** openPgDb connects a pool to PostgreSQL; see Db for the contract. */
export async function openPgDb(url: string, opts: DbOptions): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.maxConnections ?? 10,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  // A pool error is an idle connection dying (server restart); the next query reconnects.
  pool.on('error', () => {});
  if (opts.schema) {
    // Processes starting together on a new schema race in IF NOT EXISTS (the loser fails on the
    // catalog's unique index); serialise them on an advisory lock, as applyMigrations does.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`vigil_schema:${opts.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
  const q = queryable(pool);
  return {
    kind: 'pg',
    query: q.query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A checked-out client is not watched by the pool: without a listener, its connection dying
      // (server restart, pg_terminate_backend) is an unhandled 'error' that ends the process.
      let broken: Error | undefined;
      const onError = (err: Error) => { broken = err; };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(queryable(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => { broken ??= rollbackErr; });
        throw err;
      } finally {
        client.off('error', onError);
        // release(err) destroys a connection in an unknown state instead of pooling it.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
