import type { Db } from './db.ts';

/** Migration is one forward-only schema step of a component. Ids sort in application order. */
export interface Migration {
  id: string;
  sql: string;
}

/**
 * applyMigrations applies, in order and each in its own transaction, the migrations of `component`
 * that the database has not seen yet, and returns their ids. Two processes starting at once are
 * serialised by an advisory lock, so each migration runs exactly once. It refuses to start when the
 * database has a migration this code does not know (the database is newer than the code).
 */
export async function applyMigrations(db: Db, component: string, migrations: readonly Migration[]): Promise<string[]> {
  // Two processes starting on a fresh schema would race in CREATE TABLE IF NOT EXISTS (PostgreSQL
  // checks "exists" before it inserts the catalog rows, so the loser fails on pg_type's unique
  // index): create the table under the same kind of lock the migrations take.
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['vigil_migrations']);
    await tx.query(`CREATE TABLE IF NOT EXISTS vigil_migrations (
      component text NOT NULL,
      id text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (component, id))`);
  });
  const applied: string[] = [];
  for (const m of migrations) {
    const ran = await db.transaction(async (tx) => {
      // hashtext gives a stable 32-bit lock key per component; the lock ends with the transaction.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`vigil_migrations:${component}`]);
      const seen = await tx.query<{ id: string }>('SELECT id FROM vigil_migrations WHERE component = $1', [component]);
      const known = new Set(migrations.map((x) => x.id));
      const unknown = seen.map((r) => r.id).filter((id) => !known.has(id));
      if (unknown.length > 0) {
        throw new Error(`database has ${component} migrations this code does not know: ${unknown.join(', ')}`);
      }
      if (seen.some((r) => r.id === m.id)) return false;
      await tx.query(m.sql);
      await tx.query('INSERT INTO vigil_migrations (component, id) VALUES ($1, $2)', [component, m.id]);
      return true;
    });
    if (ran) applied.push(m.id);
  }
  return applied;
}
