import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config/config.js';
import { createDatabase, type Database } from '../platform/db.js';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../platform/embedded-postgres.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { applyMigrations } from '../platform/migrations.js';

/**
 * What the operator commands (maintenance, keys:rotate) share: the validated configuration and the database,
 * DATABASE_URL or in development the embedded cluster `npm start` uses. Diagnostics go to stderr; stdout carries
 * only the command's report.
 */

// src/cli or dist/cli: the repository (or image) root is two levels up either way.
const ROOT_DIR = path.resolve(import.meta.dirname, '../..');

export class CliFailure extends Error {}

export function readCliConfig(): Config {
  const pkg = JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as { version: string };
  try {
    return loadConfig(process.env, { rootDir: ROOT_DIR, packageVersion: pkg.version });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliFailure(err.message);
    throw err;
  }
}

export function cliLogger(): Logger {
  return createLogger({ level: 'warn', destination: { write: (line: string) => process.stderr.write(line) } });
}

export interface CliDatabase {
  db: Database;
  close(): Promise<void>;
}

export async function openCliDatabase(config: Config, logger: Logger): Promise<CliDatabase> {
  let url = config.db.url;
  let embedded: EmbeddedPostgresHandle | undefined;
  if (!url) {
    if (config.production) throw new CliFailure('DATABASE_URL is required in production');
    try {
      embedded = await startEmbeddedPostgres(config.db.embeddedDir, logger);
    } catch (err) {
      throw new CliFailure(
        `could not start the embedded PostgreSQL in ${config.db.embeddedDir}: ${(err as Error).message}\n` +
          'If `npm start` (or `npm run dev`) is running, it holds that data directory: stop it and retry, ' +
          'or set DATABASE_URL to reach a database server.',
      );
    }
    await applyMigrations(embedded.url, config.paths.root);
    url = embedded.url;
  }
  const db = createDatabase({ url, poolMax: 2, logger });
  return {
    db,
    async close() {
      await db.close();
      await embedded?.stop();
    },
  };
}

/** Runs a command's main: a CliFailure is a one-line refusal (exit 1); anything else is a crash (exit 1 too). */
export function runCli(name: string, main: () => Promise<number>): void {
  main()
    .then((code) => process.exit(code))
    .catch((err: unknown) => {
      process.stderr.write(
        err instanceof CliFailure
          ? `${err.message}\n`
          : `${name} failed: ${err instanceof Error ? err.message : err}\n`,
      );
      process.exit(1);
    });
}

/**
 * `--batch-size <1-max>` (and `--help`) of the batch commands: the size, or undefined after printing the usage for
 * `--help`. A bad argument prints the usage to stderr and exits 2.
 */
export function readBatchSize(usage: string, limits: { fallback: number; max: number }): number | undefined {
  try {
    const { values } = parseArgs({
      options: { 'batch-size': { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(usage);
      return undefined;
    }
    const size = Number(values['batch-size'] ?? limits.fallback);
    if (!Number.isInteger(size) || size < 1 || size > limits.max) {
      throw new Error(`--batch-size must be 1 to ${limits.max}`);
    }
    return size;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
}
