// db.ts (test helper) opens a fresh database for a test file: a new schema in the machine's
// PostgreSQL, or an in-memory PGlite. Each test file uses its own names and drops them after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDb, type Db } from '../platform/db.ts';
import { POSTGRES_URL } from './services.ts';

/** freshSchemaName returns a unique schema name with a readable prefix. */
export function freshSchemaName(prefix: string): string {
  return `t_${prefix}_${randomBytes(5).toString('hex')}`;
}

/** openTestPg opens PostgreSQL on a fresh schema; drop() removes the schema. */
export async function openTestPg(prefix: string): Promise<{ db: Db; drop: () => Promise<void> }> {
  const schema = freshSchemaName(prefix);
  // The schema names the connections too (pg_stat_activity.application_name): a bench can find
  // its own backends, and a stuck test's connections say whose they are.
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('application_name', schema);
  const db = await openDb({ url: url.toString(), schema });
  return {
    db,
    drop: async () => {
      await db.close();
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** openTestPglite opens an in-memory PGlite. */
export async function openTestPglite(): Promise<{ db: Db; drop: () => Promise<void> }> {
  const db = await openDb({ dataDir: 'memory://' });
  return { db, drop: () => db.close() };
}
