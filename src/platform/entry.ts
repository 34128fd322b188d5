import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Config, ConfigError, loadConfig } from '../config/config.js';
import type { Database } from './db.js';
import type { Logger } from './logger.js';
import { isClean, postgresVersionProblem, readMigrationStatus } from './migrations.js';

const MIGRATION_POLL_MS = 2_000;

/** A signal repeated within this time is the same request, not the second one that exits at once. */
const SAME_SIGNAL_WINDOW_MS = 1_000;

/**
 * The configuration an entry point (the API, the worker) runs with, or, when it is refused, the reasons on stderr
 * and exit 1: no logger exists yet, and the operator must see them whatever LOG_LEVEL says.
 */
export function readConfig(rootDir: string): Config {
  const pkg = JSON.parse(readFileSync(path.join(rootDir, 'package.json'), 'utf8')) as { version: string };
  try {
    return loadConfig(process.env, { rootDir, packageVersion: pkg.version });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

/**
 * SIGTERM and SIGINT ask for a graceful shutdown. A terminal sends Ctrl-C to every process of its foreground group,
 * and a watcher in that group relays it once more (tsx watch under `npm run dev`, node --watch): the copies arrive
 * within milliseconds and are one request. Only a later signal, or another one, is the second request.
 */
export function onShutdownSignal(handler: (signal: NodeJS.Signals) => void) {
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (first && first.signal === signal && now - first.at < SAME_SIGNAL_WINDOW_MS) return;
    first ??= { signal, at: now };
    handler(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * Startup stays 503 until the server is a supported PostgreSQL and holds every migration of this build, so traffic
 * never meets old tables.
 */
export async function waitForMigrations(db: Database, config: Config, logger: Logger) {
  let reported = '';
  for (;;) {
    // A server too old for the service needs a person, like a failed migration: startup stays 503 and says why.
    // An unreachable server is reported by the migration check below.
    const tooOld = await postgresVersionProblem(db.pool).catch(() => undefined);
    if (tooOld) {
      if (tooOld !== reported) logger.error({ err: { message: tooOld } }, 'unsupported PostgreSQL version');
      reported = tooOld;
      await new Promise((resolve) => setTimeout(resolve, MIGRATION_POLL_MS));
      continue;
    }
    const status = await readMigrationStatus(db.pool, config.db.migrationsDir).catch((err: Error) => {
      logger.warn({ err }, 'could not read migration status');
      return undefined;
    });
    if (status && isClean(status)) return;
    const summary = JSON.stringify(status ?? 'unknown');
    if (summary !== reported) {
      // Pending migrations resolve themselves once the Job runs; failed or edited ones need a person.
      if (status && status.failed.length + status.modified.length > 0) {
        logger.error(
          { migrations: status },
          'migrations failed or were edited after being applied: see docs/operations.md',
        );
      } else logger.warn({ migrations: status }, 'waiting for migrations: run `npm run db:migrate`');
      reported = summary;
    }
    await new Promise((resolve) => setTimeout(resolve, MIGRATION_POLL_MS));
  }
}
