import { cpSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIN_POSTGRES_MAJOR,
  postgresVersionProblem,
  readMigrationStatus,
  versionProblem,
} from '../../src/platform/migrations.js';
import { ROOT } from '../support/app.js';
import { createTestDatabase } from '../support/postgres.js';

const MIGRATIONS = path.join(ROOT, 'prisma', 'migrations');
const names = readdirSync(MIGRATIONS, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
  // end() resolves before its connections have closed, and the database is then dropped WITH (FORCE): a connection
  // the drop ends must not surface as an uncaught error.
  pool.on('error', () => undefined);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

describe('readMigrationStatus', () => {
  it('when every migration is applied, reports nothing pending, failed or modified', async () => {
    expect(names.length).toBeGreaterThan(0);
    expect(await readMigrationStatus(pool, MIGRATIONS)).toEqual({ pending: [], failed: [], modified: [] });
  });

  it('when the repository has a migration the database lacks, reports it pending', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mingus-migrations-'));
    cpSync(MIGRATIONS, dir, { recursive: true });
    const extra = '99990101000000_later_feature';
    cpSync(path.join(dir, names[0] as string), path.join(dir, extra), { recursive: true });
    writeFileSync(path.join(dir, extra, 'migration.sql'), 'SELECT 1;\n');
    expect(await readMigrationStatus(pool, dir)).toEqual({ pending: [extra], failed: [], modified: [] });
  });

  it('when an applied migration file was edited afterwards, reports it modified', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mingus-migrations-'));
    cpSync(MIGRATIONS, dir, { recursive: true });
    const first = names[0] as string;
    writeFileSync(path.join(dir, first, 'migration.sql'), '-- edited after it was applied\n', { flag: 'a' });
    expect((await readMigrationStatus(pool, dir)).modified).toEqual([first]);
  });

  it('when a migration started and never finished, reports it failed', async () => {
    const last = names.at(-1) as string;
    await pool.query('UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = $1', [last]);
    try {
      expect(await readMigrationStatus(pool, MIGRATIONS)).toMatchObject({ failed: [last], pending: [] });
    } finally {
      await pool.query('UPDATE _prisma_migrations SET finished_at = started_at WHERE migration_name = $1', [last]);
    }
  });

  it('when the database has never been migrated, reports every migration pending', async () => {
    const empty = await createTestDatabase();
    const emptyPool = new pg.Pool({ connectionString: empty.url, max: 1 });
    // end() resolves before its connections have closed, and the database is then dropped WITH (FORCE): a connection
    // the drop ends must not surface as an uncaught error.
    emptyPool.on('error', () => undefined);
    try {
      await emptyPool.query('DROP TABLE _prisma_migrations');
      expect((await readMigrationStatus(emptyPool, MIGRATIONS)).pending).toEqual(names);
    } finally {
      await emptyPool.end();
      await empty.drop();
    }
  });
});

describe('the PostgreSQL version check', () => {
  it('when the server is the one the tests run on, reports no problem', async () => {
    expect(await postgresVersionProblem(pool)).toBeUndefined();
  });

  it('when a server is older than the oldest supported major version, names both versions', () => {
    expect(versionProblem(MIN_POSTGRES_MAJOR * 10_000)).toBeUndefined();
    expect(versionProblem(180_000)).toBeUndefined();
    expect(versionProblem((MIN_POSTGRES_MAJOR - 1) * 10_000 + 12)).toBe(
      `PostgreSQL ${MIN_POSTGRES_MAJOR - 1} is older than ${MIN_POSTGRES_MAJOR}, the oldest version this service supports: upgrade the server`,
    );
  });
});
