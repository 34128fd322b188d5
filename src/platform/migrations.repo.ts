import type pg from 'pg';

/** A row of Prisma's own `_prisma_migrations` table: one attempt at applying a migration. */
export interface AppliedMigration {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/** Every attempt recorded, or none when no migration ever ran (the table does not exist yet). Read-only. */
export async function appliedMigrations(pool: pg.Pool): Promise<AppliedMigration[]> {
  const table = await pool.query<{ exists: boolean }>(
    `SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS exists`,
  );
  if (!table.rows[0]?.exists) return [];
  const { rows } = await pool.query<AppliedMigration>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations',
  );
  return rows;
}

/** The server's version as PostgreSQL numbers it (`150004` for 15.4, `170002` for 17.2). */
export async function serverVersionNum(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ server_version_num: string }>('SHOW server_version_num');
  return Number(rows[0]?.server_version_num);
}
