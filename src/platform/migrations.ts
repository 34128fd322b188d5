import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import { appliedMigrations, serverVersionNum } from './migrations.repo.js';

export interface MigrationStatus {
  /** In the repository, not applied (or rolled back) in the database. */
  pending: string[];
  /** Started and never finished: Prisma's CLI refuses to go on until an operator resolves them. */
  failed: string[];
  /** Applied, but the file changed since: the database may not match the schema the code expects. */
  modified: string[];
}

/**
 * Compares `prisma/migrations` with Prisma's own `_prisma_migrations` table, read-only. The service reports
 * itself started only when this is clean, so a pod never serves a database whose migration has not run.
 */
export async function readMigrationStatus(pool: pg.Pool, migrationsDir: string): Promise<MigrationStatus> {
  const local = await localMigrations(migrationsDir);
  const rows = await appliedMigrations(pool);
  const status: MigrationStatus = { pending: [], failed: [], modified: [] };
  for (const { name, checksum } of local) {
    const attempts = rows.filter((r) => r.migration_name === name && r.rolled_back_at === null);
    const done = attempts.find((r) => r.finished_at !== null);
    if (done) {
      if (done.checksum !== checksum) status.modified.push(name);
    } else if (attempts.length > 0) status.failed.push(name);
    else status.pending.push(name);
  }
  return status;
}

/**
 * The oldest PostgreSQL major version the service is tested on (CI runs 15; the embedded server and Compose run 17).
 * Older servers are refused at start rather than left to fail on the first statement they do not know.
 */
export const MIN_POSTGRES_MAJOR = 15;

/** Why the server cannot be used, or undefined when its version is one the service supports. */
export async function postgresVersionProblem(pool: pg.Pool): Promise<string | undefined> {
  return versionProblem(await serverVersionNum(pool));
}

/** The verdict on a `server_version_num`. */
export function versionProblem(versionNum: number): string | undefined {
  const major = Math.floor(versionNum / 10_000);
  return major >= MIN_POSTGRES_MAJOR
    ? undefined
    : `PostgreSQL ${major} is older than ${MIN_POSTGRES_MAJOR}, the oldest version this service supports: upgrade the server`;
}

export function isClean(status: MigrationStatus): boolean {
  return status.pending.length + status.failed.length + status.modified.length === 0;
}

async function localMigrations(dir: string) {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      // Prisma records the sha256 of the file's bytes; compare the same thing.
      checksum: createHash('sha256')
        .update(await readFile(path.join(dir, name, 'migration.sql')))
        .digest('hex'),
    })),
  );
}

const run = promisify(execFile);

/**
 * Applies pending migrations with the Prisma CLI (`prisma migrate deploy`, through the offline schema engine of
 * ADR 0001) — the same command production runs as a Job. Used by development start and by the test harness.
 */
export async function applyMigrations(databaseUrl: string, rootDir: string): Promise<string> {
  const cli = createRequire(path.join(rootDir, 'package.json')).resolve('prisma/build/index.js');
  const { stdout } = await run(process.execPath, [cli, 'migrate', 'deploy'], {
    cwd: rootDir,
    env: { ...process.env, DATABASE_URL: databaseUrl, CHECKPOINT_DISABLE: '1', NO_COLOR: '1' },
    timeout: 120_000,
    maxBuffer: 10 * 1024 * 1024,
  });
  return stdout;
}
