// db.ts: the one SQL interface of Vigil. Production talks to PostgreSQL through `pg`; the embedded
// default runs PostgreSQL itself in WASM (PGlite) in the data folder. The SQL is the same for both,
// and so are the row shapes: int8 comes back as bigint and bytea as Uint8Array.

/**
 * SqlParam is a value that may be bound to a `$n` placeholder. Every statement is parameterised.
 * An array binds a one-dimensional SQL array (cast it: `$1::text[]`, `$2::bytea[]`), for
 * `unnest`-based batch statements.
 */
export type SqlParam = string | number | bigint | boolean | Uint8Array | Date | null | readonly (string | Uint8Array | null)[];

/** Queryable runs one parameterised statement and returns its rows. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<R[]>;
}

/**
 * Db is a database handle. Contract: `query` runs in its own implicit transaction; `transaction`
 * runs fn in one transaction on one connection, commits when fn resolves and rolls back (and
 * rethrows) when it rejects, so a caller that sees the promise resolve knows the data is durable.
 * Concurrency: any number of callers; PGlite serialises them on its single connection, PostgreSQL
 * runs them on a pool. Callers that need mutual exclusion take row or advisory locks in SQL.
 * Inside a transaction callback use only `tx`: calling `db.query` there waits for the transaction
 * to end on PGlite (one connection), a deadlock.
 */
export interface Db extends Queryable {
  readonly kind: 'pg' | 'pglite';
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** DbOptions chooses the database: `url` (PostgreSQL) wins over `dataDir` (PGlite). */
export interface DbOptions {
  /** url is a postgres:// connection string; set for production. */
  url?: string;
  /** dataDir is the PGlite folder; `memory://` keeps it in memory (tests). */
  dataDir?: string;
  /** schema, when set, is created if missing and used as the search_path (tests: one per file). */
  schema?: string;
  /** maxConnections bounds the PostgreSQL pool (default 10). */
  maxConnections?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** assertSchemaName refuses schema names that are not plain lowercase identifiers. */
export function assertSchemaName(schema: string): void {
  // The name is interpolated into SET search_path / CREATE SCHEMA (identifiers cannot be bound), so
  // it must be a plain identifier.
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
}

/**
 * openDb opens PostgreSQL when `url` is given, else PGlite in `dataDir`. The drivers are loaded
 * lazily so that a production process never loads the WASM build and the embedded one needs no
 * server.
 */
export async function openDb(opts: DbOptions): Promise<Db> {
  if (opts.schema !== undefined) assertSchemaName(opts.schema);
  if (opts.url) {
    const { openPgDb } = await import('./db-pg.ts');
    return openPgDb(opts.url, opts);
  }
  if (!opts.dataDir) throw new Error('openDb needs a database URL or a data folder');
  const { openPgliteDb } = await import('./db-pglite.ts');
  return openPgliteDb(opts.dataDir, opts);
}
