// The witness's SQL schema: one row per (witness, origin) holding the latest checkpoint that
// witness cosigned. Several witnesses may share one database (production PostgreSQL); the
// `witness` column, the witness's name, keeps their states apart (Sunlight scopes its lock
// backend the same way, by witness key and origin).
import type { Db } from '../platform/db.ts';
import { applyMigrations, type Migration } from '../platform/migrate.ts';

/** WITNESS_MIGRATION_COMPONENT is the component name of the witness's rows in vigil_migrations. */
export const WITNESS_MIGRATION_COMPONENT = 'witness';

/**
 * WITNESS_MIGRATIONS are the witness's forward-only schema steps. `size` is canonical decimal
 * text (a uint64 does not fit int8), checked by a constraint so that comparing sizes as text is
 * comparing numbers; `root` is the 32-byte tree hash; `note` is the cosigned note, byte for byte.
 */
export const WITNESS_MIGRATIONS: readonly Migration[] = [
  {
    id: '0001-witness-checkpoints',
    sql: `CREATE TABLE witness_checkpoints (
      witness text NOT NULL,
      origin text NOT NULL,
      size text NOT NULL CHECK (size ~ '^(0|[1-9][0-9]{0,19})$'),
      root bytea NOT NULL CHECK (octet_length(root) = 32),
      note text NOT NULL CHECK (note <> ''),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (witness, origin))`,
  },
];

/**
 * migrateWitnessDb applies the witness migrations the database has not seen and returns their
 * ids. Safe to call from several processes at once (applyMigrations serialises them).
 */
export function migrateWitnessDb(db: Db): Promise<string[]> {
  return applyMigrations(db, WITNESS_MIGRATION_COMPONENT, WITNESS_MIGRATIONS);
}
