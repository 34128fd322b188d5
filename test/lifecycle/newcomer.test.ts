import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/platform/embedded-postgres.js';
import { createLogger } from '../../src/platform/logger.js';
import { ROOT } from '../support/app.js';
import { createTestDatabase } from '../support/postgres.js';
import { answers, freePort, requestInFlight } from '../support/server-process.js';

/**
 * What a new user meets on a fresh clone: `npm start` without DATABASE_URL (the embedded PostgreSQL), Ctrl-C in a
 * terminal, `npm run dev`, a run killed outright, and the database scripts without DATABASE_URL. A terminal's Ctrl-C
 * is SIGINT to the whole foreground process group, so each run gets a process group of its own and the signal goes to
 * the group. NODE_ENV=test and given secrets keep the runs away from the checkout's `.env` and `.data/`.
 */

const RUN_TIMEOUT = 180_000;
let workDir: string;
let clusterDir: string;
const processes: ChildProcess[] = [];

beforeAll(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'mingus-newcomer-'));
  clusterDir = path.join(workDir, 'postgres');
});

afterAll(async () => {
  for (const child of processes) if (child.exitCode === null && child.pid) killGroup(child.pid, 'SIGKILL');
  const pid = postmasterPid();
  if (pid) {
    process.kill(pid, 'SIGINT');
    while (isAlive(pid) && existsSync(path.join(clusterDir, 'postmaster.pid'))) await sleep(50);
  }
  rmSync(workDir, { recursive: true, force: true });
});

function baseEnv(port: number): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'test',
    HOST: '0.0.0.0',
    PORT: String(port),
    REDIS_URL: inject('redisUrl') ?? '',
    EMBEDDED_POSTGRES_DIR: clusterDir,
    HEALTH_TOKEN: randomBytes(32).toString('base64url'),
    JWT_SECRET: randomBytes(32).toString('base64url'),
    CSRF_SECRET: randomBytes(32).toString('base64url'),
    EMAIL_HASH_KEY: randomBytes(32).toString('base64url'),
    FIELD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    SHUTDOWN_TIMEOUT_MS: '5000',
  };
}

/** `command` in a process group of its own, as a terminal runs it; resolves once /health/startup answers 200. */
async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...baseEnv(port), ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.push(child);
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = (p: string) => `http://127.0.0.1:${port}${p}`;
  if (!(await answers(url('/health/startup'), 200, child, 120_000))) throw new Error(`never started:\n${output}`);
  return { child, pid: child.pid as number, port, url, exited, output: () => output };
}

const startServer = (env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', 'src/main.ts'], env);

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function postmasterPid(): number | undefined {
  try {
    return Number(readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` runs. An orphaned server that stopped stays a zombie until PID 1 reaps it, which `kill(pid, 0)` cannot
 * tell from a live process; /proc can, where there is one.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return !existsSync('/proc');
  }
}

/** Lines logged at error or fatal level, or anything carrying a stack. */
const errorLines = (output: string) =>
  output.split('\n').filter((line) => /"level":"(error|fatal)"|"stack"|^\s+at /.test(line));

function npmRun(script: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile('npm', ['run', '--silent', script], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('a first run without DATABASE_URL', () => {
  it(
    'when Ctrl-C reaches the process group during a request, answers it, stops the embedded PostgreSQL after the drain and exits 0 without an error',
    async () => {
      const server = await startServer();
      expect(server.output()).toContain(`listening on http://localhost:${server.port}`);
      const postgres = postmasterPid() as number;
      expect(isAlive(postgres)).toBe(true);

      const request = requestInFlight(server.port);
      await request.accepted;
      killGroup(server.pid, 'SIGINT');
      request.finish();

      expect((await request.response).status).toBe(204);
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('shutdown complete');
      expect(errorLines(server.output())).toEqual([]);
      expect(isAlive(postgres)).toBe(false);
      expect(existsSync(path.join(clusterDir, 'postmaster.pid'))).toBe(false);
    },
    RUN_TIMEOUT,
  );

  it(
    'when a run is killed outright, the next start adopts the PostgreSQL it left, a command run meanwhile shares it, and only the adopter stops it',
    async () => {
      const killed = await startServer();
      const postgres = postmasterPid() as number;
      process.kill(killed.pid, 'SIGKILL');
      await killed.exited;
      expect(isAlive(postgres)).toBe(true);

      const adopter = await startServer();
      expect(adopter.output()).toContain('adopted the embedded PostgreSQL a previous run left running');
      expect(postmasterPid()).toBe(postgres);
      // What an operator command (npm run maintenance) does while the server runs.
      const sharerLog: string[] = [];
      const sharer = await startEmbeddedPostgres(
        clusterDir,
        createLogger({ level: 'info', destination: { write: (line: string) => sharerLog.push(line) } }),
      );
      expect(sharerLog.join('')).toContain('already running for another process; sharing it');

      await sharer.stop();
      expect(isAlive(postgres)).toBe(true);
      expect((await fetch(adopter.url('/health/readiness'))).status).toBe(200);

      killGroup(adopter.pid, 'SIGTERM');
      expect(await adopter.exited).toBe(0);
      expect(isAlive(postgres)).toBe(false);
      expect(errorLines(adopter.output())).toEqual([]);
    },
    RUN_TIMEOUT,
  );
});

describe('npm run dev', () => {
  it(
    'when Ctrl-C reaches the process group (tsx watch relays it once more), drains the request in flight and exits 0',
    async () => {
      const database = await createTestDatabase();
      try {
        const dev = await run('npm', ['run', 'dev'], { DATABASE_URL: database.url });
        const request = requestInFlight(dev.port);
        await request.accepted;
        killGroup(dev.pid, 'SIGINT');
        request.finish();

        expect((await request.response).status).toBe(204);
        // npm itself ends by the signal, as a terminal expects; the app's own exit code is in its last line.
        await dev.exited;
        expect(dev.output()).toMatch(/"exitCode":0,"msg":"shutdown complete"/);
        expect(dev.output()).not.toContain('second signal');
      } finally {
        await database.drop();
      }
    },
    RUN_TIMEOUT,
  );
});

describe('the database scripts without DATABASE_URL', () => {
  const scriptEnv = (dir: string) => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'test',
    EMBEDDED_POSTGRES_DIR: dir,
  });

  it(
    'when the development database runs, db:migrate and db:drift use it and say so',
    async () => {
      const embedded = await startEmbeddedPostgres(clusterDir, createLogger({ level: 'silent' }));
      try {
        const [migrate, drift, backup] = await Promise.all([
          npmRun('db:migrate', scriptEnv(clusterDir)),
          npmRun('db:drift', scriptEnv(clusterDir)),
          npmRun('db:backup', { ...scriptEnv(clusterDir), BACKUP_DIR: path.join(workDir, 'backups') }),
        ]);
        expect(migrate.code, migrate.stderr).toBe(0);
        expect(migrate.stdout).toMatch(/No pending migrations|applied/);
        expect(drift.code, drift.stderr).toBe(0);
        expect(drift.stdout).toContain('This is an empty migration');
        for (const result of [migrate, drift, backup]) {
          expect(result.stderr).toMatch(
            /DATABASE_URL is not set: using the development database postgres@127\.0\.0\.1/,
          );
        }
      } finally {
        await embedded.stop();
      }
    },
    RUN_TIMEOUT,
  );

  it('when there is no development database, or it is not running, says how to start it', async () => {
    const stopped = path.join(workDir, 'stopped');
    writeFileSync(`${stopped}.json`, JSON.stringify({ port: await freePort(), password: 'x'.repeat(24) }));

    const [missing, notRunning] = await Promise.all([
      npmRun('db:drift', scriptEnv(path.join(workDir, 'never-created'))),
      npmRun('db:backup', scriptEnv(stopped)),
    ]);

    expect(missing.code).toBe(69);
    expect(missing.stderr).toContain('there is no development database yet');
    expect(missing.stderr).toContain('`npm start` creates it');
    expect(notRunning.code).toBe(69);
    expect(notRunning.stderr).toContain('is not running: start it with `npm start`');
    expect(notRunning.stderr).toContain('`npm run db:backup` again');
  });
});
